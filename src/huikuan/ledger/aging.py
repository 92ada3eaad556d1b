"""Aging and DSO as SQL aggregations pushed down to the database.

Each report is a fixed number of statements whatever the number of invoices: one cheap probe
that decides whether today's kept open amounts are valid for ``as_of``, one aggregation, and
for DSO one more for monthly sales. Buckets are decided by comparing due dates with bounds
computed here (``rules.due_date_bounds``), which runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from huikuan.customers.models import CUSTOMER_TYPE_LABELS_ZH, Customer, CustomerType
from huikuan.ledger import daily_totals, rules
from huikuan.ledger.models import Allocation, Invoice, InvoiceStatus, LedgerDay

UNASSIGNED_ZH = "（未分配）"


class AgingBy(StrEnum):
    CUSTOMER = "customer"
    CUSTOMER_TYPE = "customer_type"
    SALESPERSON = "salesperson"
    COLLECTOR = "collector"


@dataclass(frozen=True, slots=True)
class AgingRow:
    key: str
    name: str
    total: int
    buckets: dict[str, int]


@dataclass(frozen=True, slots=True)
class AgingReport:
    as_of: dt.date
    currency: str
    by: AgingBy
    bucket_names: tuple[str, ...]
    rows: list[AgingRow]
    total: int
    bucket_totals: dict[str, int]
    dso_days: float | None = None
    exact_from: str = field(default="open_amount")  # which path computed it, for diagnostics
    row_count: int = 0  # rows in the full report (more than len(rows) with most_overdue)


def aging_report(
    session: Session,
    *,
    company_id: int,
    as_of: dt.date,
    by: AgingBy = AgingBy.CUSTOMER,
    limits: Sequence[int] = rules.DEFAULT_BUCKET_LIMITS,
    currency: str = "CNY",
    with_dso: bool = True,
    only: tuple[str, str] | None = None,
    most_overdue: int | None = None,
    window: tuple[int, int] | None = None,
) -> AgingReport:
    """The aging on ``as_of``. ``only=("salesperson", "王强")`` restricts it to the customers
    assigned to one person (what a salesperson or collector may see); DSO is then left out,
    because sales cannot be split the same way without their own customers' history.

    ``most_overdue=N`` (by customer only) returns just the N customers with the most overdue,
    largest first, for dashboards; the totals still cover every customer, from the same
    statement (window sums), so a page never has to fetch 100k rows to show fifty. ``window=(offset, limit)``
    (by customer only) returns one page of customers in code order, with the same full totals.
    """
    buckets = rules.aging_buckets(limits)
    current = _kept_open_amounts_valid(session, company_id=company_id, as_of=as_of)
    items = (
        _open_items_now(company_id, currency, as_of)
        if current
        else _open_items_as_of(company_id, currency, as_of)
    )
    per_customer = _per_customer(items, buckets, as_of)
    top = most_overdue if by is AgingBy.CUSTOMER else None
    page = window if by is AgingBy.CUSTOMER else None
    if top is None and page is None:
        rows = _aggregate(session, per_customer=per_customer, buckets=buckets, by=by, only=only)
        row_count = len(rows)
        bucket_totals = {b.name: 0 for b in buckets}
        total = 0
        for row in rows:
            total += row.total
            for name, amount in row.buckets.items():
                bucket_totals[name] += amount
    else:
        rows, totals = _customer_slice(
            session, per_customer=per_customer, buckets=buckets, only=only, top=top, window=page
        )
        row_count, total, bucket_totals = totals or _totals(session, per_customer, buckets, only)
    dso = (
        days_sales_outstanding(
            session, company_id=company_id, as_of=as_of, currency=currency, receivables=total
        )
        if with_dso and only is None
        else None
    )
    return AgingReport(
        as_of=as_of,
        currency=currency,
        by=by,
        bucket_names=tuple(b.name for b in buckets),
        rows=rows,
        total=total,
        bucket_totals=bucket_totals,
        dso_days=dso,
        exact_from="open_amount" if current else "allocations",
        row_count=row_count,
    )


def _kept_open_amounts_valid(session: Session, *, company_id: int, as_of: dt.date) -> bool:
    """True when no allocation takes effect or is reversed after ``as_of``: then each invoice's
    kept ``open_amount`` is exactly its balance on ``as_of`` (invoices issued later are excluded
    by their issue date), and the fast open-items index answers the report."""
    later = or_(
        exists().where(Allocation.company_id == company_id, Allocation.effective_on > as_of),
        exists().where(Allocation.company_id == company_id, Allocation.reversed_on > as_of),
    )
    return not session.scalar(select(later))


def _open_items_now(company_id: int, currency: str, as_of: dt.date):
    return (
        select(
            Invoice.customer_id.label("customer_id"),
            Invoice.due_date.label("due_date"),
            Invoice.open_amount.label("open_amount"),
        )
        .where(
            Invoice.company_id == company_id,
            Invoice.currency == currency,
            Invoice.open_amount > 0,
            Invoice.issue_date <= as_of,
        )
        .subquery("items")
    )


def _open_items_as_of(
    company_id: int, currency: str, as_of: dt.date, customer_id: int | None = None
):
    """Balances on a past date, from the dated allocations (the audit trail).

    Only invoices issued by ``as_of`` and not settled before it can have been open then; for
    those, subtract the allocations that were effective and not yet reversed on that date,
    and count no balance below zero (see ``rules.open_balance``). Grouping per invoice makes
    the database compute each balance once, however often the buckets refer to it.
    """
    live_on_day = and_(
        Allocation.invoice_id == Invoice.id,
        Allocation.effective_on <= as_of,
        or_(Allocation.reversed_on.is_(None), Allocation.reversed_on > as_of),
    )
    balance = Invoice.amount - func.coalesce(func.sum(Allocation.amount), 0)
    one_customer = [] if customer_id is None else [Invoice.customer_id == customer_id]
    return (
        select(
            Invoice.customer_id.label("customer_id"),
            Invoice.due_date.label("due_date"),
            case((balance > 0, balance), else_=0).label("open_amount"),
        )
        .select_from(Invoice)
        .outerjoin(Allocation, live_on_day)
        .where(
            Invoice.company_id == company_id,
            Invoice.currency == currency,
            Invoice.issue_date <= as_of,
            or_(Invoice.settled_on.is_(None), Invoice.settled_on > as_of),
            Invoice.status != InvoiceStatus.VOID.value,
            *one_customer,
        )
        .group_by(Invoice.id, Invoice.customer_id, Invoice.due_date, Invoice.amount)
        .subquery("items")
    )


def customer_buckets(
    session: Session,
    *,
    company_id: int,
    customer_id: int,
    currency: str,
    as_of: dt.date,
    limits: Sequence[int] = rules.DEFAULT_BUCKET_LIMITS,
) -> list[tuple[str, int]]:
    """One customer's open invoices on ``as_of`` by bucket, (name, fen) in bucket order: the
    figures of that customer's row in ``aging_report``, always from the dated allocations so
    that any past date is exact. One statement."""
    buckets = rules.aging_buckets(limits)
    items = _open_items_as_of(company_id, currency, as_of, customer_id)
    per_customer = _per_customer(items, buckets, as_of)
    sums = [cast(per_customer.c[f"b{i}"], BigInteger) for i in range(len(buckets))]
    record = session.connection().execute(select(*sums)).first()
    return [(b.name, int(record[i]) if record else 0) for i, b in enumerate(buckets)]


def _bucket_condition(
    due_date: ColumnElement[dt.date], bucket: rules.Bucket, as_of: dt.date
) -> ColumnElement[bool]:
    earliest, latest = rules.due_date_bounds(bucket, as_of)
    conditions = []
    if earliest is not None:
        conditions.append(due_date >= earliest)
    if latest is not None:
        conditions.append(due_date <= latest)
    return and_(*conditions) if conditions else literal(True)


def _per_customer(items, buckets, as_of):
    """Open amounts summed per customer and bucket: one streaming pass over the open items."""
    bucket_sums = [
        func.sum(
            case((_bucket_condition(items.c.due_date, b, as_of), items.c.open_amount), else_=0)
        ).label(f"b{i}")
        for i, b in enumerate(buckets)
    ]
    return (
        select(items.c.customer_id, func.sum(items.c.open_amount).label("total"), *bucket_sums)
        .group_by(items.c.customer_id)
        .having(func.sum(items.c.open_amount) != 0)
        .subquery("per_customer")
    )


def _aggregate(
    session: Session, *, per_customer, buckets, by: AgingBy, only=None
) -> list[AgingRow]:
    """Join the per-customer sums to customers and, for the other groupings, regroup by the key:
    joining 100k customers is cheaper than joining millions of invoice rows. Sums are cast to
    BIGINT so both databases hand back ints."""
    amounts = [per_customer.c.total] + [per_customer.c[f"b{i}"] for i in range(len(buckets))]
    key_columns = _key_columns(by)
    if by is AgingBy.CUSTOMER:
        sums = [cast(a, BigInteger) for a in amounts]
        query = select(*key_columns, *sums).order_by(Customer.code)
    else:
        sums = [cast(func.sum(a), BigInteger) for a in amounts]
        query = select(*key_columns, *sums).group_by(*key_columns).order_by(*key_columns)
    query = _joined(query, per_customer, only)
    names = [b.name for b in buckets]
    first = len(key_columns)
    # Core rows, not ORM: this loop runs once per customer (100k at scale), keep it lean.
    rows = []
    for record in session.connection().execute(query):
        key, name = _key_and_name(by, record)
        rows.append(
            AgingRow(key, name, record[first], dict(zip(names, record[first + 1 :], strict=True)))
        )
    return rows


def _joined(query, per_customer, only):
    query = query.join_from(per_customer, Customer, Customer.id == per_customer.c.customer_id)
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    return query


def _customer_slice(
    session: Session, *, per_customer, buckets, only, top: int | None, window
) -> tuple[list[AgingRow], tuple[int, int, dict[str, int]] | None]:
    """A few customers (the ``top`` most overdue, or one page in code order) together with the
    count and totals of all of them, in one statement: window sums over the whole result are
    computed before the limit applies, so the per-customer aggregation runs once, not twice.
    Returns no totals when the slice is empty (a page past the end); the caller asks for them.
    """
    amounts = [per_customer.c.total] + [per_customer.c[f"b{i}"] for i in range(len(buckets))]
    overall = [func.count().over()] + [cast(func.sum(a).over(), BigInteger) for a in amounts]
    query = select(Customer.code, Customer.name, *[cast(a, BigInteger) for a in amounts], *overall)
    if top is not None:
        overdue = per_customer.c.total - per_customer.c.b0
        query = query.order_by(overdue.desc(), Customer.code).limit(top)
    else:
        query = query.order_by(Customer.code).offset(window[0]).limit(window[1])
    names = [b.name for b in buckets]
    width = 1 + len(buckets)
    rows: list[AgingRow] = []
    totals = None
    for record in session.connection().execute(_joined(query, per_customer, only)):
        own, whole = record[2 : 2 + width], record[2 + width :]
        totals = (int(whole[0]), int(whole[1]), dict(zip(names, map(int, whole[2:]), strict=True)))
        if top is not None and own[0] - own[1] <= 0:
            continue  # the most overdue list shows only customers with something overdue
        rows.append(AgingRow(record[0], record[1], own[0], dict(zip(names, own[1:], strict=True))))
    return rows, totals


def _totals(session: Session, per_customer, buckets, only) -> tuple[int, int, dict[str, int]]:
    """How many customers owe, the total and each bucket's total, in one statement."""
    query = select(
        func.count(),
        cast(func.coalesce(func.sum(per_customer.c.total), 0), BigInteger),
        *[
            cast(func.coalesce(func.sum(per_customer.c[f"b{i}"]), 0), BigInteger)
            for i in range(len(buckets))
        ],
    ).select_from(per_customer)
    if only is not None:
        query = query.join(Customer, Customer.id == per_customer.c.customer_id).where(
            getattr(Customer, only[0]) == only[1]
        )
    record = session.connection().execute(query).one()
    return (
        int(record[0]),
        int(record[1]),
        {b.name: int(record[2 + i]) for i, b in enumerate(buckets)},
    )


