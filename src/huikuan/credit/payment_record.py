"""How each customer pays us, read from the ledger in one grouped SQL statement.

For every invoice due within the look-back window (and by ``as_of``): days late are the days
from due date to settlement, or to ``as_of`` while it is still open; early payment counts as
zero, so it cannot hide other invoices' lateness. Averages are weighted by invoice amount.
The window's last six months are compared with the twelve before them for the trend.
Promises judged broken within the window are counted (``collections.promises``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from huikuan.collections.promises import broken_promises
from huikuan.credit.rules import PaymentRecord, add_months
from huikuan.ledger.models import Invoice, InvoiceStatus

RECENT_MONTHS = 6


def _days_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "postgresql":
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def payment_records(
    session: Session,
    *,
    company_id: int,
    as_of: dt.date,
    lookback_months: int = 18,
    customer_ids: Sequence[int] | None = None,
) -> dict[int, PaymentRecord]:
    """Each customer's payment record on ``as_of`` (customers with no invoice due in the window
    are absent: their record is missing, not good)."""
    start = add_months(as_of, -lookback_months)
    recent_start = add_months(as_of, -RECENT_MONTHS)
    day = literal(as_of, Date)
    settled_by_then = and_(Invoice.settled_on.is_not(None), Invoice.settled_on <= as_of)
    raw = case(
        (settled_by_then, _days_between(session, Invoice.settled_on, Invoice.due_date)),
        else_=_days_between(session, day, Invoice.due_date),
    )
    late = case((raw > 0, raw), else_=0)
    amount = Invoice.amount
    recent = Invoice.due_date > recent_start

    def weighted(condition=None):
        if condition is None:
            return func.sum(amount * late), func.sum(amount)
        return (
            func.sum(case((condition, amount * late), else_=0)),
            func.sum(case((condition, amount), else_=0)),
        )

    all_days, all_amount = weighted()
    recent_days, recent_amount = weighted(recent)
    earlier_days, earlier_amount = weighted(~recent)
    query = (
        select(
            Invoice.customer_id,
            func.count(),
            all_days,
            all_amount,
            func.sum(case((late > 0, 1), else_=0)),
            func.sum(case((late > 60, 1), else_=0)),
            recent_days,
            recent_amount,
            earlier_days,
            earlier_amount,
        )
        .where(
            Invoice.company_id == company_id,
            Invoice.status != InvoiceStatus.VOID.value,
            Invoice.issue_date <= as_of,
            Invoice.due_date > start,
            Invoice.due_date <= as_of,
        )
        .group_by(Invoice.customer_id)
    )
    if customer_ids is not None:
        query = query.where(Invoice.customer_id.in_(list(customer_ids)))
    broken = broken_promises(
        session, company_id=company_id, customer_ids=customer_ids, since=start, as_of=as_of
    )
    records = {}
    for row in session.execute(query):
        customer_id, count, days, total, late_count, over_60 = row[:6]
        r_days, r_amount, e_days, e_amount = row[6:]
        records[customer_id] = PaymentRecord(
            invoices=count,
            weighted_days_late=_average(days, total),
            share_paid_late=Fraction(int(late_count), count),
            share_over_60_late=Fraction(int(over_60), count),
            recent_days_late=_average(r_days, r_amount),
            earlier_days_late=_average(e_days, e_amount),
            broken_promises=broken.get(customer_id, 0),
        )
    return records


def _average(days: object, amount: object) -> Fraction | None:
    if not amount:
        return None
    return Fraction(int(days or 0), int(amount))  # type: ignore[call-overload]
