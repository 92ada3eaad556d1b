"""The receivables ledger: orders, invoices, payments, credit notes and allocations.

An allocation moves money from a payment or a credit note onto an invoice. Allocations are
never updated or deleted: a reversal stamps ``reversed_on``. From them, the open balance of any
invoice on any past date can be computed exactly (the audit trail); for speed, each invoice
also keeps its current ``open_amount`` and the date it became settled (``settled_on``), kept in
step by the ledger service in the same transaction. ``huikuan ledger check`` proves the two agree.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from huikuan.core.db import Base, Fen, IdType


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    # Void is for entry mistakes only; cancelling a real sale is a credit note.
    VOID = "void"


class OrderStatus(enum.StrEnum):
    OPEN = "open"  # to be shipped and invoiced
    CLOSED = "closed"  # fully invoiced, or closed by hand
    CANCELLED = "cancelled"


class OrderApproval(enum.StrEnum):
    PENDING = "pending"  # waits for a person, with the reasons listed
    APPROVED = "approved"  # automatically or by a person (see order_decision)
    REJECTED = "rejected"


class SalesOrder(Base):
    """A sale on credit before it becomes an invoice. Until invoiced, an approved order is part
    of the customer's exposure (``amount - invoiced_amount``), shipped or not, so goods shipped
    but not yet invoiced are counted once: in the order, not also as a receivable."""

    __tablename__ = "sales_order"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_sales_order_exposure", "company_id", "customer_id", "status", "approval"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    ordered_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Fen)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.OPEN.value)
    approval: Mapped[str] = mapped_column(String(20), default=OrderApproval.PENDING.value)
    shipped_amount: Mapped[int] = mapped_column(Fen, default=0)
    invoiced_amount: Mapped[int] = mapped_column(Fen, default=0)
    salesperson: Mapped[str] = mapped_column(String(60), default="")
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), default=None)


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("open_amount >= 0 AND open_amount <= amount", name="open_within_amount"),
        # Today's aging reads only this index: open items, grouped by customer, bucketed by
        # due date. Paid invoices (most of the table after a few years) are not in it at all.
        Index(
            "ix_invoice_open_items",
            "company_id",
            "currency",
            "customer_id",
            "due_date",
            "issue_date",
            "open_amount",
            sqlite_where=text("open_amount > 0"),
            postgresql_where=text("open_amount > 0"),
        ),
        # Historical aging and monthly sales (DSO): invoices issued by a date and not settled
        # before it; currency and amount make it covering for the sales sums.
        Index("ix_invoice_history", "company_id", "issue_date", "settled_on", "currency", "amount"),
        Index("ix_invoice_customer", "company_id", "customer_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    number: Mapped[str] = mapped_column(String(60))
    order_number: Mapped[str] = mapped_column(String(60), default="")
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Fen)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(10), default=InvoiceStatus.OPEN.value)
    open_amount: Mapped[int] = mapped_column(Fen)
    # The latest effective date among the allocations that settle it; NULL while open.
    settled_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    description: Mapped[str] = mapped_column(String(500), default="")


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("company_id", "import_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "unapplied_amount >= 0 AND unapplied_amount <= amount", name="unapplied_within_amount"
        ),
        Index("ix_payment_customer", "company_id", "customer_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Fen)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    method: Mapped[str] = mapped_column(String(30), default="bank_transfer")
    reference: Mapped[str] = mapped_column(String(120), default="")
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    # What is left after allocations: credit on the customer's account, never lost.
    unapplied_amount: Mapped[int] = mapped_column(Fen)
    reversed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # Identifies the source row of an imported payment, so a re-import adds nothing.
    import_key: Mapped[str | None] = mapped_column(String(64), default=None)


class CreditNote(Base):
    __tablename__ = "credit_note"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "unapplied_amount >= 0 AND unapplied_amount <= amount", name="unapplied_within_amount"
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Fen)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reason: Mapped[str] = mapped_column(String(500), default="")
    unapplied_amount: Mapped[int] = mapped_column(Fen)


class Allocation(Base):
    """Money from one payment or credit note applied to one invoice, effective on a date.

    The effective date is the later of the payment's (or credit note's) date and the invoice's
    issue date: money cannot settle an invoice before the invoice exists.
    """

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"),
        Index("ix_allocation_invoice", "invoice_id", "effective_on"),
        Index("ix_allocation_company_effective", "company_id", "effective_on"),
        Index("ix_allocation_company_reversed", "company_id", "reversed_on"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment.id"), index=True, default=None
    )
    credit_note_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_note.id"), index=True, default=None
    )
    amount: Mapped[int] = mapped_column(Fen)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    reversed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


class LedgerDay(Base):
    """What was invoiced and what was applied on each day, per currency: the receivable on any
    date is the running sum of ``invoiced - applied`` up to it. Kept in step by the ledger
    service in the same transaction as each change, so trends over months read a few hundred
    rows instead of every invoice and allocation. ``huikuan ledger check`` proves it agrees.

    A reversal counts as negative ``applied`` on its own date; a voided invoice as negative
    ``invoiced`` on its issue date.
    """

    __tablename__ = "ledger_day"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    invoiced: Mapped[int] = mapped_column(Fen, default=0)
    applied: Mapped[int] = mapped_column(Fen, default=0)
