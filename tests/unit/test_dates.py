import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.core.dates import DateError, format_date, parse_date

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-05",
        "2024/3/5",
        "2024.3.5",
        "20240305",
        "2024年3月5日",
        "２０２４－０３－０５",
        "2024-03-05 14:30:00",
        45356,
        45356.0,
        "45356",
        dt.datetime(2024, 3, 5, 9, 0),
        MARCH_5,
    ],
)
def test_dates_from_erps_and_spreadsheets(value: object) -> None:
    assert parse_date(value) == MARCH_5


def test_an_explicit_format_reads_day_first_exports() -> None:
    assert parse_date("05/03/2024", "%d/%m/%Y") == MARCH_5
    with pytest.raises(DateError, match="%d/%m/%Y"):
        parse_date("2024-03-05", "%d/%m/%Y")


@pytest.mark.parametrize(
    "value", ["", "2024-02-30", "2024-13-01", "yesterday", "12345678", 123, 1.5]
)
def test_impossible_dates_are_rejected(value: object) -> None:
    with pytest.raises(DateError):
        parse_date(value)


@given(st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2060, 12, 31)))
def test_formatted_dates_read_back_unchanged(day: dt.date) -> None:
    assert parse_date(format_date(day)) == day
    assert parse_date(day.strftime("%Y%m%d")) == day
    serial = (day - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == day


@pytest.mark.parametrize("value", ["0024-03-05", "2224-01-01", dt.date(1899, 12, 31)])
def test_dates_outside_1900_to_2199_are_typing_mistakes(value: object) -> None:
    with pytest.raises(DateError, match="1900-2199"):
        parse_date(value)
