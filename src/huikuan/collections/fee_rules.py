"""Late fees (逾期违约金) as pure rules: exact arithmetic, one rounding per invoice and period.

**Which days are charged.** Interest runs from the day after the (holiday-adjusted) due date
plus the contract's grace days, up to and including the day the money arrives (自逾期之日起至
实际付款之日止): the fee for day *D* is charged on the overdue balance standing at the start of
*D*, so a balance change dated *D* (a payment, a dispute raised or resolved) counts from *D + 1*.

**Rate and day count.** A contract rate is a daily fraction (万分之五 = ``0.0005`` a day) or an
annual rate converted to a daily one with a day count: ``actual/365`` (年利率 / 365, the usual
practice and the default) or ``actual/360`` (日利率 = 年利率 / 360, seen in bank-style
contracts). The conversion is exact (fractions), never rounded.

**Simple, never compounding** unless the contract says so: a compounding contract adds the
fees charged in earlier periods and still unpaid to the base of the next period (interest on
interest period by period, as a bank capitalises interest at 结息日), never within a period.

**Rounding.** The fee of one invoice over one period is computed exactly (Σ daily base × daily
rate as a fraction) and rounded **half up to the fen once**. So splitting a period into k
sub-periods, or a balance into k parts, changes the total by at most half a fen per piece;
the exact amounts add up exactly, so no fen is lost or invented before that one rounding.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ONE_DAY = dt.timedelta(days=1)


class DayCount(enum.StrEnum):
    ACTUAL_365 = "actual/365"
    ACTUAL_360 = "actual/360"

    @property
    def days_in_year(self) -> int:
        return 365 if self is DayCount.ACTUAL_365 else 360


@dataclass(frozen=True, slots=True)
class FeeRate:
    """A contract's late-fee rate: ``value`` a day, or a year when ``annual``."""

    value: Decimal
    annual: bool = False
    day_count: DayCount = DayCount.ACTUAL_365
    compound: bool = False

    @classmethod
    def per_day(cls, value: Decimal | str, *, compound: bool = False) -> FeeRate:
        return cls(Decimal(value), compound=compound)

    @classmethod
    def per_year(
        cls,
        value: Decimal | str,
        *,
        day_count: DayCount = DayCount.ACTUAL_365,
        compound: bool = False,
    ) -> FeeRate:
        return cls(Decimal(value), annual=True, day_count=day_count, compound=compound)

    @property
    def daily(self) -> Fraction:
        """The exact daily rate."""
        rate = Fraction(self.value)
        return rate / self.day_count.days_in_year if self.annual else rate

    @property
    def text(self) -> str:
        """The rate as stored on a charge, e.g. ``0.0005/day`` or ``0.0365/year actual/365``."""
        written = f"{self.value.normalize():f}"
        base = f"{written}/year {self.day_count.value}" if self.annual else f"{written}/day"
        return base + (" compound" if self.compound else "")


@dataclass(frozen=True, slots=True)
class Fee:
    """One invoice's fee over one period."""

    start: dt.date  # the first day charged (inclusive)
    end: dt.date  # the last day charged (inclusive)
    days: int  # days with an overdue balance charged
    base: int  # average daily base over those days, fen (rounded half up)
    exact: Fraction  # the fee before rounding, fen
    amount: int  # rounded half up to the fen


def round_half_up(value: Fraction) -> int:
    """Half up, away from zero for negatives (fees are never negative)."""
    if value >= 0:
        return int((value + Fraction(1, 2)).__floor__())
    return -round_half_up(-value)


def estimated_fee(open_amount: int, days_overdue: int, *, rate: FeeRate, grace_days: int) -> int:
    """What a letter shows for days not charged yet: ``open_amount`` × daily rate × the days
    beyond the grace, exact and rounded half up once; simple even for a compounding rate (the
    charged months carry the compounding)."""
    days = days_overdue - grace_days
    if days <= 0 or open_amount <= 0 or rate.daily <= 0:
        return 0
    return round_half_up(open_amount * rate.daily * days)


def first_fee_day(effective_due: dt.date, grace_days: int) -> dt.date:
    """The first day a fee runs: the day after the due date plus the grace days."""
    return effective_due + dt.timedelta(days=max(grace_days, 0) + 1)


def late_fee(
    history: Sequence[tuple[dt.date, int]],
    *,
    start: dt.date,
    end: dt.date,
    first_day: dt.date,
    rate: FeeRate,
    unpaid_fees: int = 0,
) -> Fee:
    """The fee for the days ``start``..``end`` (inclusive) not before ``first_day``.

    ``history`` holds (date, overdue balance after that day's changes); the balance charged on a
    day is that of the latest change dated before it (0 before the first). ``unpaid_fees``
    (fees charged in earlier periods and unpaid) join the base of the days with an overdue
    balance, only for a compounding rate."""
    begin = max(start, first_day)
    daily = rate.daily
    extra = unpaid_fees if rate.compound else 0
    balance_days = 0
    days = 0
    day = begin
    points = sorted(history)
    index = 0
    current = 0
    while day <= end:
        while index < len(points) and points[index][0] < day:
            current = points[index][1]
            index += 1
        base = max(current, 0) + extra if current > 0 else 0
        if base > 0:
            balance_days += base
            days += 1
        day += ONE_DAY
    exact = balance_days * daily if daily > 0 else Fraction(0)
    average = round_half_up(Fraction(balance_days, days)) if days else 0
    return Fee(begin, end, days, average, exact, round_half_up(exact))


def zero_from(history: Sequence[tuple[dt.date, int]]) -> dt.date | None:
    """The first day from which the base stays 0 for good (the day after the last change, when
    that change left nothing overdue), or None: no fee runs on or after that day."""
    if not history:
        return None
    day, base = max(history)
    return day + ONE_DAY if base <= 0 else None


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=month_calendar.monthrange(day.year, day.month)[1])


def month_periods(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``first``..``last`` cut at calendar month ends: the charging periods."""
    periods = []
    day = first
    while day <= last:
        end = min(month_end(day), last)
        periods.append((day, end))
        day = end + ONE_DAY
    return periods


def last_closed_month_end(as_of: dt.date) -> dt.date:
    """The last month end on or before ``as_of``: fees are charged for whole months."""
    if as_of == month_end(as_of):
        return as_of
    return as_of.replace(day=1) - ONE_DAY
