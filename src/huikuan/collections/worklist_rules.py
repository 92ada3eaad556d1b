"""The collector's worklist, as pure rules: why a customer is on today's list, how much acting
today is worth, and the customer's payment habits read from history.

**Expected value of acting today** = amount at stake × collectability × urgency, in fen.

* *Amount at stake*: the chased overdue balance (open amount less open disputes, leaving out
  invoices under a plan in good standing or a promise not yet due) plus what is still owed on
  promise instalments due today or tomorrow (those invoices are not chased, but the call is).
* *Collectability* (0–1) multiplies four factors, each shown on the row:
  the credit grade (AAA 1.00 … C 0.40, no grade 0.75); the age of the oldest overdue invoice
  (≤30 days 1.00, ≤60 0.90, ≤90 0.80, ≤180 0.60, ≤365 0.40, older 0.25: money gets harder to
  collect the longer it waits); promises broken in the last year (× 0.80 each, at most three);
  the share of the open balance under open dispute (× (1 − share / 2)).
* *Urgency* (≥ 1) is 1 plus: a phone or visit task due +0.5; a promise due today +0.5 (tomorrow
  +0.3); a promise broken in the last week +0.5; a dispute raised in the last week +0.3; a large
  new overdue +0.3; the oldest overdue invoice 31–90 days +0.2, 91–180 +0.4, older +0.6; and
  +1.0 once it is ``LIMITATION_WARN_DAYS`` overdue, before the three-year limitation period runs.

The value grows with the amount at stake, all else equal, so more money never ranks lower.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

NEW_DAYS = 7  # "new": broken, raised or fallen overdue within the last week
LARGE_NEW_OVERDUE = 5_000_000  # fen: ¥50,000.00 fallen overdue within NEW_DAYS
BROKEN_LOOKBACK_DAYS = 365
LIMITATION_WARN_DAYS = 900  # the limitation period is three years (1,095 days) from the due date
GOOD_OUTCOMES = frozenset({"reached", "promised", "paid_claimed"})

GRADE_FACTOR: Mapping[str, Fraction] = {
    "AAA": Fraction(1),
    "AA": Fraction(95, 100),
    "A": Fraction(90, 100),
    "BBB": Fraction(80, 100),
    "BB": Fraction(70, 100),
    "B": Fraction(55, 100),
    "C": Fraction(40, 100),
}
NO_GRADE_FACTOR = Fraction(75, 100)
# (days overdue up to and including, factor); older than the last bound: AGE_FACTOR_OLDEST.
AGE_FACTORS: Sequence[tuple[int, Fraction]] = (
    (30, Fraction(1)),
    (60, Fraction(90, 100)),
    (90, Fraction(80, 100)),
    (180, Fraction(60, 100)),
    (365, Fraction(40, 100)),
)
AGE_FACTOR_OLDEST = Fraction(25, 100)
BROKEN_FACTOR = Fraction(80, 100)
MAX_BROKEN_COUNTED = 3
# Urgency for the age of the oldest overdue invoice: (from days overdue, extra).
AGE_URGENCY: Sequence[tuple[int, Fraction]] = (
    (181, Fraction(6, 10)),
    (91, Fraction(4, 10)),
    (31, Fraction(2, 10)),
)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # call_due, visit_due, promise_today, promise_tomorrow, broken_promise, ...
    text: str  # "中文 / English"


@dataclass(frozen=True, slots=True)
class Situation:
    """What is known about one customer on ``as_of`` (amounts in fen)."""

    as_of: dt.date
    chased_overdue: int = 0
    oldest_due: dt.date | None = None  # the oldest chased overdue invoice's due date
    grade: str | None = None
    open_amount: int = 0  # the whole open balance, disputed included
    disputed: int = 0  # under open dispute
    broken_promises: int = 0  # judged broken within BROKEN_LOOKBACK_DAYS
    last_broken_on: dt.date | None = None
    last_dispute_on: dt.date | None = None  # the latest open dispute's raised_on
    task_channel: str = ""  # phone_task or visit_task: an open task due by as_of
    promise_due_on: dt.date | None = None  # the earliest open instalment due today or tomorrow
    promise_due_amount: int = 0  # still owed on instalments due today or tomorrow
    new_overdue: int = 0  # chased amount fallen overdue within NEW_DAYS


@dataclass(frozen=True, slots=True)
class Score:
    value: int  # expected fen collected by acting today
    at_stake: int
    collectability: Fraction
    urgency: Fraction
    reasons: tuple[Reason, ...]


def days_overdue(situation: Situation) -> int:
    if situation.oldest_due is None:
        return 0
    return max((situation.as_of - situation.oldest_due).days, 0)


def age_factor(days: int) -> Fraction:
    for bound, factor in AGE_FACTORS:
        if days <= bound:
            return factor
    return AGE_FACTOR_OLDEST


def collectability(situation: Situation) -> Fraction:
    grade = GRADE_FACTOR.get(situation.grade or "", NO_GRADE_FACTOR)
    age = age_factor(days_overdue(situation))
    broken = BROKEN_FACTOR ** min(max(situation.broken_promises, 0), MAX_BROKEN_COUNTED)
    share = (
        min(Fraction(situation.disputed, situation.open_amount), Fraction(1))
        if situation.open_amount > 0 and situation.disputed > 0
        else Fraction(0)
    )
    return grade * age * broken * (1 - share / 2)


def _recent(day: dt.date | None, as_of: dt.date) -> bool:
    return day is not None and 0 <= (as_of - day).days < NEW_DAYS


def reasons_and_urgency(
    situation: Situation, *, large_overdue: int = LARGE_NEW_OVERDUE
) -> tuple[tuple[Reason, ...], Fraction]:
    """Why the customer is on today's list, and the urgency those reasons add up to."""
    as_of = situation.as_of
    found: list[tuple[Reason, Fraction]] = []
    if situation.task_channel == "visit_task":
        found.append((Reason("visit_due", "拜访任务到期 / visit due"), Fraction(1, 2)))
    elif situation.task_channel:
        found.append((Reason("call_due", "电话任务到期 / call due"), Fraction(1, 2)))
    if situation.promise_due_on == as_of:
        found.append(
            (Reason("promise_today", "承诺付款今天到期 / promise due today"), Fraction(1, 2))
        )
    elif situation.promise_due_on == as_of + dt.timedelta(days=1):
        found.append(
            (Reason("promise_tomorrow", "承诺付款明天到期 / promise due tomorrow"), Fraction(3, 10))
        )
    if _recent(situation.last_broken_on, as_of):
        found.append((Reason("broken_promise", "违约承诺 / broken promise"), Fraction(1, 2)))
    if _recent(situation.last_dispute_on, as_of):
        found.append((Reason("new_dispute", "新争议 / new dispute"), Fraction(3, 10)))
    if situation.new_overdue >= large_overdue > 0:
        shown = _yuan(large_overdue)
        found.append(
            (
                Reason(
                    "large_new_overdue", f"新增大额逾期 ≥ {shown} / large new overdue ≥ {shown}"
                ),
                Fraction(3, 10),
            )
        )
    days = days_overdue(situation)
    if days >= LIMITATION_WARN_DAYS:
        found.append(
            (
                Reason("limitation", f"逾期 {days} 天，诉讼时效将届满 / {days} days overdue, "
                       "limitation period running out"),
                Fraction(1),
            )
        )  # fmt: skip
    age_extra = next((extra for start, extra in AGE_URGENCY if days >= start), Fraction(0))
    urgency = 1 + age_extra + sum((extra for _, extra in found), Fraction(0))
    return tuple(reason for reason, _ in found), urgency


