"""Bank lines as the pages and the API read them: a statement file previewed before it is
imported (what the import would add, nothing written), and the stored lines by status, newest
first, each with what was decided or the candidates waiting for a clerk, in a fixed number of
queries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.errors import InvalidInput
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice
from huikuan.reconciliation.bank_files import read_bank_file
from huikuan.reconciliation.bank_import import BankImport
from huikuan.reconciliation.bank_lines import BankLine as FileLine
from huikuan.reconciliation.bank_lines import BankStatement as FileStatement
from huikuan.reconciliation.bank_lines import line_keys
from huikuan.reconciliation.matching_rules import Reason
from huikuan.reconciliation.models import BankLine, MatchSuggestion

WAITING_STATUSES = ("suggested", "unknown")
STATUSES = ("new", "suggested", "unknown", "applied", "outgoing")
# The lists a clerk picks from: the waiting lines (the queue), one status, or every line.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "waiting": WAITING_STATUSES,
    **{status: (status,) for status in STATUSES},
    "all": STATUSES,
}
CHUNK = 1000


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
class PreviewLine:
    line: FileLine
    known: bool  # imported before: the import leaves it alone


@dataclass(frozen=True, slots=True)
class StatementPreview:
    result: BankImport  # what the import would answer (no statement, no ids)
    statement: FileStatement
    first: tuple[PreviewLine, ...]


def preview_statement(
    session: Session,
    *,
    company_id: int,
    data: bytes,
    filename: str,
    mapping: Mapping[str, str] | None = None,
    account: str | None = None,
    first: int = 20,
) -> StatementPreview:
    """Read the file and compare it with the lines stored, writing nothing. Raises what the
    import raises for the same file (``InvalidInput``, ``ImportRejected`` with every bad row)."""
    read = read_bank_file(data, filename, mapping=dict(mapping or {}), account=account)
    if not read.account:
        raise InvalidInput(
            f"{filename}：文件中没有账号，请指定入账账户 / {filename}: the file names no account: "
            "say which account it is for"
        )
    keys = line_keys(read.account, read.lines)
    known = known_keys(session, company_id=company_id, keys=keys)
    fresh = [line for key, line in zip(keys, read.lines, strict=True) if key not in known]
    money_in = sum(line.amount for line in fresh if line.amount > 0)
    result = BankImport(
        None, read.account, read.format, len(keys), len(fresh), len(keys) - len(fresh), money_in, ()
    )
    shown = tuple(
        PreviewLine(line, key in known)
        for key, line in zip(keys[:first], read.lines[:first], strict=True)
    )
    return StatementPreview(result, read, shown)


def known_keys(session: Session, *, company_id: int, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` of lines already stored for the company."""
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            session.scalars(
                select(BankLine.line_key).where(
                    BankLine.company_id == company_id,
                    BankLine.line_key.in_(list(keys[start : start + CHUNK])),
                )
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class LineView:
    """One stored line: the bank's facts, its status, and what was decided (applied lines) or
    the best candidates (waiting lines)."""

    id: int
    account: str
    booked_on: dt.date
    value_on: dt.date | None
    amount: int
    currency: str
    payer_name: str
    payer_account: str
    remittance: str
    bank_reference: str
    status: str
    decided_by: str  # "auto" or the clerk, when applied
    customer_code: str  # when applied
    customer_name: str
    payment_id: int | None
    confidence: float | None  # of the candidate applied, if one was
    reasons: tuple[Reason, ...]
    candidates: tuple[QueueCandidate, ...]


@dataclass(frozen=True, slots=True)
class LinePage:
    total: int
    amount: int  # fen of every matching line, not only this page
    rows: tuple[LineView, ...]


def bank_lines(
    session: Session,
    *,
    company_id: int,
    status: str = "waiting",
    line_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> LinePage:
    """Lines of a ``STATUS_FILTERS`` list (or the one line ``line_id``), newest first."""
    if status not in STATUS_FILTERS:
        raise InvalidInput(
            f"未知状态 {status}，可用: {', '.join(STATUS_FILTERS)} / unknown status {status}; "
            f"known: {', '.join(STATUS_FILTERS)}"
        )
    where = [BankLine.company_id == company_id, BankLine.status.in_(STATUS_FILTERS[status])]
    if line_id is not None:
        where.append(BankLine.id == line_id)
    total, amount = session.execute(
        select(func.count(), func.coalesce(func.sum(BankLine.amount), 0)).where(*where)
    ).one()
    found = session.execute(
        select(BankLine, Customer.code, Customer.name)
        .outerjoin(Customer, Customer.id == BankLine.customer_id)
        .where(*where)
        .order_by(BankLine.booked_on.desc(), BankLine.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    waiting = [line.id for line, _, _ in found if line.status in WAITING_STATUSES]
    candidates: dict[int, list[QueueCandidate]] = {}
    for start in range(0, len(waiting), CHUNK):  # an export holds every waiting line
        candidates.update(line_candidates(session, company_id, waiting[start : start + CHUNK]))
    rows = tuple(_view(line, code, name, candidates.get(line.id, [])) for line, code, name in found)
    return LinePage(int(total), int(amount), rows)


def _view(
    line: BankLine, code: str | None, name: str | None, candidates: list[QueueCandidate]
) -> LineView:
    reasons = tuple(Reason(c, zh, en) for c, zh, en in json.loads(line.reasons or "[]"))
    return LineView(
        line.id, line.account, line.booked_on, line.value_on, line.amount, line.currency,
        line.payer_name, line.payer_account, line.remittance, line.bank_reference, line.status,
        line.decided_by, code or "", name or "", line.payment_id, line.confidence, reasons,
        tuple(candidates),
    )  # fmt: skip


def status_counts(session: Session, *, company_id: int) -> dict[str, tuple[int, int]]:
    """Lines and fen per status filter (``waiting`` and ``all`` included), zeros kept."""
    by_status = {
        status: (int(count), int(amount))
        for status, count, amount in session.execute(
            select(BankLine.status, func.count(), func.coalesce(func.sum(BankLine.amount), 0))
            .where(BankLine.company_id == company_id)
            .group_by(BankLine.status)
        )
    }
    return {
        name: (
            sum(by_status.get(s, (0, 0))[0] for s in statuses),
            sum(by_status.get(s, (0, 0))[1] for s in statuses),
        )
        for name, statuses in STATUS_FILTERS.items()
    }


def line_candidates(
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
