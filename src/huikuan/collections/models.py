"""Collections tables: strategies and their steps, how customers are assigned to them, where
each invoice stands on its ladder, the actions taken, what was sent, referrals, and the
company's collection settings. The tables that stop chasing (disputes, promises to pay, payment
plans, do-not-contact notes) are here too, because the daily run reads them.

Strategies are data: rows the company edits (CLI, API, YAML), never code.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from huikuan.core.db import Base, Fen, IdType


class Strategy(Base):
    __tablename__ = "strategy"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    # The customer type the strategy was written for (informational; assignment rules decide).
    customer_type: Mapped[str] = mapped_column(String(20), default="")
    # The strategy of customers no rule matches. At most one per company.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StrategyStep(Base):
    """One rung of a ladder. Editing a strategy retires changed steps (``retired``) and adds
    new rows, so the actions already taken keep pointing at the step as it was."""

    __tablename__ = "strategy_step"
    __table_args__ = (
        CheckConstraint("wait_days >= 0", name="wait_not_negative"),
        Index("ix_strategy_step_strategy", "company_id", "strategy_id", "retired"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id"))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    trigger_days: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[str] = mapped_column(String(20), default="due")
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(60), default="")
    wait_days: Mapped[int] = mapped_column(Integer, default=0)
    min_amount: Mapped[int | None] = mapped_column(Fen, default=None)
    max_amount: Mapped[int | None] = mapped_column(Fen, default=None)
    grades: Mapped[str] = mapped_column(String(60), default="")  # "A|B", empty = any
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class StrategyRule(Base):
    """Segmented assignment (分段催收): customers of a type/grade whose overdue balance and
    days overdue reach the thresholds follow the strategy; the lowest priority number wins."""

    __tablename__ = "strategy_rule"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id"))
    customer_type: Mapped[str] = mapped_column(String(20), default="")
    grades: Mapped[str] = mapped_column(String(60), default="")
    min_overdue: Mapped[int] = mapped_column(Fen, default=0)
    min_days_overdue: Mapped[int] = mapped_column(Integer, default=0)


class CustomerStrategy(Base):
    """A person's choice of strategy for one customer; wins over the rules."""

    __tablename__ = "customer_strategy"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    set_by: Mapped[str] = mapped_column(String(100), default="")
    set_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class DunningState(Base):
    """Where one invoice stands on its ladder. ``next_check_on`` is the day its next step can
    fall due, so the daily run reads only the invoices with something to do that day."""

    __tablename__ = "dunning_state"
    __table_args__ = (Index("ix_dunning_state_next", "company_id", "next_check_on"),)

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id"))
    last_trigger: Mapped[int] = mapped_column(Integer)
    last_step_on: Mapped[dt.date] = mapped_column(Date)
    not_before: Mapped[dt.date] = mapped_column(Date)
    next_check_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


class DailyRun(Base):
    """One run of the day's collections for one company and business date."""

    __tablename__ = "daily_run"
    __table_args__ = (Index("ix_daily_run_company", "company_id", "as_of"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))  # running, finished, failed
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    started_by: Mapped[str] = mapped_column(String(100), default="")
    summary: Mapped[str] = mapped_column(Text, default="{}")  # JSON: rules.RunSummary