def score(situation: Situation, *, large_overdue: int = LARGE_NEW_OVERDUE) -> Score:
    reasons, urgency = reasons_and_urgency(situation, large_overdue=large_overdue)
    at_stake = max(situation.chased_overdue, 0) + max(situation.promise_due_amount, 0)
    chance = collectability(situation)
    value = at_stake * chance * urgency
    return Score(round(value), at_stake, chance, urgency, reasons)


def needs_attention(situation: Situation, *, large_overdue: int = LARGE_NEW_OVERDUE) -> bool:
    """On the list: a task, a promise due, a broken promise, a new dispute or a large new
    overdue (the age of the debt alone ranks a customer but does not put it on the list)."""
    reasons, _ = reasons_and_urgency(situation, large_overdue=large_overdue)
    return any(reason.code != "limitation" for reason in reasons)


def rank_key(value: int, at_stake: int, code: str) -> tuple[int, int, str]:
    """Sort key: highest expected value first, then the larger amount, then the code."""
    return (-value, -at_stake, code)


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


# ---- payment habits ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Habits:
    typical_pay_day: int | None = None  # day of the month most payments arrive
    average_days_late: Fraction | None = None  # settled invoices in the look-back, early = 0
    recent_days_late: Fraction | None = None  # the last three settled invoices
    last_contact_at: dt.datetime | None = None
    last_outcome: str = ""
    best_contact: str = ""  # who was reached most often with a good outcome
    best_hour: int | None = None  # the hour of day with the most good outcomes


def mode(counts: Mapping[int, int]) -> int | None:
    """The most frequent value; on a tie the smallest (the earliest day or hour)."""
    if not counts:
        return None
    return min(counts, key=lambda value: (-counts[value], value))


def best_name(counts: Iterable[tuple[str, int, dt.datetime | None]]) -> str:
    """The name with most good outcomes; on a tie the one reached most recently."""
    rows = [(name, count, at) for name, count, at in counts if name.strip() and count > 0]
    if not rows:
        return ""
    name, _, _ = max(rows, key=lambda row: (row[1], row[2] or dt.datetime.min, row[0]))
    return name


def ratio(total: object, count: object) -> Fraction | None:
    """An average from a SQL sum and count (None when nothing was counted)."""
    if not count:
        return None
    return Fraction(int(total or 0), int(count))  # type: ignore[call-overload]
