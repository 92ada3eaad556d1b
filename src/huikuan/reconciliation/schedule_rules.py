"""When a customer's statement of account is due, and which period it covers (pure rules).

- **monthly**, on day *d* (1–28): on day *d* of every month, for the previous calendar month;
- **quarterly**, on day *d*: on day *d* of January, April, July and October, for the previous
  calendar quarter;
- **settlement** (a retail chain's 结算日 *d*): on day *d* of every month, for the days since
  the previous settlement day up to the day before this one, so the chain checks exactly what it
  is about to settle.

``latest_period`` answers the most recent statement due on or before a date, so a daily run
that did not run on the day (a weekend, a holiday, a server down) still sends it the next time;
the caller keeps it to one statement per customer and period end.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import enum
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


class Frequency(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SETTLEMENT = "settlement"


@dataclass(frozen=True, slots=True)
class Period:
    due_on: dt.date  # the day the statement is sent
    start: dt.date
    end: dt.date


def schedule_problem(frequency: str, day: int) -> str | None:
    if frequency not in {f.value for f in Frequency}:
        return (
            f"对账频率须为 monthly、quarterly 或 settlement：{frequency} / frequency must be "
            f"monthly, quarterly or settlement, not {frequency}"
        )
    if not 1 <= day <= 28:
        return f"发送日须在 1 到 28 之间：{day} / the day must be 1 to 28, not {day}"
    return None


def latest_period(frequency: str, day: int, on: dt.date) -> Period:
    """The statement most recently due on or before ``on``."""
    frequency = Frequency(frequency)
    due = _month_day(on.year, on.month, day)
    if due > on:
        due = _month_day(*_previous_month(on.year, on.month), day)
    if frequency is Frequency.QUARTERLY:
        while due.month not in (1, 4, 7, 10):
            due = _month_day(*_previous_month(due.year, due.month), day)
        end = due.replace(day=1) - ONE_DAY  # the quarter ended with the month before
        start = _month_day(*_months_back(end.year, end.month, 2), 1)
        return Period(due, start, end)
    if frequency is Frequency.MONTHLY:
        end = due.replace(day=1) - ONE_DAY
        return Period(due, end.replace(day=1), end)
    previous = _month_day(*_previous_month(due.year, due.month), day)
    return Period(due, previous, due - ONE_DAY)


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, month_calendar.monthrange(year, month)[1]))


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _months_back(year: int, month: int, count: int) -> tuple[int, int]:
    for _ in range(count):
        year, month = _previous_month(year, month)
    return year, month
