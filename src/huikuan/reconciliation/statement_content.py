"""What a customer's statement of account says, read from the ledger (see ``statement_rules``).

One statement per currency: the ledger keeps a currency on every document and never converts,
so a customer billed in CNY and USD gets two statements, each adding up on its own. The
company's currency comes first, then the others alphabetically; a customer with nothing at all
gets one statement in the company's currency showing a zero balance (a zero balance confirmed
is worth having for an audit too).

Set-based, whatever the number of documents: one statement for the customer, one grouped sum
for the opening balances, one for the period's documents, one for the unapplied money, one for
the late fees, and one aging per currency.

**Why the aging always equals the closing balance.** The closing balance is Σ invoices −
Σ payments not reversed − Σ credit notes, by document date. Each invoice's open amount on
``end`` is its amount less the allocations live then, and each payment's or credit note's
unapplied rest is its amount less the allocations live then; the same allocations sit on both
sides, so the difference is the closing balance. Two details keep it exact: an allocation to
an invoice voided later (its payment having been reversed) belongs to neither side, and an
invoice over-applied on a past date (money entered out of date order, see
``ledger.rules.open_balance``) shows zero in the aging with the excess counted here as the
customer's credit, which is what it was. The identity rests on the ledger's own invariants
(allocations never exceed their payment, voided invoices have no live allocations); tests
assert it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import BigInteger, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from huikuan.collections.models import LateFeeCharge
from huikuan.core.errors import InvalidInput, NotFound
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger import aging, rules
from huikuan.ledger.models import Allocation, CreditNote, Invoice, InvoiceStatus, Payment
from huikuan.reconciliation.statement_rules import (
    AgingBucket,
    LateFeeLine,
    LineKind,
    Movement,
    Party,
    Statement,
    compose_statement,
)


def build_statement(
    session: Session,
    *,
    company_id: int,
    customer_id: int,
    start: dt.date,
    end: dt.date,
    limits: Sequence[int] = rules.DEFAULT_BUCKET_LIMITS,
) -> list[Statement]:
    """The customer's statements for ``start``..``end`` (inclusive), one per currency with an
    opening balance, a document in the period, unapplied money or a late fee; never empty."""
    if end < start:
        raise InvalidInput(
            f"对账期间结束日 {end} 早于开始日 {start} / the period ends ({end}) before it starts ({start})"
        )
    who = _party(session, company_id=company_id, customer_id=customer_id)
    where = (company_id, customer_id)
    openings = _openings(session, where, start)
    movements = _movements(session, where, start, end)
    unapplied = _unapplied(session, where, end)
    fees = _late_fees(session, where, start, end)
    found = set(openings) | set(movements) | set(unapplied) | set(fees)
    currencies = sorted(found, key=lambda c: (c != who.currency, c)) or [who.currency]
    return [
        compose_statement(
            Party(who.company_name, who.customer_code, who.customer_name, currency),
            start=start,
            end=end,
            opening=openings.get(currency, 0),
            movements=movements.get(currency, []),
            aging=_aging(session, where, currency, end, limits),
            unapplied=unapplied.get(currency, 0),
            late_fees=fees.get(currency, []),
        )
        for currency in currencies
    ]


def _party(session: Session, *, company_id: int, customer_id: int) -> Party:
    """The customer of this company (else NotFound), with the company's name and currency."""
    row = session.execute(
        select(Company.name, Customer.code, Customer.name, Company.currency)
        .join(Company, Company.id == Customer.company_id)
        .where(Customer.company_id == company_id, Customer.id == customer_id)
    ).first()
    if row is None:
        raise NotFound(f"没有客户 {customer_id} / no customer {customer_id}")
    return Party(row[0], row[1], row[2], row[3] or "CNY")


def _aging(
    session: Session, where: tuple[int, int], currency: str, end: dt.date, limits: Sequence[int]
) -> list[AgingBucket]:
    """The open invoices on ``end`` in the ledger's aging buckets (the aging report's figures)."""
    company_id, customer_id = where
    buckets = aging.customer_buckets(
        session, company_id=company_id, customer_id=customer_id, currency=currency, as_of=end,
        limits=limits,
    )  # fmt: skip
    return [AgingBucket(name, amount) for name, amount in buckets]


def _openings(session: Session, where: tuple[int, int], start: dt.date) -> dict[str, int]:
    """Per currency, what the customer owed before ``start``: invoices − payments − credit notes
    + reversed payments, all dated before it, in one grouped statement."""
    before = [
        _sums(Invoice, Invoice.amount, Invoice.issue_date < start, where, sign=1).where(
            Invoice.status != InvoiceStatus.VOID.value
        ),
        _sums(Payment, Payment.amount, Payment.received_on < start, where, sign=-1),
        _sums(CreditNote, CreditNote.amount, CreditNote.issued_on < start, where, sign=-1),
        _sums(Payment, Payment.amount, Payment.reversed_on < start, where, sign=1),
    ]
    parts = union_all(*before).subquery("parts")
    rows = session.execute(
        select(parts.c.currency, cast(func.sum(parts.c.amount), BigInteger)).group_by(
            parts.c.currency
        )
    ).all()
    return {currency: int(total) for currency, total in rows if int(total or 0) != 0}


def _sums(table, amount, when, where: tuple[int, int], *, sign: int):
    """One kind of document's total per currency, with the sign it has on the balance."""
    company_id, customer_id = where
    total = func.sum(amount) if sign > 0 else -func.sum(amount)
    return (
        select(table.currency.label("currency"), total.label("amount"))
        .where(table.company_id == company_id, table.customer_id == customer_id, when)
        .group_by(table.currency)
    )


