"""What a message or a document says: the facts the collections engine hands to a template.

Plain frozen dataclasses with money in fen and dates as ``datetime.date``; the templates format
them (``¥1,234,567.89``, ``YYYY-MM-DD``). The same context feeds an email, an SMS, a PDF letter
and a statement of open items, so what a customer reads is the same on every channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One open invoice as the customer sees it on a letter or statement."""

    invoice_number: str
    order_number: str
    issue_date: dt.date
    due_date: dt.date
    amount: int  # the invoice's amount, fen
    open_amount: int  # what is still owed on it, fen
    days_overdue: int  # 0 when not yet due
    late_fee: int = 0  # fen, 0 when the contract has none
    # True when the due date fell on a non-working day (the period then ends on the next one).
    due_on_holiday: bool = False


@dataclass(frozen=True, slots=True)
class PaymentInstructions:
    bank_name: str = ""
    account_name: str = ""
    account_number: str = ""
    note: str = ""  # e.g. "请在附言中注明发票号"


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything a template may use. ``language`` is ``"zh"`` or ``"en"``."""

    language: str
    as_of: dt.date
    company_name: str
    customer_code: str
    customer_name: str
    addressee: str  # the decision maker's name, else the main contact's, else ""
    addressee_role: str
    currency: str
    items: tuple[OpenItem, ...]
    total_open: int  # fen: sum of items' open_amount
    total_overdue: int  # fen: open amount of the items past due
    total_late_fee: int  # fen
    pay_by: dt.date | None  # the date we ask the money by
    reference: str  # the letter's or message's number, e.g. "HK-2026-12-02-C001-3"
    sender_name: str  # collector or company department signing
    sender_phone: str = ""
    sender_email: str = ""
    payment: PaymentInstructions = field(default_factory=PaymentInstructions)
    step_name: str = ""  # the ladder step, e.g. "正式催款函"
