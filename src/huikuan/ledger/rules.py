"""Pure ledger rules: open balances, allocation, aging buckets, DSO. No database, no I/O.

Worked example of allocation (oldest first by due date, then issue date, then number)::

    open items  INV-1 due 03-01 open 300.00 | INV-2 due 04-01 open 500.00
    payment 600.00  ->  INV-1 300.00, INV-2 300.00, unapplied 0.00
    payment 900.00  ->  INV-1 300.00, INV-2 500.00, unapplied 100.00 (kept as credit)
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class OverAllocation(ValueError):
    """An allocation larger than what is open on the invoice or left on the payment."""


@dataclass(frozen=True, slots=True)
class OpenItem:
    invoice_id: int
    number: str
    issue_date: dt.date
    due_date: dt.date
    open_amount: int


@dataclass(frozen=True, slots=True)
class Application:
    """Money applied to one invoice: the result of an allocation rule, not yet written."""

    invoice_id: int
    amount: int


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    applications: tuple[Application, ...]
    unapplied: int

    @property
    def applied(self) -> int:
        return sum(a.amount for a in self.applications)


@dataclass(frozen=True, slots=True)
class DatedAllocation:
    amount: int
    effective_on: dt.date
    reversed_on: dt.date | None = None


def oldest_first(items: Iterable[OpenItem]) -> list[OpenItem]:
    """The order money is applied when the customer does not say which invoices it pays."""
    return sorted(items, key=lambda i: (i.due_date, i.issue_date, i.number, i.invoice_id))


def allocate_oldest_first(amount: int, items: Iterable[OpenItem]) -> AllocationPlan:
    """Apply ``amount`` to the oldest open items; what is left over stays unapplied."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    remaining = amount
    applications: list[Application] = []
    for item in oldest_first(items):
        if remaining == 0:
            break
        take = min(remaining, item.open_amount)
        if take > 0:
            applications.append(Application(item.invoice_id, take))
            remaining -= take
    return AllocationPlan(tuple(applications), remaining)


def allocate_to_named(
    amount: int, items: Sequence[OpenItem], requested: Sequence[Application] | None = None
) -> AllocationPlan:
    """Apply ``amount`` to the invoices the customer named.

    With explicit amounts (``requested``), each must fit what is open on its invoice and all
    together must fit the payment, else :class:`OverAllocation`. Without amounts, the named
    invoices are filled in the order given and the rest stays unapplied.
    """
    open_by_id = {item.invoice_id: item.open_amount for item in items}
    if requested is None:
        remaining = amount
        applications = []
        for item in items:
            take = min(remaining, item.open_amount)
            if take > 0:
                applications.append(Application(item.invoice_id, take))
                remaining -= take
        return AllocationPlan(tuple(applications), remaining)
    total = 0
    for app in requested:
        if app.amount <= 0:
            raise OverAllocation("allocation amount must be positive")
        if app.amount > open_by_id.get(app.invoice_id, 0):
            raise OverAllocation(
                f"allocation {app.amount} to invoice {app.invoice_id} exceeds its open balance "
                f"{open_by_id.get(app.invoice_id, 0)}"
            )
        open_by_id[app.invoice_id] -= app.amount
        total += app.amount
    if total > amount:
        raise OverAllocation(f"allocations {total} exceed the payment {amount}")
    return AllocationPlan(tuple(requested), amount - total)


def is_active(allocation: DatedAllocation, as_of: dt.date) -> bool:
    """Whether an allocation counted on ``as_of``: effective by then and not yet reversed."""
    return allocation.effective_on <= as_of and (
        allocation.reversed_on is None or allocation.reversed_on > as_of
    )


def open_balance(
    amount: int, issue_date: dt.date, allocations: Iterable[DatedAllocation], as_of: dt.date
) -> int:
    """What was still owed on an invoice at the end of ``as_of``.

    Nothing is owed before the invoice was issued; payments and credit notes effective after
    ``as_of`` do not count, and a reversal counts from its own date.

    Never below zero. A past balance can only come out negative when entries were made out
    of date order: a payment received on 03-30 but entered after another payment (08-22)
    that paid the same invoice and was reversed on 09-13. On 08-22 both count; the excess
    was the customer's credit on that day, not a negative debt on the invoice.
    """
    if issue_date > as_of:
        return 0
    return max(0, amount - sum(a.amount for a in allocations if is_active(a, as_of)))


