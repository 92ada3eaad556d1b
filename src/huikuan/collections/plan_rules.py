"""Payment plan rules (pure): the instalment schedule and how instalments are judged.

Schedule: equal instalments (monthly or weekly from a first date) or explicit dates and
amounts. Equal instalments are the balance divided by the count, rounded down to the fen, with
the remainder on the **last** instalment, so the instalments always add up to the balance.
Monthly dates keep the first date's day of the month, moved back to the month's last day when
the month is shorter (31 January → 28/29 February → 31 March).

Interest (optional, ``annual_interest_bp`` basis points a year, 600 = 6%) is simple interest on
the declining principal: each instalment carries the interest on the principal still owed
between the previous due date (the agreement date for the first) and its own, **actual/365**
day count, rounded half up to the fen. Interest is shown on the schedule; it is not part of the
principal the plan covers.

Judging: the money that reduced the plan's invoices since the agreement is applied to the
instalments oldest first. An instalment not fully paid (principal) by the end of its grace
period (``grace_workdays`` working days after its due date) is missed; one missed instalment
defaults the plan. A plan whose instalments are all paid is completed.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from huikuan.core.workdays import WorkCalendar


class ScheduleError(ValueError):
    """A schedule that cannot be agreed; the message is bilingual."""

    @property
    def message(self) -> str:
        return str(self.args[0])


class Frequency(enum.StrEnum):
    MONTHLY = "monthly"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class Instalment:
    due_on: dt.date
    amount: int  # principal, fen
    interest: int = 0  # fen


def add_months(day: dt.date, months: int, keep_day: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(keep_day, month_calendar.monthrange(year, month)[1]))


def equal_dates(first: dt.date, count: int, frequency: Frequency) -> tuple[dt.date, ...]:
    if count < 1:
        raise ScheduleError("分期数至少为 1 / at least one instalment")
    if frequency is Frequency.WEEKLY:
        return tuple(first + dt.timedelta(weeks=i) for i in range(count))
    return tuple(add_months(first, i, first.day) for i in range(count))


def split_equal(balance: int, count: int) -> tuple[int, ...]:
    """``count`` amounts adding up to ``balance``: equal, the remainder fen on the last."""
    if count < 1:
        raise ScheduleError("分期数至少为 1 / at least one instalment")
    if balance < count:
        raise ScheduleError(
            f"金额 {balance} 分不足以分成 {count} 期 / {balance} fen cannot be split {count} ways"
        )
    share = balance // count
    return (share,) * (count - 1) + (balance - share * (count - 1),)


def interest_for(principal: int, annual_bp: int, days: int) -> int:
    """Simple interest, actual/365, rounded half up to the fen."""
    numerator = principal * annual_bp * max(days, 0)
    denominator = 10_000 * 365
    return (2 * numerator + denominator) // (2 * denominator)


def build_schedule(
    balance: int,
    *,
    agreed_on: dt.date,
    dates: Sequence[dt.date],
    amounts: Sequence[int] | None = None,
    annual_interest_bp: int = 0,
) -> tuple[Instalment, ...]:
    """The instalments for ``balance``: ``amounts`` as given (they must add up to the balance)
    or equal shares; interest on the declining balance when a rate is given."""
    if balance <= 0:
        raise ScheduleError("计划金额必须大于零 / the plan's balance must be positive")
    if not dates:
        raise ScheduleError("至少需要一期 / at least one instalment")
    if annual_interest_bp < 0:
        raise ScheduleError("利率不能为负 / the interest rate cannot be negative")
    if list(dates) != sorted(set(dates)):
        raise ScheduleError("各期日期必须递增且不重复 / instalment dates must increase")
    if dates[0] < agreed_on:
        raise ScheduleError("第一期不能早于约定日 / the first instalment is before the agreement")
    if amounts is None:
        amounts = split_equal(balance, len(dates))
    elif len(amounts) != len(dates):
        raise ScheduleError("每一期都需要日期和金额 / each instalment needs a date and an amount")
    elif any(a <= 0 for a in amounts):
        raise ScheduleError("每期金额必须大于零 / each instalment must be positive")
    elif sum(amounts) != balance:
        raise ScheduleError(
            f"各期合计 {sum(amounts)} 分不等于计划金额 {balance} 分 / "
            f"the instalments add up to {sum(amounts)} fen, not {balance}"
        )
    owed, previous, result = balance, agreed_on, []
    for due_on, amount in zip(dates, amounts, strict=True):
        interest = interest_for(owed, annual_interest_bp, (due_on - previous).days)
        result.append(Instalment(due_on, amount, interest))
        owed, previous = owed - amount, due_on
    return tuple(result)


class InstalmentStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    MISSED = "missed"


class PlanStatus(enum.StrEnum):
    PROPOSED = "proposed"  # recorded, waiting for a person who may manage credit
    ACTIVE = "active"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Judged:
    paid: int
    status: InstalmentStatus


def judge(
    instalments: Sequence[Instalment],
    received: int,
    *,
    as_of: dt.date,
    calendar: WorkCalendar,
    grace_workdays: int = 2,
) -> list[Judged]:
    """Apply ``received`` to the instalments oldest first; an instalment still short after
    ``grace_workdays`` working days past its due date is missed."""
    left = max(received, 0)
    judged = []
    for instalment in sorted(instalments, key=lambda i: i.due_on):
        paid = min(left, instalment.amount)
        left -= paid
        if paid >= instalment.amount:
            status = InstalmentStatus.PAID
        elif as_of > calendar.add_workdays(instalment.due_on, grace_workdays):
            status = InstalmentStatus.MISSED
        else:
            status = InstalmentStatus.OPEN
        judged.append(Judged(paid, status))
    return judged


def plan_status(judged: Sequence[Judged]) -> PlanStatus:
    if any(j.status is InstalmentStatus.MISSED for j in judged):
        return PlanStatus.DEFAULTED
    if all(j.status is InstalmentStatus.PAID for j in judged):
        return PlanStatus.COMPLETED
    return PlanStatus.ACTIVE