def _key_columns(by: AgingBy) -> list[Any]:
    if by is AgingBy.CUSTOMER:
        return [Customer.code, Customer.name]
    column = {
        AgingBy.CUSTOMER_TYPE: Customer.customer_type,
        AgingBy.SALESPERSON: Customer.salesperson,
        AgingBy.COLLECTOR: Customer.collector,
    }[by]
    return [column]


def _key_and_name(by: AgingBy, record) -> tuple[str, str]:
    if by is AgingBy.CUSTOMER:
        return record[0], record[1]
    key = record[0] or ""
    if by is AgingBy.CUSTOMER_TYPE:
        try:
            return key, CUSTOMER_TYPE_LABELS_ZH[CustomerType(key)]
        except ValueError:
            return key, key
    return key, key or UNASSIGNED_ZH


def monthly_sales(
    session: Session, *, company_id: int, as_of: dt.date, currency: str, months: int = 12
) -> list[rules.PeriodSales]:
    """Credit sales invoiced in each month back from ``as_of`` (most recent first), from the
    ledger's day totals: at most a few hundred rows, whatever the number of invoices."""
    periods = rules.month_periods(as_of, months)
    days = session.execute(
        select(LedgerDay.day, LedgerDay.invoiced).where(
            LedgerDay.company_id == company_id,
            LedgerDay.currency == currency,
            LedgerDay.day >= periods[-1][0],
            LedgerDay.day <= as_of,
        )
    ).all()
    return [
        rules.PeriodSales(
            start, end, sum(int(amount) for day, amount in days if start <= day <= end)
        )
        for start, end in periods
    ]


