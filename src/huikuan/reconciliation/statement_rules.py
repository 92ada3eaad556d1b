"""The customer statement of account (对账单) as pure rules: lines, running balance, totals.

A statement is the customer's account for a period, by **document date**: what they owed the
day before the period (the opening balance), every invoice, credit note, payment and payment
reversal dated in the period with the balance after each, and what they owed at its end (the
closing balance). It is not the list of open items: how money was allocated does not change
it, so a payment nobody has applied yet lowers the balance the day it arrives, exactly as it
does in the customer's own books, which is what lets them tick it off line by line. The open
items come back underneath as the aging of the closing balance, with the unapplied money as a
negative line, so both views of the same debt meet in one total.

Worked example (period 03-01 to 03-31)::

    opening 02-28                          1,000.00   (INV-1 issued 01-20)
    03-05  invoice   INV-2        500.00              1,500.00
    03-05  credit    CN-1                   100.00    1,400.00
    03-10  payment   BANK-77                800.00      600.00
    03-20  reversal  BANK-77      800.00              1,400.00   (the transfer bounced)
    closing 03-31                                     1,400.00

Late fees charged in the period are listed apart with their own total: they are not ledger
documents and no payment is applied to them, so adding them to the balance would make it
disagree with the ledger and with the aging.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class LineKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    REVERSAL = "payment_reversal"


# On one day: what was billed, then what reduced it; a reversal after the payment it undoes.
_SAME_DAY_ORDER = {
    LineKind.INVOICE: 0,
    LineKind.CREDIT_NOTE: 1,
    LineKind.PAYMENT: 2,
    LineKind.REVERSAL: 3,
}


@dataclass(frozen=True, slots=True)
class Movement:
    """One document's effect on the customer's balance, before it has a place in a statement.

    ``debit`` raises what the customer owes (invoice, reversal), ``credit`` lowers it (payment,
    credit note). ``document_id`` only orders same-day documents with equal references (two
    payments without a bank reference) the way they were entered.
    """

    on: dt.date
    kind: LineKind
    reference: str
    debit: int = 0
    credit: int = 0
    document_id: int = 0

    @property
    def net(self) -> int:
        return self.debit - self.credit


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line as the customer reads it; ``balance`` is what they owed after it (fen)."""

    on: dt.date
    kind: LineKind
    reference: str
    debit: int
    credit: int
    balance: int


@dataclass(frozen=True, slots=True)
class AgingBucket:
    """Open invoices in one aging bucket on the statement's end; ``label`` is the ledger's
    bucket name (``current``, ``1-30``, …, ``366+``), worded by the documents."""

    label: str
    amount: int


@dataclass(frozen=True, slots=True)
class LateFeeLine:
    """A late fee charged on one invoice for one month ending in the period."""

    invoice_number: str
    period_start: dt.date
    period_end: dt.date
    days: int
    base: int  # the overdue balance the fee was computed on, fen
    rate: str  # the contract's rate as written, e.g. 0.0005/day
    charged: int
    waived: int

    @property
    def due(self) -> int:
        return self.charged - self.waived


@dataclass(frozen=True, slots=True)
class Statement:
    """A customer's statement of account for ``start``..``end`` (inclusive) in one currency.

    ``aging`` holds the open invoices on ``end`` by bucket and ``unapplied`` the money received
    or credited by then and not yet applied to an invoice (a positive amount, shown as a
    negative line): ``aging_total`` equals ``closing`` (see ``statement_content``).
    """

    company_name: str
    customer_code: str
    customer_name: str
    currency: str
    start: dt.date
    end: dt.date
    opening: int
    lines: tuple[StatementLine, ...]
    closing: int
    total_debit: int
    total_credit: int
    aging: tuple[AgingBucket, ...]
    unapplied: int
    late_fees: tuple[LateFeeLine, ...]

    @property
    def aging_total(self) -> int:
        return sum(bucket.amount for bucket in self.aging) - self.unapplied

    @property
    def late_fee_total(self) -> int:
        return sum(fee.due for fee in self.late_fees)


def line_order(movement: Movement) -> tuple[dt.date, int, str, int]:
    """Date order; on one day invoices, credit notes, payments, reversals; then by number."""
    return (movement.on, _SAME_DAY_ORDER[movement.kind], movement.reference, movement.document_id)


def opening_balance(movements: Iterable[Movement], start: dt.date) -> int:
    """What the customer owed at the end of the day before ``start``."""
    return sum(m.net for m in movements if m.on < start)


def in_period(movements: Iterable[Movement], start: dt.date, end: dt.date) -> list[Movement]:
    return [m for m in movements if start <= m.on <= end]


def statement_lines(opening: int, movements: Iterable[Movement]) -> tuple[StatementLine, ...]:
    """The movements in statement order, each with the balance after it."""
    balance = opening
    lines = []
    for m in sorted(movements, key=line_order):
        balance += m.net
        lines.append(StatementLine(m.on, m.kind, m.reference, m.debit, m.credit, balance))
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class Party:
    """Who the statement is from and to, and in which currency."""

    company_name: str
    customer_code: str
    customer_name: str
    currency: str


def compose_statement(
    party: Party,
    *,
    start: dt.date,
    end: dt.date,
    opening: int,
    movements: Sequence[Movement],
    aging: Sequence[AgingBucket] = (),
    unapplied: int = 0,
    late_fees: Sequence[LateFeeLine] = (),
) -> Statement:
    """The statement from its opening balance and the period's movements: closing = opening +
    debits − credits, which is also the last line's balance."""
    if end < start:
        raise ValueError("the period ends before it starts")
    outside = [m for m in movements if not start <= m.on <= end]
    if outside:
        raise ValueError(f"movement dated {outside[0].on} is outside the period")
    total_debit = sum(m.debit for m in movements)
    total_credit = sum(m.credit for m in movements)
    return Statement(
        company_name=party.company_name,
        customer_code=party.customer_code,
        customer_name=party.customer_name,
        currency=party.currency,
        start=start,
        end=end,
        opening=opening,
        lines=statement_lines(opening, movements),
        closing=opening + total_debit - total_credit,
        total_debit=total_debit,
        total_credit=total_credit,
        aging=tuple(aging),
        unapplied=unapplied,
        late_fees=tuple(sorted(late_fees, key=lambda f: (f.period_end, f.invoice_number))),
    )
