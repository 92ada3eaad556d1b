"""The matching queue as the clerk reads it: waiting lines, newest first, each with its best
candidates (customer, invoices and amounts, confidence, reasons) in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice
from huikuan.reconciliation.matching_rules import Reason
from huikuan.reconciliation.models import BankLine, MatchSuggestion

WAITING_STATUSES = ("suggested", "unknown")
STATUSES = ("new", "suggested", "unknown", "applied", "outgoing")


@dataclass(frozen=True, slots=True)
class QueueCandidate:
    rank: int
    customer_id: int
    customer_code: str
    customer_name: str
    allocations: tuple[tuple[str, int], ...]  # (invoice number, fen)
    invoice_ids: tuple[int, ...]
    unapplied: int
    confidence: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    booked_on: dt.date
    amount: int
    payer_name: str
    payer_account: str
    remittance: str
    status: str
    decided_by: str
    customer_code: str  # when applied
    candidates: tuple[QueueCandidate, ...]


@dataclass(frozen=True, slots=True)
class QueuePage:
    total: int
    rows: tuple[QueueRow, ...]


def waiting_lines(
    session: Session,
    *,
    company_id: int,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> QueuePage:
    """Lines with ``status`` (the waiting ones by default), newest first, with candidates."""
    statuses = (status,) if status else WAITING_STATUSES
    where = (BankLine.company_id == company_id, BankLine.status.in_(statuses))
    total = session.scalar(select(func.count()).select_from(BankLine).where(*where)) or 0
    lines = session.execute(
        select(BankLine, Customer.code)
        .outerjoin(Customer, Customer.id == BankLine.customer_id)
        .where(*where)
        .order_by(BankLine.booked_on.desc(), BankLine.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    candidates = _candidates(session, company_id, [line.id for line, _ in lines])
    rows = tuple(
        QueueRow(
            line.id,
            line.booked_on,
            line.amount,
            line.payer_name,
            line.payer_account,
            line.remittance,
            line.status,
            line.decided_by,
            code or "",
            tuple(candidates.get(line.id, ())),
        )
        for line, code in lines
    )
    return QueuePage(total, rows)


def _candidates(
    session: Session, company_id: int, line_ids: list[int]
) -> dict[int, list[QueueCandidate]]:
    if not line_ids:
        return {}
    rows = session.execute(
        select(MatchSuggestion, Customer.code, Customer.name)
        .join(Customer, Customer.id == MatchSuggestion.customer_id)
        .where(MatchSuggestion.company_id == company_id, MatchSuggestion.bank_line_id.in_(line_ids))
        .order_by(MatchSuggestion.bank_line_id, MatchSuggestion.rank)
    ).all()
    parsed = [(s, code, name, json.loads(s.allocations)) for s, code, name in rows]
    invoice_ids = {invoice_id for *_, allocations in parsed for invoice_id, _ in allocations}
    numbers = dict(
        session.execute(
            select(Invoice.id, Invoice.number).where(Invoice.id.in_(list(invoice_ids)))
        ).all()
    )
    found: dict[int, list[QueueCandidate]] = {}
    for suggestion, code, name, allocations in parsed:
        found.setdefault(suggestion.bank_line_id, []).append(
            QueueCandidate(
                suggestion.rank,
                suggestion.customer_id,
                code,
                name,
                tuple((numbers.get(i, str(i)), a) for i, a in allocations),
                tuple(i for i, _ in allocations),
                suggestion.unapplied,
                suggestion.confidence,
                tuple(Reason(c, zh, en) for c, zh, en in json.loads(suggestion.reasons)),
            )
        )
    return found
