"""Read queries for customer lists: filtered, paginated, with balances from one grouped query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from huikuan.core.audit import AuditRecord
from huikuan.customers.models import Contact, Contract, Customer
from huikuan.ledger.models import CreditNote, Invoice, Payment


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


@dataclass(frozen=True, slots=True)
class CustomerFile:
    """Everything the customer page shows, gathered in a handful of queries."""

    customer: Customer
    contacts: list[Contact]
    contracts: list[Contract]
    open_invoices: list[Invoice]
    payments: list[Payment]


def find_visible_customer(
    session: Session, *, company_id: int, code: str, only: tuple[str, str] | None
) -> Customer | None:
    """The customer, if it belongs to the company and the user may see it."""
    query = select(Customer).where(Customer.company_id == company_id, Customer.code == code)
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    return session.scalar(query)


def customer_file(session: Session, *, customer: Customer, recent: int = 50) -> CustomerFile:
    contacts = session.scalars(
        select(Contact)
        .where(Contact.customer_id == customer.id)
        .order_by(Contact.role, Contact.valid_from)
    )
    contracts = session.scalars(
        select(Contract)
        .where(Contract.customer_id == customer.id)
        .order_by(Contract.signed_on.desc())
    )
    invoices = session.scalars(
        select(Invoice)
        .where(
            Invoice.company_id == customer.company_id,
            Invoice.customer_id == customer.id,
            Invoice.open_amount > 0,
        )
        .order_by(Invoice.due_date, Invoice.number)
    )
    payments = session.scalars(
        select(Payment)
        .where(Payment.company_id == customer.company_id, Payment.customer_id == customer.id)
        .order_by(Payment.received_on.desc(), Payment.id.desc())
        .limit(recent)
    )
    return CustomerFile(customer, list(contacts), list(contracts), list(invoices), list(payments))


def customer_timeline(
    session: Session, *, customer: Customer, limit: int = 100
) -> list[AuditRecord]:
    """Everything recorded about the customer and its invoices, payments and credit notes,
    newest first: the audit trail seen from the customer's side."""
    of_customer = [
        ("customer", select(Customer.code).where(Customer.id == customer.id)),
        ("invoice", select(Invoice.number).where(Invoice.customer_id == customer.id)),
        (
            "payment",
            select(cast(Payment.id, String)).where(Payment.customer_id == customer.id),
        ),
        ("credit_note", select(CreditNote.number).where(CreditNote.customer_id == customer.id)),
    ]
    return list(
        session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.company_id == customer.company_id,
                or_(
                    *[
                        and_(AuditRecord.entity == entity, AuditRecord.entity_id.in_(ids))
                        for entity, ids in of_customer
                    ]
                ),
            )
            .order_by(AuditRecord.seq.desc())
            .limit(limit)
        )
    )