def days_sales_outstanding(
    session: Session, *, company_id: int, as_of: dt.date, currency: str, receivables: int
) -> float | None:
    """DSO by the countback method over the last twelve months of sales."""
    sales = monthly_sales(session, company_id=company_id, as_of=as_of, currency=currency)
    return rules.dso_countback(receivables, sales)


@dataclass(frozen=True, slots=True)
class DsoPoint:
    month_end: dt.date
    receivables: int
    dso_days: float | None


def dso_trend(
    session: Session, *, company_id: int, as_of: dt.date, currency: str, months: int = 12
) -> list[DsoPoint]:
    """DSO at each of the last ``months`` month ends (the last one being ``as_of``), oldest first.

    Receivables come from the ledger's day totals (``ledger_day``): a few hundred rows, not
    every invoice. This is the ledger's balance; it differs from the aging total only where
    back-dated entries made an invoice's past balance negative, which the aging counts as zero.
    """
    ends = [end for _, end in rules.month_periods(as_of, months)][::-1]
    receivables = daily_totals.receivables_at(
        session, company_id=company_id, currency=currency, days=ends
    )
    sales = monthly_sales(
        session, company_id=company_id, as_of=as_of, currency=currency, months=months + 11
    )
    points = []
    for k, (end, receivable) in enumerate(zip(ends, receivables, strict=True)):
        # The twelve months of sales up to this month end (skip the months after it).
        later = months - 1 - k
        points.append(
            DsoPoint(end, receivable, rules.dso_countback(receivable, sales[later : later + 12]))
        )
    return points
