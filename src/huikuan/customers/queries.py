"""Read queries for customer lists: filtered, paginated, with balances from one grouped query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    q: str | None = None
    customer_type: str | None = None
    salesperson: str | None = None
    collector: str | None = None
    only: tuple[str, str] | None = None  # ("salesperson", name): the user's own customers


@dataclass(frozen=True, slots=True)
class CustomerBalance:
    customer: Customer
    open_amount: int
    overdue_amount: int


def _filtered(company_id: int, flt: CustomerFilter):
    query = select(Customer).where(Customer.company_id == company_id)
    if flt.q:
        pattern = f"%{flt.q}%"
        query = query.where(or_(Customer.code.like(pattern), Customer.name.like(pattern)))
    for column, value in (
        (Customer.customer_type, flt.customer_type),
        (Customer.salesperson, flt.salesperson),
        (Customer.collector, flt.collector),
    ):
        if value:
            query = query.where(column == value)
    if flt.only is not None:
        query = query.where(getattr(Customer, flt.only[0]) == flt.only[1])
    return query


def list_customers(
    session: Session,
    *,
    company_id: int,
    flt: CustomerFilter,
    as_of: dt.date,
    currency: str,
    page: int,
    page_size: int,
) -> tuple[list[CustomerBalance], int]:
    """One page of customers by code, with open and overdue amounts on ``as_of``, and the count."""
    query = _filtered(company_id, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    customers = list(
        session.scalars(
            query.order_by(Customer.code).limit(page_size).offset((page - 1) * page_size)
        )
    )
    balances = _balances(session, company_id, [c.id for c in customers], as_of, currency)
    rows = [CustomerBalance(c, *balances.get(c.id, (0, 0))) for c in customers]
    return rows, total


def _balances(
    session: Session, company_id: int, ids: list[int], as_of: dt.date, currency: str
) -> dict[int, tuple[int, int]]:
    """Open and overdue amounts for a page of customers, from the open-items index."""
    if not ids:
        return {}
    overdue = func.sum(case((Invoice.due_date < as_of, Invoice.open_amount), else_=0))
    result = session.execute(
        select(Invoice.customer_id, func.sum(Invoice.open_amount), overdue)
        .where(
            Invoice.company_id == company_id,
            Invoice.currency == currency,
            Invoice.customer_id.in_(ids),
            Invoice.open_amount > 0,
        )
        .group_by(Invoice.customer_id)
    )
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in result}
