"""Routes: bank statements and cash application under /api/bank — import a statement file (or
preview it with ``dry_run``), the lines by status with their candidates, apply a line to a
customer's invoices, undo an application, match the waiting lines again.

Every route needs ``write_ledger``: applying money writes the ledger, and the lines show every
payer, so they are not for roles that see only some customers. Money goes in and out as decimal
strings, dates as YYYY-MM-DD; a refused file is a 422 ``import_rejected`` whose ``details``
name every bad row, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections.api import business_date
from huikuan.core.audit import Actor
from huikuan.core.errors import ImportRejected, InvalidInput, NotFound, RowError, prefixed
from huikuan.core.money import AmountError, decimal_string, parse_amount
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice
from huikuan.reconciliation.bank_files import FIELD_NAMES
from huikuan.reconciliation.bank_import import BankImport, import_bank_statement
from huikuan.reconciliation.bank_queries import (
    LineView,
    QueueCandidate,
    bank_lines,
    preview_statement,
)
from huikuan.reconciliation.matching import MatchRun, apply_line, match_waiting, undo_line
from huikuan.reconciliation.matching_rules import Reason
from huikuan.reconciliation.models import BankLine, MatchSuggestion
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, SessionDep, require, visible_customer
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta

router = APIRouter(prefix="/api/bank", tags=["bank"])
Clerk = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
LineId = Annotated[int, PathParam(ge=1, le=2**62)]
MAX_UPLOAD = 50 * 1024 * 1024
StatusFilter = Literal["waiting", "new", "suggested", "unknown", "applied", "outgoing", "all"]


# --- shared with the pages ----------------------------------------------------------------------


class StatementRejected(InvalidInput):
    """A statement file with bad rows; ``details`` names each one, nothing was imported."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(
            f"文件有 {len(errors)} 处错误，未导入任何流水 / {len(errors)} errors in the file: "
            "nothing imported"
        )
        self.details = [row_error_text(e) for e in errors]


def row_error_text(error: RowError) -> str:
    """``第 8 行 贷方发生额：无法识别的金额 / row 8 贷方发生额: not an amount``."""
    zh, _, en = error.reason.partition(" / ")
    return f"第 {error.row} 行 {error.column}：{zh} / row {error.row} {error.column}: {en or zh}"


def parse_mapping(lines: Iterable[str]) -> dict[str, str]:
    """``field=column`` lines (blank ones skipped) as the mapping the file readers take."""
    mapping: dict[str, str] = {}
    for raw in (part for text in lines for part in text.splitlines()):
        line = raw.strip()
        if not line:
            continue
        name, sep, column = line.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InvalidInput(
                f"列对应要写成 字段=列名：{line} / a column mapping reads field=column: {line}"
            )
        if name.strip() not in FIELD_NAMES:
            raise InvalidInput(
                f"未知字段 {name.strip()}，可用: {', '.join(FIELD_NAMES)} / unknown field "
                f"{name.strip()}; known fields: {', '.join(FIELD_NAMES)}"
            )
        mapping[name.strip()] = column.strip()
    return mapping


def read_amount(text: str, field: str) -> int:
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


def apply_by_numbers(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    line_id: int,
    customer: Customer,
    allocations: Sequence[tuple[str, int]],
    learn_payer: bool,
    rank: int | None = None,
) -> BankLine:
    """Apply the line to ``customer``'s invoices named by number, the rest unapplied on the
    customer. When the clerk confirms the candidate of ``rank`` as it was suggested, its
    confidence and reasons are kept with the line."""
    numbers = [number for number, _ in allocations]
    ids = dict(
        session.execute(
            select(Invoice.number, Invoice.id).where(
                Invoice.company_id == company_id,
                Invoice.customer_id == customer.id,
                Invoice.number.in_(numbers),
            )
        ).all()
    )
    missing = [n for n in numbers if n not in ids]
    if missing:
        raise NotFound(
            f"客户 {customer.code} 没有发票 {', '.join(missing)} / customer {customer.code} has no "
            f"invoice {', '.join(missing)}"
        )
    by_id = [(ids[number], amount) for number, amount in allocations]
    confidence, reasons = _suggested(session, company_id, line_id, rank, customer.id, by_id)
    return apply_line(
        session, actor=actor, company_id=company_id, line_id=line_id, customer_id=customer.id,
        allocations=by_id, confidence=confidence, reasons=reasons, by=actor.name,
        learn_payer=learn_payer,
    )  # fmt: skip


def _suggested(
    session: Session,
    company_id: int,
    line_id: int,
    rank: int | None,
    customer_id: int,
    allocations: list[tuple[int, int]],
) -> tuple[float | None, tuple[Reason, ...]]:
    if rank is None:
        return None, ()
    suggestion = session.scalar(
        select(MatchSuggestion).where(
            MatchSuggestion.company_id == company_id,
            MatchSuggestion.bank_line_id == line_id,
            MatchSuggestion.rank == rank,
        )
    )
    if (
        suggestion is None
        or suggestion.customer_id != customer_id
        or [tuple(a) for a in json.loads(suggestion.allocations)] != allocations
    ):
        return None, ()  # edited by the clerk: their own decision, not the suggestion
    return suggestion.confidence, tuple(Reason(*r) for r in json.loads(suggestion.reasons))


