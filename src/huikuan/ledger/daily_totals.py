"""Keeping ``ledger_day`` in step with the ledger, rebuilding it, and checking it.

Every change adds to the day's totals with an atomic upsert (``INSERT … ON CONFLICT DO UPDATE``
on both SQLite and PostgreSQL), so two clerks posting on the same day both count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from huikuan.ledger.models import Allocation, Invoice, InvoiceStatus, LedgerDay

Totals = dict[tuple[str, dt.date], list[int]]  # (currency, day) -> [invoiced, applied]


def add(
    session: Session | Connection,
    *,
    company_id: int,
    currency: str,
    day: dt.date,
    invoiced: int = 0,
    applied: int = 0,
) -> None:
    """Add to one day's totals (negative amounts undo)."""
    dialect = (
        session.get_bind().dialect.name if isinstance(session, Session) else session.dialect.name
    )
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = make(LedgerDay).values(
        company_id=company_id, currency=currency, day=day, invoiced=invoiced, applied=applied
    )
    statement = statement.on_conflict_do_update(
        index_elements=["company_id", "currency", "day"],
        set_={
            "invoiced": LedgerDay.invoiced + statement.excluded.invoiced,
            "applied": LedgerDay.applied + statement.excluded.applied,
        },
    )
    session.execute(statement)


def computed_totals(conn: Session | Connection, company_id: int) -> Totals:
    """The day totals recomputed from invoices and allocations: three grouped statements."""
    totals: Totals = defaultdict(lambda: [0, 0])
    invoiced = conn.execute(
        select(Invoice.currency, Invoice.issue_date, func.sum(Invoice.amount))
        .where(Invoice.company_id == company_id, Invoice.status != InvoiceStatus.VOID.value)
        .group_by(Invoice.currency, Invoice.issue_date)
    )
    for currency, day, amount in invoiced:
        totals[(currency, day)][0] += int(amount)
    columns: tuple[tuple[Any, int], ...] = (
        (Allocation.effective_on, 1),
        (Allocation.reversed_on, -1),
    )
    for date_column, sign in columns:
        rows = conn.execute(
            select(Invoice.currency, date_column, func.sum(Allocation.amount))
            .join(Invoice, Invoice.id == Allocation.invoice_id)
            .where(Allocation.company_id == company_id, date_column.is_not(None))
            .group_by(Invoice.currency, date_column)
        )
        for currency, day, amount in rows:
            totals[(currency, day)][1] += sign * int(amount)
    return {key: value for key, value in totals.items() if value != [0, 0]}


def stored_totals(conn: Session | Connection, company_id: int) -> Totals:
    rows = conn.execute(
        select(LedgerDay.currency, LedgerDay.day, LedgerDay.invoiced, LedgerDay.applied).where(
            LedgerDay.company_id == company_id
        )
    )
    return {(c, d): [int(i), int(a)] for c, d, i, a in rows if (i, a) != (0, 0)}


def rebuild(conn: Session | Connection, company_id: int) -> None:
    """Recompute the company's day totals from scratch (after bulk loads, or to repair)."""
    conn.execute(delete(LedgerDay).where(LedgerDay.company_id == company_id))
    rows = [
        {"company_id": company_id, "currency": c, "day": d, "invoiced": i, "applied": a}
        for (c, d), (i, a) in computed_totals(conn, company_id).items()
    ]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(LedgerDay), rows[start : start + 5000])


def receivables_at(
    conn: Session | Connection, *, company_id: int, currency: str, days: list[dt.date]
) -> list[int]:
    """The ledger's receivable at the end of each of ``days``, from the day totals."""
    rows = conn.execute(
        select(LedgerDay.day, LedgerDay.invoiced - LedgerDay.applied)
        .where(
            LedgerDay.company_id == company_id,
            LedgerDay.currency == currency,
            LedgerDay.day <= max(days),
        )
        .order_by(LedgerDay.day)
    ).all()
    return [sum(int(net) for day, net in rows if day <= end) for end in days]
