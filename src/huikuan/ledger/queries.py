"""Read queries for invoice lists (filtered, paginated, ordered by due date) and for the pages
of one invoice, payment or credit note (their allocations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.customers.models import Customer
from huikuan.ledger.models import Allocation, CreditNote, Invoice, Payment


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


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """One application of money, as the invoice, payment and credit-note pages list it."""

    invoice_number: str
    source: str  # "payment" or "credit_note"
    source_key: str  # payment id or credit note number
    amount: int
    effective_on: dt.date
    reversed_on: dt.date | None


def allocation_lines(
    session: Session,
    *,
    company_id: int,
    invoice_id: int | None = None,
    payment_id: int | None = None,
    credit_note_id: int | None = None,
) -> list[AllocationLine]:
    """The allocations of one invoice, one payment or one credit note, oldest first."""
    query = (
        select(Allocation, Invoice.number, CreditNote.number)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .outerjoin(CreditNote, CreditNote.id == Allocation.credit_note_id)
        .where(Allocation.company_id == company_id)
        .order_by(Allocation.effective_on, Allocation.id)
    )
    if invoice_id is not None:
        query = query.where(Allocation.invoice_id == invoice_id)
    if payment_id is not None:
        query = query.where(Allocation.payment_id == payment_id)
    if credit_note_id is not None:
        query = query.where(Allocation.credit_note_id == credit_note_id)
    lines = []
    for a, number, note_number in session.execute(query):
        source, key = (
            ("payment", str(a.payment_id)) if a.payment_id else ("credit_note", note_number)
        )
        lines.append(AllocationLine(number, source, key, a.amount, a.effective_on, a.reversed_on))
    return lines


def customer_credit_notes(session: Session, *, customer: Customer) -> list[CreditNote]:
    return list(
        session.scalars(
            select(CreditNote)
            .where(
                CreditNote.company_id == customer.company_id,
                CreditNote.customer_id == customer.id,
            )
            .order_by(CreditNote.issued_on.desc(), CreditNote.number)
        )
    )


def find_payment(session: Session, *, company_id: int, payment_id: str) -> Payment | None:
    if not payment_id.isdigit() or len(payment_id) > 18:
        return None
    return session.scalar(
        select(Payment).where(Payment.company_id == company_id, Payment.id == int(payment_id))
    )