def read_upload(file: UploadFile) -> bytes:
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput(
            "文件超过 50 MB，请用命令行 huikuan bank import / file over 50 MB: use huikuan bank import"
        )
    return data


# --- answers ------------------------------------------------------------------------------------


class MatchOut(BaseModel):
    lines: int = Field(description="Lines matched")
    auto: int = Field(description="Applied automatically (payments recorded)")
    suggested: int = Field(description="Waiting with candidates for a clerk")
    unknown: int = Field(description="Waiting, no candidate")
    applied_amount: str = Field(description="Money applied automatically")
    dry_run: bool


class StatementOut(BaseModel):
    statement_id: int | None = Field(description="None when nothing was added, or a dry run")
    account: str
    format: str = Field(description="csv, xlsx, mt940 or camt053")
    lines: int = Field(description="Lines in the file")
    added: int = Field(description="Lines added (a dry run: lines that would be)")
    known: int = Field(description="Lines imported before, left alone")
    money_in: str = Field(description="Money in of the lines added")
    line_ids: list[int]
    dry_run: bool
    match: MatchOut | None = Field(description="The matching of the lines added, if run")


class ReasonOut(BaseModel):
    code: str
    zh: str
    en: str


class AllocationOut(BaseModel):
    invoice: str
    amount: str


class CandidateOut(BaseModel):
    rank: int
    customer: str
    customer_name: str
    allocations: list[AllocationOut]
    unapplied: str = Field(description="What would stay unapplied on the customer")
    confidence: float = Field(description="0 to 1")
    reasons: list[ReasonOut]


class LineOut(BaseModel):
    id: int
    account: str
    booked_on: dt.date
    value_on: dt.date | None
    amount: str = Field(description="Negative for money out")
    currency: str
    payer_name: str
    payer_account: str
    remittance: str
    bank_reference: str
    status: str = Field(description="new, suggested, unknown, applied or outgoing")
    decided_by: str = Field(description="auto or the clerk, when applied")
    customer: str | None = Field(description="The customer's code, when applied")
    payment_id: int | None
    confidence: float | None
    reasons: list[ReasonOut] = Field(description="Why the line was applied as it was")
    candidates: list[CandidateOut] = Field(description="Best first, for waiting lines")


class LinePageOut(PageMeta):
    amount: str = Field(description="Sum of every matching line")
    items: list[LineOut]


def _reasons(reasons: Iterable[Reason]) -> list[ReasonOut]:
    return [ReasonOut(code=r.code, zh=r.zh, en=r.en) for r in reasons]


def _candidate(c: QueueCandidate) -> CandidateOut:
    return CandidateOut(
        rank=c.rank, customer=c.customer_code, customer_name=c.customer_name,
        allocations=[AllocationOut(invoice=n, amount=decimal_string(a)) for n, a in c.allocations],
        unapplied=decimal_string(c.unapplied), confidence=c.confidence, reasons=_reasons(c.reasons),
    )  # fmt: skip


def line_out(row: LineView) -> LineOut:
    return LineOut(
        id=row.id, account=row.account, booked_on=row.booked_on, value_on=row.value_on,
        amount=decimal_string(row.amount), currency=row.currency, payer_name=row.payer_name,
        payer_account=row.payer_account, remittance=row.remittance,
        bank_reference=row.bank_reference, status=row.status, decided_by=row.decided_by,
        customer=row.customer_code or None, payment_id=row.payment_id, confidence=row.confidence,
        reasons=_reasons(row.reasons), candidates=[_candidate(c) for c in row.candidates],
    )  # fmt: skip


def match_out(run: MatchRun, *, dry_run: bool = False) -> MatchOut:
    return MatchOut(
        lines=run.lines, auto=run.auto, suggested=run.suggested, unknown=run.unknown,
        applied_amount=decimal_string(run.applied_amount), dry_run=dry_run,
    )  # fmt: skip


def _statement_out(result: BankImport, *, dry_run: bool, run: MatchRun | None) -> StatementOut:
    return StatementOut(
        statement_id=result.statement_id, account=result.account, format=result.format,
        lines=result.lines, added=result.added, known=result.known,
        money_in=decimal_string(result.money_in), line_ids=list(result.added_ids),
        dry_run=dry_run, match=match_out(run) if run else None,
    )  # fmt: skip


def _one_line(session: Session, principal: Principal, line_id: int) -> LineOut:
    page = bank_lines(session, company_id=principal.company.id, status="all", line_id=line_id)
    if not page.rows:
        raise NotFound(f"没有银行流水 {line_id} / no bank line {line_id}")
    return line_out(page.rows[0])


# --- routes -------------------------------------------------------------------------------------


