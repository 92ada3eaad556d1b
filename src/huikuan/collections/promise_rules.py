"""Promises to pay as pure rules: was each instalment kept, partly kept or broken, and so the
promise as a whole, judged from the money received on its invoices.

How money is attributed: every payment applied to the promise's invoices on or after the day
the promise was made counts, in date order, towards the **oldest instalment still short**
(oldest due date first). An instalment is therefore covered by the money received by its
deadline beyond what the earlier instalments took: with instalments of 500 and 500 and 800
received before the first deadline, the first is kept and 300 goes to the second.

The deadline of an instalment is its due date plus the grace in **working days**
(``WorkCalendar.add_workdays``: a due date on a holiday with no grace moves to the next working
day, and the grace counts only days worked, so a grace of 2 over the National Day holiday ends
two working days after it). Money received on the deadline itself is in time.

An instalment is

* ``kept`` once money covering it in full has been received by its deadline (judged as soon as
  that is true, even before the due date);
* ``partly`` when its deadline has passed with some but not all of it received;
* ``broken`` when its deadline has passed with nothing received towards it;
* ``open`` otherwise (not yet judged).

The promise is ``broken`` as soon as any instalment is broken, else ``partly`` as soon as one is
partly kept, else ``kept`` when every instalment is kept, else ``open``. A promise is judged
once: the first verdict that is not ``open`` is final (the customer did not do as promised,
whatever comes later).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from huikuan.core.workdays import WorkCalendar

DEFAULT_GRACE_WORKDAYS = 2


class PromiseStatus(enum.StrEnum):
    OPEN = "open"
    KEPT = "kept"
    PARTLY = "partly"
    BROKEN = "broken"


STATUS_LABELS = {
    PromiseStatus.OPEN: ("待履行", "open"),
    PromiseStatus.KEPT: ("已履行", "kept"),
    PromiseStatus.PARTLY: ("部分履行", "partly kept"),
    PromiseStatus.BROKEN: ("违约", "broken"),
}


@dataclass(frozen=True, slots=True)
class Instalment:
    due_on: dt.date
    amount: int  # fen, > 0


@dataclass(frozen=True, slots=True)
class Received:
    on: dt.date
    amount: int  # fen applied to the promise's invoices that day


@dataclass(frozen=True, slots=True)
class InstalmentVerdict:
    due_on: dt.date
    amount: int
    deadline: dt.date
    paid: int  # attributed to it by as_of (oldest instalment first), at most its amount
    status: PromiseStatus


@dataclass(frozen=True, slots=True)
class Verdict:
    status: PromiseStatus
    instalments: tuple[InstalmentVerdict, ...]

    @property
    def paid(self) -> int:
        return sum(i.paid for i in self.instalments)


def deadline(due_on: dt.date, grace_workdays: int, calendar: WorkCalendar) -> dt.date:
    """The last day money for an instalment is in time: ``grace_workdays`` working days after
    the due date (the next working day when the grace is 0 and the due date is a day off)."""
    if grace_workdays < 0:
        raise ValueError("grace must not be negative")
    return calendar.add_workdays(due_on, grace_workdays)


def judge(
    instalments: Sequence[Instalment],
    received: Sequence[Received],
    *,
    made_on: dt.date,
    as_of: dt.date,
    grace_workdays: int,
    calendar: WorkCalendar,
) -> Verdict:
    """Each instalment's verdict and the promise's on ``as_of``. Money received before
    ``made_on`` or after ``as_of`` does not count."""
    ordered = sorted(instalments, key=lambda i: i.due_on)
    money = sorted((r for r in received if made_on <= r.on <= as_of), key=lambda r: r.on)

    def received_by(day: dt.date) -> int:
        return sum(r.amount for r in money if r.on <= day)

    total_now = received_by(as_of)
    verdicts = []
    before = 0  # the amounts of the earlier instalments, which take the money first
    for instalment in ordered:
        limit = deadline(instalment.due_on, grace_workdays, calendar)
        in_time = min(max(received_by(limit) - before, 0), instalment.amount)
        paid = min(max(total_now - before, 0), instalment.amount)
        if in_time >= instalment.amount:
            status = PromiseStatus.KEPT
        elif as_of <= limit:
            status = PromiseStatus.OPEN
        elif in_time > 0:
            status = PromiseStatus.PARTLY
        else:
            status = PromiseStatus.BROKEN
        verdicts.append(
            InstalmentVerdict(instalment.due_on, instalment.amount, limit, paid, status)
        )
        before += instalment.amount
    return Verdict(overall(v.status for v in verdicts), tuple(verdicts))


def overall(statuses: Iterable[PromiseStatus]) -> PromiseStatus:
    """The promise's status from its instalments' (see the module's rules)."""
    found = list(statuses)
    if PromiseStatus.BROKEN in found:
        return PromiseStatus.BROKEN
    if PromiseStatus.PARTLY in found:
        return PromiseStatus.PARTLY
    if found and all(s is PromiseStatus.KEPT for s in found):
        return PromiseStatus.KEPT
    return PromiseStatus.OPEN
