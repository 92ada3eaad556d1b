"""Business dates: parsing what spreadsheets and ERPs write, and formatting as YYYY-MM-DD.

Every computation in Huikuan takes an explicit ``as_of`` date; only the CLI and web layers
read the clock (through :func:`today`), so every run can be repeated and tested.
"""

from __future__ import annotations

import datetime as dt
import re

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９／－．", "0123456789/-.")
# Excel counts days from 1899-12-30 (that origin absorbs Lotus 1-2-3's phantom 1900-02-29).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers this size cover 1954..2064, wide enough for any invoice and narrow enough
# that an amount or an invoice number is not mistaken for a date.
_EXCEL_SERIAL_RANGE = range(20000, 60000)


class DateError(ValueError):
    """A date that cannot be read; the message says why."""


# Business dates outside these years are typing mistakes (0024 for 2024), and far enough from
# the limits of date arithmetic that aging buckets and day counts never overflow.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)


def check_business_date(day: dt.date) -> dt.date:
    if not EARLIEST <= day <= LATEST:
        raise DateError(
            f"日期 {day.isoformat()} 超出 1900-2199 年 / date {day.isoformat()} is outside the years 1900-2199"
        )
    return day


def today() -> dt.date:
    """The calendar date now. Only the CLI and web layers may call this."""
    return dt.date.today()


def parse_date(value: object, date_format: str | None = None) -> dt.date:
    """Read a date as written by people, ERPs and spreadsheets.

    Understands ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``20240305``, ``2024年3月5日``,
    Excel serial numbers (``45356``) and datetime cells; ``date_format`` (strptime syntax)
    takes precedence when given, for exports with day-first dates.
    """
    return check_business_date(_read_date(value, date_format))


def _read_date(value: object, date_format: str | None) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_excel_serial(value)
    text = str(value).translate(_FULL_WIDTH_DIGITS).strip()
    if not text:
        raise DateError("日期为空 / date is empty")
    if date_format:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError as exc:
            raise DateError(
                f"日期 '{text}' 不符合格式 {date_format} / date '{text}' does not match {date_format}"
            ) from exc
    return _parse_date_text(text)


def _parse_date_text(text: str) -> dt.date:
    match = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?",
        text,
    )
    if match is None:
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if match is None and re.fullmatch(r"\d{5}(\.0+)?", text):
        return _from_excel_serial(float(text))
    if match is None:
        raise DateError(f"无法识别的日期 '{text}' / not a date: '{text}'")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DateError(f"不存在的日期 '{text}' / no such date: '{text}'") from exc


def _from_excel_serial(serial: float) -> dt.date:
    if serial != int(serial) or int(serial) not in _EXCEL_SERIAL_RANGE:
        raise DateError(f"无法识别的日期 '{serial}' / not a date: '{serial}'")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def format_date(day: dt.date | None) -> str:
    """YYYY-MM-DD, the only way Huikuan writes a date; empty for no date."""
    return day.isoformat() if day else ""