@router.post("/statements", response_model=StatementOut, responses=ERROR_RESPONSES)
def import_statement(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    file: Annotated[UploadFile, File(description="CSV, XLSX, MT940 or camt.053")],
    account: Annotated[
        str, Form(max_length=60, description="Our account, if the file names none")
    ] = "",
    mapping: Annotated[
        list[str], Form(description="field=column, repeated or one a line; e.g. credit=收入(元)")
    ] = [],  # noqa: B006 - FastAPI copies a default, it is never shared
    dry_run: Annotated[bool, Form(description="Preview: say what would be added")] = False,
    match: Annotated[bool, Form(description="Match the lines added at once")] = True,
) -> StatementOut:
    """Import a bank statement: lines already imported are left alone, the new ones are
    matched (sure ones applied, the rest waiting). ``dry_run`` writes nothing."""
    data = read_upload(file)
    filename = (file.filename or "statement")[:200]
    columns = parse_mapping(mapping) or None
    actor = principal.actor(request)
    try:
        if dry_run:
            preview = preview_statement(
                session, company_id=principal.company.id, data=data, filename=filename,
                mapping=columns, account=account.strip() or None,
            )  # fmt: skip
            return _statement_out(preview.result, dry_run=True, run=None)
        result = import_bank_statement(
            session, actor=actor, company_id=principal.company.id, data=data, filename=filename,
            mapping=columns, account=account.strip() or None,
        )  # fmt: skip
    except ImportRejected as exc:
        raise StatementRejected(exc.errors) from exc
    run = None
    if match and result.added_ids:
        run = match_waiting(
            session, actor=actor, company_id=principal.company.id, line_ids=result.added_ids
        )
    return _statement_out(result, dry_run=False, run=run)


@router.get("/lines", response_model=LinePageOut, responses=ERROR_RESPONSES)
def lines(
    session: SessionDep,
    principal: Clerk,
    status: Annotated[
        StatusFilter, Query(description="waiting (suggested and unknown), a status, or all")
    ] = "waiting",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LinePageOut:
    """Bank lines newest first; waiting lines carry their candidates, applied ones what was
    decided and the payment."""
    found = bank_lines(
        session, company_id=principal.company.id, status=status, limit=page_size,
        offset=(page - 1) * page_size,
    )  # fmt: skip
    return LinePageOut(
        items=[line_out(row) for row in found.rows], amount=decimal_string(found.amount),
        page=page, page_size=page_size, total=found.total,
    )  # fmt: skip


class AllocationIn(BaseModel):
    invoice: Annotated[str, Field(min_length=1, max_length=60)]
    amount: Annotated[str, Field(max_length=40, description="Decimal string, e.g. 500.00")]


class ApplyIn(BaseModel):
    customer: Annotated[str, Field(min_length=1, max_length=60, description="Customer code")]
    allocations: Annotated[
        list[AllocationIn],
        Field(max_length=500, description="Invoices and amounts; the rest stays unapplied"),
    ] = []
    learn_payer: bool = Field(True, description="Remember the payer name and account")
    candidate: int | None = Field(
        None, ge=1, le=100, description="The rank of the candidate confirmed, if one was"
    )


@router.post("/lines/{line_id}/apply", response_model=LineOut, responses=ERROR_RESPONSES)
def apply(
    request: Request, session: SessionDep, principal: Clerk, line_id: LineId, body: ApplyIn
) -> LineOut:
    """Record the line's money as a payment of the customer applied to the invoices given.
    409 when the line is already applied (by another clerk or automatically)."""
    customer = visible_customer(session, principal, body.customer)
    allocations = [
        (a.invoice.strip(), read_amount(a.amount, f"allocations[{i}].amount"))
        for i, a in enumerate(body.allocations)
    ]
    apply_by_numbers(
        session, actor=principal.actor(request), company_id=principal.company.id,
        line_id=line_id, customer=customer, allocations=allocations,
        learn_payer=body.learn_payer, rank=body.candidate,
    )  # fmt: skip
    return _one_line(session, principal, line_id)


class UndoIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    on: dt.date | None = Field(None, description="Reversal date; default today")


@router.post("/lines/{line_id}/undo", response_model=LineOut, responses=ERROR_RESPONSES)
def undo(
    request: Request, session: SessionDep, principal: Clerk, line_id: LineId, body: UndoIn
) -> LineOut:
    """Take back an application: the payment is reversed and the line waits again with fresh
    candidates. 409 when the line is not applied."""
    undo_line(
        session, actor=principal.actor(request), company_id=principal.company.id,
        line_id=line_id, on=business_date(body.on, "on"), reason=body.reason,
    )  # fmt: skip
    return _one_line(session, principal, line_id)


class MatchIn(BaseModel):
    dry_run: bool = Field(False, description="Say what would be done; write nothing")


@router.post("/match", response_model=MatchOut, responses=ERROR_RESPONSES)
def match_again(
    request: Request, session: SessionDep, principal: Clerk, body: MatchIn | None = None
) -> MatchOut:
    """Match every waiting line again (after new invoices or payer names). A line a clerk
    undid is never applied automatically."""
    dry_run = body.dry_run if body else False
    run = match_waiting(
        session, actor=principal.actor(request), company_id=principal.company.id,
        dry_run=dry_run,
    )  # fmt: skip
    return match_out(run, dry_run=dry_run)