def settled_on(amount: int, allocations: Iterable[DatedAllocation]) -> dt.date | None:
    """The date an invoice became settled by its live allocations, or None while open.

    Kept on each invoice so that historical aging can skip invoices settled before the date.
    """
    live = [a for a in allocations if a.reversed_on is None]
    if sum(a.amount for a in live) < amount:
        return None
    return max(a.effective_on for a in live)


def effective_date(money_date: dt.date, invoice_issue_date: dt.date) -> dt.date:
    """Money settles an invoice no earlier than the invoice exists."""
    return max(money_date, invoice_issue_date)


# --- Aging ---------------------------------------------------------------------------------

DEFAULT_BUCKET_LIMITS = (30, 60, 90, 180, 365)
MAX_BUCKET_DAYS = 36500
CURRENT = "current"


@dataclass(frozen=True, slots=True)
class Bucket:
    """Days overdue from ``low`` to ``high`` inclusive (``high`` None: no upper end)."""

    name: str
    low: int | None
    high: int | None

    def holds(self, days_overdue: int) -> bool:
        above = self.low is None or days_overdue >= self.low
        below = self.high is None or days_overdue <= self.high
        return above and below


def aging_buckets(limits: Sequence[int] = DEFAULT_BUCKET_LIMITS) -> tuple[Bucket, ...]:
    """Buckets from upper limits in days: ``(30, 60)`` gives current, 1-30, 31-60, 61+.

    ``current`` holds everything not yet overdue (days overdue ≤ 0, the due date itself
    included: an invoice due today is not late until tomorrow).
    """
    if not limits or any(b <= a for a, b in itertools.pairwise(limits)) or limits[0] < 1:
        raise ValueError("bucket limits must be increasing whole days, the first at least 1")
    if limits[-1] > MAX_BUCKET_DAYS:
        raise ValueError(f"bucket limits must not exceed {MAX_BUCKET_DAYS} days (about 100 years)")
    buckets = [Bucket(CURRENT, None, 0)]
    low = 1
    for high in limits:
        buckets.append(Bucket(f"{low}-{high}", low, high))
        low = high + 1
    buckets.append(Bucket(f"{low}+", low, None))
    return tuple(buckets)


def parse_bucket_limits(text: str) -> tuple[int, ...]:
    try:
        limits = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"bucket limits must be whole days separated by commas: '{text}'") from exc
    aging_buckets(limits)
    return limits


def days_overdue(due_date: dt.date, as_of: dt.date) -> int:
    return (as_of - due_date).days


def bucket_for(days: int, buckets: Sequence[Bucket]) -> Bucket:
    for bucket in buckets:
        if bucket.holds(days):
            return bucket
    raise ValueError(f"no bucket holds {days} days")  # pragma: no cover - buckets cover all


def due_date_bounds(bucket: Bucket, as_of: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The due dates (earliest, latest inclusive) whose invoices fall in ``bucket`` on ``as_of``.

    Aging in SQL compares due dates with these bounds, which is fast and identical on SQLite
    (ISO date strings) and PostgreSQL (dates), instead of computing day differences per row.
    """
    earliest = None if bucket.high is None else as_of - dt.timedelta(days=bucket.high)
    latest = None if bucket.low is None else as_of - dt.timedelta(days=bucket.low)
    return earliest, latest


# --- DSO -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodSales:
    """Credit sales invoiced in one period, most recent period first in a sequence."""

    start: dt.date
    end: dt.date  # inclusive
    sales: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def dso_countback(receivables: int, periods: Sequence[PeriodSales]) -> float | None:
    """Days sales outstanding by the countback method.

    Walk back from the most recent period, subtracting each period's sales from the
    receivables; whole periods contribute their days, the last partial period its share.
    Example: receivables 150, sales this month (30 days) 100, last month (31 days) 100
    → 30 + 31 × 50/100 = 45.5 days. None when there are no sales to count back against.
    If receivables exceed all sales in the periods given, the result is the days covered.
    """
    if receivables <= 0:
        return 0.0
    remaining = receivables
    days = 0.0
    counted_any = False
    for period in periods:
        if period.sales <= 0:
            days += period.days
            continue
        counted_any = True
        if remaining <= period.sales:
            return round(days + period.days * remaining / period.sales, 1)
        remaining -= period.sales
        days += period.days
    return round(days, 1) if counted_any else None


def month_periods(as_of: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The current month up to ``as_of`` and the ``count - 1`` whole months before it."""
    periods = []
    end = as_of
    start = as_of.replace(day=1)
    for _ in range(count):
        periods.append((start, end))
        end = start - dt.timedelta(days=1)
        start = end.replace(day=1)
    return periods
