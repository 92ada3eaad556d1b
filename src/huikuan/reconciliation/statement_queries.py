"""Statements as lists show them: one query with the customer, the email's fate and the number
of differences still open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from huikuan.collections.models import Delivery
from huikuan.customers.models import Customer
from huikuan.reconciliation.models import CustomerStatement, StatementDifference

STATUSES = ("issued", "sent", "confirmed", "disputed", "resolved")


@dataclass(frozen=True, slots=True)
class StatementRow:
    id: int
    customer_code: str
    customer_name: str
    period_start: dt.date
    period_end: dt.date
    currency: str
    opening: int
    closing: int
    status: str
    issued_on: dt.date
    sent_to: str
    sent_on: dt.date | None
    delivery_status: str  # pending, sent, bounced… ("" when not emailed)
    confirmed_by: str
    confirmed_on: dt.date | None
    document_id: int | None
    signed_copy_id: int | None
    open_differences: int


def list_statements(
    session: Session,
    *,
    company_id: int,
    status: str | None = None,
    customer: str = "",
    statement_id: int | None = None,
    end_from: dt.date | None = None,
    end_to: dt.date | None = None,
    only: tuple[str, str] | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[StatementRow]:
    """Newest period first. ``end_from``..``end_to`` bound the period end; ``only`` keeps the
    customers a user sees (column, value)."""
    open_count = (
        select(
            StatementDifference.statement_id,
            func.count().label("open"),
        )
        .where(StatementDifference.company_id == company_id, StatementDifference.status == "open")
        .group_by(StatementDifference.statement_id)
        .subquery()
    )
    query = (
        select(
            CustomerStatement,
            Customer.code,
            Customer.name,
            Delivery.status,
            func.coalesce(open_count.c.open, 0),
        )
        .join(Customer, Customer.id == CustomerStatement.customer_id)
        .outerjoin(Delivery, Delivery.id == CustomerStatement.delivery_id)
        .outerjoin(open_count, open_count.c.statement_id == CustomerStatement.id)
        .where(CustomerStatement.company_id == company_id)
    )
    query = query.where(*_filters(status, customer, statement_id, end_from, end_to, only))
    rows = session.execute(
        query.order_by(
            CustomerStatement.period_end.desc(), Customer.code, CustomerStatement.currency
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        StatementRow(
            s.id,
            code,
            name,
            s.period_start,
            s.period_end,
            s.currency,
            s.opening,
            s.closing,
            s.status,
            s.issued_on,
            s.sent_to,
            s.sent_on,
            delivery or "",
            s.confirmed_by,
            s.confirmed_on,
            s.document_id,
            s.signed_copy_id,
            int(open_),
        )
        for s, code, name, delivery, open_ in rows
    ]


def count_statements(
    session: Session,
    *,
    company_id: int,
    status: str | None = None,
    customer: str = "",
    end_from: dt.date | None = None,
    end_to: dt.date | None = None,
    only: tuple[str, str] | None = None,
) -> int:
    """How many statements ``list_statements`` would answer without a limit."""
    query = (
        select(func.count())
        .select_from(CustomerStatement)
        .join(Customer, Customer.id == CustomerStatement.customer_id)
        .where(CustomerStatement.company_id == company_id)
        .where(*_filters(status, customer, None, end_from, end_to, only))
    )
    return int(session.scalar(query) or 0)


def _filters(
    status: str | None,
    customer: str,
    statement_id: int | None,
    end_from: dt.date | None,
    end_to: dt.date | None,
    only: tuple[str, str] | None,
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if status:
        found.append(CustomerStatement.status == status)
    if customer:
        found.append(Customer.code == customer)
    if statement_id is not None:
        found.append(CustomerStatement.id == statement_id)
    if end_from is not None:
        found.append(CustomerStatement.period_end >= end_from)
    if end_to is not None:
        found.append(CustomerStatement.period_end <= end_to)
    if only is not None:
        found.append(getattr(Customer, only[0]) == only[1])
    return found


def differences(
    session: Session, *, company_id: int, statement_id: int
) -> list[StatementDifference]:
    return list(
        session.scalars(
            select(StatementDifference)
            .where(
                StatementDifference.company_id == company_id,
                StatementDifference.statement_id == statement_id,
            )
            .order_by(StatementDifference.id)
        )
    )
