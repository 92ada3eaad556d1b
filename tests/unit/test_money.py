"""Money is read once at the edge and kept in fen; these are the shapes people write it in."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.core.money import (
    MAX_FEN,
    AmountError,
    decimal_string,
    format_amount,
    parse_amount,
    to_decimal,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.5", 123450),
        ("¥1,234,567.89", 123456789),
        ("￥12.30", 1230),
        ("RMB 100", 10000),
        ("100元", 10000),
        ("１２３．４５", 12345),
        ("-5.00", -500),
        ("(1,000.00)", -100000),
        ("0.01", 1),
        (".5", 50),
        (" 7 ", 700),
        (1234, 123400),
        (1234.5, 123450),
        (0.1 + 0.2, None),
    ],
)
def test_amounts_are_read_as_people_write_them(text: object, fen: int | None) -> None:
    if fen is None:
        with pytest.raises(AmountError, match="两位小数"):
            parse_amount(text)
    else:
        assert parse_amount(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "12,34", "1.005", "¥", "--5", "1e5", "NaN"])
def test_text_that_is_not_money_is_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(AmountError) as excinfo:
        parse_amount(text)
    assert str(excinfo.value)


def test_amounts_beyond_ten_trillion_yuan_are_rejected() -> None:
    with pytest.raises(AmountError, match="too large"):
        parse_amount("99999999999999999")


def test_formatting_for_people_and_for_programs() -> None:
    assert format_amount(123456789) == "¥1,234,567.89"
    assert format_amount(-1200) == "-¥12.00"
    assert format_amount(5) == "¥0.05"
    assert decimal_string(-5) == "-0.05"
    assert decimal_string(100000) == "1000.00"
    assert to_decimal(12345) == Decimal("123.45")


@given(st.integers(min_value=-MAX_FEN + 1, max_value=MAX_FEN - 1))
def test_every_amount_round_trips_through_both_text_forms(fen: int) -> None:
    assert parse_amount(decimal_string(fen)) == fen
    assert parse_amount(format_amount(fen)) == fen
    assert parse_amount(to_decimal(fen)) == fen