class CollectionAction(Base):
    """One step taken for one customer on one day, covering the invoices listed in
    ``collection_action_item``. Unique per customer, step and day: re-running a day adds none."""

    __tablename__ = "collection_action"
    __table_args__ = (
        UniqueConstraint("company_id", "customer_id", "step_id", "as_of"),
        Index("ix_collection_action_customer", "company_id", "customer_id", "as_of"),
        Index("ix_collection_action_day", "company_id", "as_of", "channel"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("daily_run.id"), default=None)
    as_of: Mapped[dt.date] = mapped_column(Date)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("strategy_step.id"))
    step_name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(60), default="")
    amount: Mapped[int] = mapped_column(Fen)
    invoice_count: Mapped[int] = mapped_column(Integer)
    # open (a task or letter to handle), done, sent, failed, skipped (nothing to send to)
    status: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class CollectionActionItem(Base):
    """An invoice covered by an action, with what was open on it then. An invoice goes
    through a step once: the unique key stops a second run (or a concurrent one) repeating it."""

    __tablename__ = "collection_action_item"
    __table_args__ = (UniqueConstraint("company_id", "invoice_id", "step_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("collection_action.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("strategy_step.id"))
    open_amount: Mapped[int] = mapped_column(Fen)


class Delivery(Base):
    """One message to one recipient on one channel, and what became of it. ``message_id`` is
    the idempotency key: a retry re-sends the same row, never a new one."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("company_id", "message_id"),
        Index(
            "ix_delivery_pending",
            "company_id",
            "status",
            "send_after",
            sqlite_where=text("status IN ('pending', 'retry')"),
            postgresql_where=text("status IN ('pending', 'retry')"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    # The step that sent it; None for a message of its own (a customer statement of account).
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_action.id"), index=True, default=None
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    channel: Mapped[str] = mapped_column(String(20))  # email, sms, alert
    recipient: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str] = mapped_column(String(500), default="")  # document ids, "|"
    message_id: Mapped[str] = mapped_column(String(120))
    # pending, sending, sent, retry, bounced, failed, uncertain (interrupted while sending)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_after: Mapped[dt.datetime] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    provider_id: Mapped[str] = mapped_column(String(200), default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class Document(Base):
    """A generated PDF or XLSX (letter, statement), kept as sent: it is evidence."""

    __tablename__ = "collection_document"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_action.id"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(40))  # the template code, or "statement"
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    reference: Mapped[str] = mapped_column(String(80))
    created_on: Mapped[dt.date] = mapped_column(Date)


class Referral(Base):
    """A customer handed to an agency or to legal, with the evidence the case will need."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("collection_action.id"))
    kind: Mapped[str] = mapped_column(String(20))  # agency, lawyer_letter, litigation
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, accepted, closed
    amount: Mapped[int] = mapped_column(Fen)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of evidence items


class MessageTemplate(Base):
    """A company's own wording for a template code and language (else the shipped default)."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("company_id", "code", "language"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")  # the closing lines
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class CollectionSettings(Base):
    """Courtesy and sender settings per company."""

    __tablename__ = "collection_settings"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    contacts_per_week: Mapped[int] = mapped_column(Integer, default=2)
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:30")
    language: Mapped[str] = mapped_column(String(5), default="zh")
    pay_within_days: Mapped[int] = mapped_column(Integer, default=7)
    sender_name: Mapped[str] = mapped_column(String(100), default="")
    sender_phone: Mapped[str] = mapped_column(String(60), default="")
    sender_email: Mapped[str] = mapped_column(String(200), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    account_name: Mapped[str] = mapped_column(String(200), default="")
    account_number: Mapped[str] = mapped_column(String(60), default="")
    payment_note: Mapped[str] = mapped_column(String(300), default="")
    statement_format: Mapped[str] = mapped_column(String(10), default="xlsx")  # xlsx, pdf, none
    # Working days after a promised date or a plan instalment before money counts as late.
    promise_grace_workdays: Mapped[int] = mapped_column(Integer, default=2)


# --- What stops chasing (managed in full by the collector's desk) --------------------------


class Dispute(Base):
    """An amount of an invoice the customer contests: never chased while open."""

    __tablename__ = "dispute"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_dispute_open", "company_id", "invoice_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    amount: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(String(20))  # quality, quantity, price, delivery, ...
    note: Mapped[str] = mapped_column(String(1000), default="")
    raised_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, resolved
    resolved_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # The last day the contract allowed the claim (delivery/issue + dispute window) and
    # whether it came in time: a late claim is recorded as late, not refused.
    window_ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    within_window: Mapped[bool | None] = mapped_column(Boolean, default=None)
    resolution: Mapped[str] = mapped_column(
        String(20), default=""
    )  # credit_note, correction, rejected
    resolution_note: Mapped[str] = mapped_column(String(1000), default="")
    resolved_by: Mapped[str] = mapped_column(String(100), default="")
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_note.id"), default=None)


class PromiseToPay(Base):
    __tablename__ = "promise_to_pay"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    promised_on: Mapped[dt.date] = mapped_column(Date)  # the day the money should arrive
    amount: Mapped[int] = mapped_column(Fen)
    made_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, kept, partly, broken
    note: Mapped[str] = mapped_column(String(1000), default="")
    made_by: Mapped[str] = mapped_column(String(100), default="")  # who at the customer promised
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    settled_on: Mapped[dt.date | None] = mapped_column(Date, default=None)  # when judged


class PromiseInvoice(Base):
    __tablename__ = "promise_invoice"

    promise_id: Mapped[int] = mapped_column(ForeignKey("promise_to_pay.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), primary_key=True, index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))


class PaymentPlan(Base):
    __tablename__ = "payment_plan"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    agreed_on: Mapped[dt.date] = mapped_column(Date)
    # proposed (waiting for another person who may manage credit), rejected, active (approved,
    # in good standing), completed, defaulted (an instalment missed), cancelled
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    approved_by: Mapped[str] = mapped_column(String(100), default="")  # who approved it
    note: Mapped[str] = mapped_column(String(1000), default="")
    annual_interest_bp: Mapped[int] = mapped_column(Integer, default=0)  # basis points a year
    waive_late_fees: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    defaulted_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


class PaymentPlanInvoice(Base):
    __tablename__ = "payment_plan_invoice"

    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plan.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), primary_key=True, index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))


class DoNotContact(Base):
    """A note that the customer must not be contacted (e.g. in talks with management, or a
    court order), from a date until a date or until lifted."""

    __tablename__ = "do_not_contact"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    placed_by: Mapped[str] = mapped_column(String(100), default="")
    lifted_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


# --- The collector's desk -------------------------------------------------------------------


class ContactLog(Base):
    """One contact with a customer, logged by the collector: who was reached, how, what came
    of it, the excuse given (with the facts captured) and the next step. The evidence trail."""

    __tablename__ = "contact_log"
    __table_args__ = (
        Index("ix_contact_log_customer", "company_id", "customer_id", "contacted_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("collection_action.id"), default=None)
    contacted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(20))  # phone, visit, wechat, email, sms, other
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), default=None)
    reached: Mapped[str] = mapped_column(String(100), default="")  # who answered
    # reached, no_answer, refused, promised, disputed, paid_claimed, other
    outcome: Mapped[str] = mapped_column(String(20))
    excuse: Mapped[str] = mapped_column(String(40), default="")  # an excuse code, if one given
    facts: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what the excuse asks to note
    note: Mapped[str] = mapped_column(String(2000), default="")
    next_step_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    logged_by: Mapped[str] = mapped_column(String(100))


class Excuse(Base):
    """A common excuse in the call assistant's catalogue: what it usually means, what to say,
    which facts to capture and the follow-up it starts. Data the company may edit."""

    __tablename__ = "excuse"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {name, label}
    follow_ups: Mapped[str] = mapped_column(String(200), default="")  # kinds, "|"
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FollowUp(Base):
    """Work an excuse or an event starts: verify a claimed payment, a debt acknowledgment to
    sign, a credit or limit review, a late quality claim, an invoice copy to reissue."""

    __tablename__ = "follow_up"
    __table_args__ = (Index("ix_follow_up_due", "company_id", "status", "due_on"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_log_id: Mapped[int | None] = mapped_column(ForeignKey("contact_log.id"), default=None)
    kind: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, done
    detail: Mapped[str] = mapped_column(String(2000), default="")
    result: Mapped[str] = mapped_column(String(2000), default="")
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_document.id"), default=None
    )


class PromiseInstalment(Base):
    """One dated amount of a promise to pay; a promise may have one or several."""

    __tablename__ = "promise_instalment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise_to_pay.id"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Fen)
    paid: Mapped[int] = mapped_column(Fen, default=0)  # received towards it, as last checked
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, kept, partly, broken


class PlanInstalment(Base):
    """One instalment of a payment plan."""

    __tablename__ = "plan_instalment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plan.id"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Fen)
    interest: Mapped[int] = mapped_column(Fen, default=0)
    paid: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, paid, missed


class LateFeeCharge(Base):
    """Late fee charged on one invoice for one period. Unique per invoice and period end, so
    however often the run repeats, a period is charged once."""

    __tablename__ = "late_fee_charge"
    __table_args__ = (UniqueConstraint("company_id", "invoice_id", "period_end"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    base: Mapped[int] = mapped_column(Fen)  # the overdue balance the fee was computed on
    rate: Mapped[str] = mapped_column(String(30))  # the contract's rate as written, e.g. 0.0005/day
    amount: Mapped[int] = mapped_column(Fen)
    waived: Mapped[int] = mapped_column(Fen, default=0)
    waiver_reason: Mapped[str] = mapped_column(String(500), default="")
    waiver_approved_by: Mapped[str] = mapped_column(String(100), default="")


class LateFeeWaiver(Base):
    """A request to waive all or part of a late-fee charge. It lowers what is owed only once
    another person who may manage credit approves it (``late_fees.decide_waiver``)."""

    __tablename__ = "late_fee_waiver"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_late_fee_waiver_pending", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    charge_id: Mapped[int] = mapped_column(ForeignKey("late_fee_charge.id"), index=True)
    amount: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(
        String(20), default="pending"
    )  # pending, approved, rejected
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    note: Mapped[str] = mapped_column(String(1000), default="")