def _movements(
    session: Session, where: tuple[int, int], start: dt.date, end: dt.date
) -> dict[str, list[Movement]]:
    """Per currency, the documents dated in the period, as one union in one statement."""
    company_id, customer_id = where
    zero = literal(0, BigInteger)

    def kind(value: LineKind):
        return cast(literal(value.value), String).label("kind")

    def of(table):
        return [table.company_id == company_id, table.customer_id == customer_id]

    invoices = select(
        Invoice.currency, Invoice.issue_date, kind(LineKind.INVOICE), Invoice.number,
        Invoice.amount, zero, Invoice.id,
    ).where(
        *of(Invoice), Invoice.issue_date.between(start, end),
        Invoice.status != InvoiceStatus.VOID.value,
    )  # fmt: skip
    notes = select(
        CreditNote.currency, CreditNote.issued_on, kind(LineKind.CREDIT_NOTE), CreditNote.number,
        zero, CreditNote.amount, CreditNote.id,
    ).where(*of(CreditNote), CreditNote.issued_on.between(start, end))  # fmt: skip
    payments = select(
        Payment.currency, Payment.received_on, kind(LineKind.PAYMENT), Payment.reference,
        zero, Payment.amount, Payment.id,
    ).where(*of(Payment), Payment.received_on.between(start, end))  # fmt: skip
    reversals = select(
        Payment.currency, Payment.reversed_on, kind(LineKind.REVERSAL), Payment.reference,
        Payment.amount, zero, Payment.id,
    ).where(*of(Payment), Payment.reversed_on.between(start, end))  # fmt: skip
    found: dict[str, list[Movement]] = {}
    for currency, on, line_kind, reference, debit, credit, document_id in session.execute(
        union_all(invoices, notes, payments, reversals)
    ):
        found.setdefault(currency, []).append(
            Movement(
                on=on, kind=LineKind(line_kind), reference=reference or "",
                debit=int(debit), credit=int(credit), document_id=int(document_id),
            )
        )  # fmt: skip
    return found


def _unapplied(session: Session, where: tuple[int, int], end: dt.date) -> dict[str, int]:
    """Per currency, the customer's money not applied to an invoice at the end of ``end``:
    payments received and not reversed by then and credit notes issued by then, less their
    allocations live on that day (to invoices not voided), plus what live allocations put on
    an invoice beyond its amount. One statement."""
    company_id, customer_id = where
    live = and_(
        Allocation.effective_on <= end,
        or_(Allocation.reversed_on.is_(None), Allocation.reversed_on > end),
    )
    kept = Invoice.status != InvoiceStatus.VOID.value
    payment_kept = and_(
        Payment.company_id == company_id,
        Payment.customer_id == customer_id,
        Payment.received_on <= end,
        or_(Payment.reversed_on.is_(None), Payment.reversed_on > end),
    )
    note_kept = and_(
        CreditNote.company_id == company_id,
        CreditNote.customer_id == customer_id,
        CreditNote.issued_on <= end,
    )
    applied_to = (
        select(Invoice.currency, Invoice.amount, func.sum(Allocation.amount).label("applied"))
        .join(Allocation, and_(Allocation.invoice_id == Invoice.id, live))
        .where(Invoice.company_id == company_id, Invoice.customer_id == customer_id, kept)
        .group_by(Invoice.id, Invoice.currency, Invoice.amount)
        .subquery("applied_to")
    )
    excess = applied_to.c.applied - applied_to.c.amount
    parts = union_all(
        select(Payment.currency, Payment.amount.label("amount")).where(payment_kept),
        select(Payment.currency, -Allocation.amount)
        .join(Allocation, Allocation.payment_id == Payment.id)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(payment_kept, live, kept),
        select(CreditNote.currency, CreditNote.amount).where(note_kept),
        select(CreditNote.currency, -Allocation.amount)
        .join(Allocation, Allocation.credit_note_id == CreditNote.id)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(note_kept, live, kept),
        select(applied_to.c.currency, case((excess > 0, excess), else_=0)),
    ).subquery("parts")
    rows = session.execute(
        select(parts.c.currency, cast(func.sum(parts.c.amount), BigInteger)).group_by(
            parts.c.currency
        )
    ).all()
    return {currency: int(total) for currency, total in rows if int(total or 0) != 0}


def _late_fees(
    session: Session, where: tuple[int, int], start: dt.date, end: dt.date
) -> dict[str, list[LateFeeLine]]:
    """Per currency (the invoice's), the late fees for months ending in the period: a month is
    charged once it has ended, so this is what the period brought, whatever day the charging
    run happened to record it. Amounts waived so far are shown beside the charge."""
    company_id, customer_id = where
    found: dict[str, list[LateFeeLine]] = {}
    for charge, number, currency in session.execute(
        select(LateFeeCharge, Invoice.number, Invoice.currency)
        .join(Invoice, Invoice.id == LateFeeCharge.invoice_id)
        .where(
            LateFeeCharge.company_id == company_id,
            LateFeeCharge.customer_id == customer_id,
            LateFeeCharge.period_end.between(start, end),
        )
    ).all():
        found.setdefault(currency, []).append(
            LateFeeLine(
                invoice_number=number, period_start=charge.period_start,
                period_end=charge.period_end, days=charge.days, base=charge.base,
                rate=charge.rate, charged=charge.amount, waived=charge.waived,
            )
        )  # fmt: skip
    return found
