"""Reconciliation tables: bank statements and their lines as the bank wrote them, what matching
suggested and decided, the payer names learned, customer statements (对账单) with their
schedule, status and the differences a customer reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from huikuan.core.db import Base, Fen, IdType

# --- Bank statements -----------------------------------------------------------------------


class BankStatement(Base):
    """One imported file: where it came from and what it added."""

    __tablename__ = "bank_statement"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    account: Mapped[str] = mapped_column(String(60))
    statement_ref: Mapped[str] = mapped_column(String(100), default="")
    format: Mapped[str] = mapped_column(String(10))  # csv, xlsx, mt940, camt053
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    opened_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    opening_balance: Mapped[int | None] = mapped_column(Fen, default=None)
    closing_balance: Mapped[int | None] = mapped_column(Fen, default=None)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    lines_added: Mapped[int] = mapped_column(Integer, default=0)
    lines_known: Mapped[int] = mapped_column(Integer, default=0)  # already imported before
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)


class BankLine(Base):
    """A line of a bank statement, kept with its original text. Money in (amount > 0) waits to
    be applied; money out is kept for the record and ignored by matching."""

    __tablename__ = "bank_line"
    __table_args__ = (
        UniqueConstraint("company_id", "line_key"),
        Index("ix_bank_line_status", "company_id", "status", "booked_on"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    line_key: Mapped[str] = mapped_column(String(120))
    account: Mapped[str] = mapped_column(String(60))
    booked_on: Mapped[dt.date] = mapped_column(Date)
    value_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    amount: Mapped[int] = mapped_column(Fen)  # fen; negative = money out
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    payer_account: Mapped[str] = mapped_column(String(60), default="")
    remittance: Mapped[str] = mapped_column(String(1000), default="")
    bank_reference: Mapped[str] = mapped_column(String(100), default="")
    raw: Mapped[str] = mapped_column(Text)
    row: Mapped[int] = mapped_column(Integer)
    # new → applied (auto or by a clerk) | suggested (waiting) | unknown (no candidate);
    # outgoing for money out. An undone application returns the line to suggested/unknown.
    status: Mapped[str] = mapped_column(String(12), default="new")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), default=None)
    decided_by: Mapped[str] = mapped_column(String(100), default="")  # "auto" or a user
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    reasons: Mapped[str] = mapped_column(Text, default="")  # JSON: the chosen candidate's reasons
    applications: Mapped[int] = mapped_column(Integer, default=0)  # times applied (and undone)


class MatchSuggestion(Base):
    """A candidate for a waiting line: whose money, which invoices, how sure and why."""

    __tablename__ = "match_suggestion"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    bank_line_id: Mapped[int] = mapped_column(ForeignKey("bank_line.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    allocations: Mapped[str] = mapped_column(Text)  # JSON [[invoice_id, fen], ...]
    unapplied: Mapped[int] = mapped_column(Fen)
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)  # JSON [[code, zh, en], ...]


class PayerAlias(Base):
    """A payer name or account that paid for a customer, learned when a clerk confirmed it."""

    __tablename__ = "payer_alias"
    __table_args__ = (UniqueConstraint("company_id", "customer_id", "name", "account"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    account: Mapped[str] = mapped_column(String(60), default="")
    learned_from: Mapped[int | None] = mapped_column(ForeignKey("bank_line.id"), default=None)
    learned_by: Mapped[str] = mapped_column(String(100))
    learned_on: Mapped[dt.date] = mapped_column(Date)


# --- Customer statements (对账单) ------------------------------------------------------------


class StatementSchedule(Base):
    """When a customer gets its statement: monthly or quarterly on a chosen day, or on the
    retail chain's settlement day."""

    __tablename__ = "statement_schedule"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(12))  # monthly, quarterly, settlement
    day: Mapped[int] = mapped_column(Integer, default=1)  # day of month it is sent (1-28)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Statements due from this day on are sent: setting a schedule sends no back statements.
    starts_on: Mapped[dt.date] = mapped_column(Date)


class CustomerStatement(Base):
    """A statement of account for a period: its figures as sent, and what the customer said."""

    __tablename__ = "customer_statement"
    __table_args__ = (
        UniqueConstraint("company_id", "customer_id", "period_end", "currency"),
        Index("ix_customer_statement_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    opening: Mapped[int] = mapped_column(Fen)
    closing: Mapped[int] = mapped_column(Fen)
    # issued → sent → confirmed | disputed (→ resolved once every difference is settled)
    status: Mapped[str] = mapped_column(String(12), default="issued")
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_document.id"), default=None
    )
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"), default=None)
    sent_to: Mapped[str] = mapped_column(String(300), default="")
    sent_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    confirmed_by: Mapped[str] = mapped_column(String(100), default="")  # the customer's signer
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")  # who entered the reply
    signed_copy_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_document.id"), default=None
    )
    note: Mapped[str] = mapped_column(String(1000), default="")


class StatementDifference(Base):
    """One line the customer's books show differently: an adjustment task until resolved."""

    __tablename__ = "statement_difference"
    __table_args__ = (CheckConstraint("status IN ('open', 'resolved')", name="status_known"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("customer_statement.id"), index=True)
    reference: Mapped[str] = mapped_column(String(120), default="")  # our line, if any
    our_amount: Mapped[int] = mapped_column(Fen, default=0)
    their_amount: Mapped[int] = mapped_column(Fen, default=0)
    description: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="open")
    # adjusted (our books changed), explained (timing: in transit), rejected (they are wrong)
    resolution: Mapped[str] = mapped_column(String(12), default="")
    resolution_note: Mapped[str] = mapped_column(String(1000), default="")
    resolved_by: Mapped[str] = mapped_column(String(100), default="")
    resolved_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
