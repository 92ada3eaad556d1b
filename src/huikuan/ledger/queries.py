"""Read queries for invoice lists: filtered, paginated, ordered by due date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    customer_code: str | None = None
    status: str | None = None
    overdue: bool | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    only: tuple[str, str] | None = None  # ("collector", name): the user's own customers


def list_invoices(
    session: Session,
    *,
    company_id: int,
    flt: InvoiceFilter,
    as_of: dt.date,
    page: int,
    page_size: int,
) -> tuple[list[tuple[Invoice, Customer]], int]:
    query = (
        select(Invoice, Customer)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.company_id == company_id)
    )
    if flt.only is not None:
        query = query.where(getattr(Customer, flt.only[0]) == flt.only[1])
    if flt.customer_code:
        query = query.where(Customer.code == flt.customer_code)
    if flt.status:
        query = query.where(Invoice.status == flt.status)
    if flt.overdue is True:
        query = query.where(Invoice.open_amount > 0, Invoice.due_date < as_of)
    elif flt.overdue is False:
        query = query.where(Invoice.due_date >= as_of)
    if flt.due_from:
        query = query.where(Invoice.due_date >= flt.due_from)
    if flt.due_to:
        query = query.where(Invoice.due_date <= flt.due_to)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Invoice.due_date, Invoice.number)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return [(row[0], row[1]) for row in rows], total
