"""Routes: customer statements of account (对账单) under /api — list and show statements,
issue one for a period (and email it), send it, record the customer's confirmation (with the
signed copy) or the differences they report, resolve a difference, set the schedule the daily
run sends statements on.

Money goes in and out as decimal strings in the statement's currency; dates as YYYY-MM-DD.
Statements of customers outside the user's view are 'not found'. Reading needs
``read_ledger``; issuing, sending, confirmations, differences and schedules
``reconcile_statements``; resolving a difference ``write_ledger`` (it may change the books).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections.api import business_date
from huikuan.core.dates import DateError, check_business_date
from huikuan.core.errors import InvalidInput, NotFound, prefixed
from huikuan.core.money import AmountError, decimal_string, parse_amount
from huikuan.customers.models import Customer
from huikuan.reconciliation import statements
from huikuan.reconciliation.models import CustomerStatement, StatementDifference
from huikuan.reconciliation.statement_content import build_statement
from huikuan.reconciliation.statement_queries import (
    StatementRow,
    count_statements,
    differences,
    list_statements,
)
from huikuan.reconciliation.statement_rules import Party, Statement, compose_statement
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, SessionDep, require, visible_customer
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta

router = APIRouter(prefix="/api", tags=["statements of account"])
Reader = Annotated[Principal, Depends(require(Right.READ_LEDGER))]
Reconciler = Annotated[Principal, Depends(require(Right.RECONCILE_STATEMENTS))]
Writer = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
Id = Annotated[int, PathParam(ge=1, le=2**62)]
Code = Annotated[str, PathParam(max_length=60)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
Amount = Annotated[str, Field(max_length=40, description="Decimal string, e.g. 5000.00")]
StatusName = Literal["issued", "sent", "confirmed", "disputed", "resolved"]
MAX_COPY_BYTES = 10 * 1024 * 1024  # a scanned page or a phone photo is far smaller


# --- reading ----------------------------------------------------------------------------------


def visible_statement(
    session: Session, principal: Principal, statement_id: int
) -> tuple[CustomerStatement, Customer]:
    """The statement and its customer, if the user sees the customer; 'not found' otherwise,
    so that ids of others' statements cannot be probed."""
    missing = f"没有对账单 {statement_id} / no statement {statement_id}"
    row = session.execute(
        select(CustomerStatement, Customer)
        .join(Customer, Customer.id == CustomerStatement.customer_id)
        .where(
            CustomerStatement.company_id == principal.company.id,
            CustomerStatement.id == statement_id,
        )
    ).first()
    if row is None:
        raise NotFound(missing)
    try:
        visible_customer(session, principal, row[1].code)
    except NotFound:
        raise NotFound(missing) from None
    return row[0], row[1]


def visible_difference(
    session: Session, principal: Principal, difference_id: int
) -> tuple[StatementDifference, CustomerStatement]:
    """The difference and its statement, if the user sees the statement's customer."""
    missing = f"没有差异 {difference_id} / no difference {difference_id}"
    found = session.scalar(
        select(StatementDifference).where(
            StatementDifference.company_id == principal.company.id,
            StatementDifference.id == difference_id,
        )
    )
    if found is None:
        raise NotFound(missing)
    try:
        statement, _ = visible_statement(session, principal, found.statement_id)
    except NotFound:
        raise NotFound(missing) from None
    return found, statement


def content_now(session: Session, statement: CustomerStatement) -> Statement:
    """The statement's period as the books show it now, in its currency (a zero statement
    when the books now hold nothing in that currency)."""
    found = build_statement(
        session, company_id=statement.company_id, customer_id=statement.customer_id,
        start=statement.period_start, end=statement.period_end,
    )  # fmt: skip
    same = next((s for s in found if s.currency == statement.currency), None)
    if same is not None:
        return same
    first = found[0]
    party = Party(first.company_name, first.customer_code, first.customer_name, statement.currency)
    return compose_statement(
        party, start=statement.period_start, end=statement.period_end, opening=0, movements=()
    )


@dataclass(frozen=True, slots=True)
class StatementDetail:
    """One statement for its page: the row as lists show it, the record, its customer, its
    differences and its period as the books show it now."""

    row: StatementRow
    statement: CustomerStatement
    customer: Customer
    reference: str
    differences: list[StatementDifference]
    now: Statement

    @property
    def books_changed(self) -> bool:
        return self.now.closing != self.statement.closing or self.now.opening != self.statement.opening  # fmt: skip


def statement_detail(session: Session, principal: Principal, statement_id: int) -> StatementDetail:
    statement, customer = visible_statement(session, principal, statement_id)
    [row] = list_statements(session, company_id=principal.company.id, statement_id=statement.id)
    return StatementDetail(
        row=row, statement=statement, customer=customer,
        reference=statements.statement_reference(customer, statement.period_end, statement.currency),
        differences=differences(session, company_id=principal.company.id, statement_id=statement.id),
        now=content_now(session, statement),
    )  # fmt: skip


# --- answers ----------------------------------------------------------------------------------


class StatementOut(BaseModel):
    id: int
    customer: str
    customer_name: str
    period_start: dt.date
    period_end: dt.date
    currency: str
    opening: str = Field(description="As issued")
    closing: str = Field(description="As issued")
    status: str = Field(description="issued, sent, confirmed, disputed or resolved")
    issued_on: dt.date
    sent_to: str = Field(description="Where the email went (empty: not emailed)")
    sent_on: dt.date | None
    delivery_status: str = Field(
        description="The email's fate: pending, sent, retry, bounced, failed… (empty: not emailed)"
    )
    confirmed_by: str = Field(description="Who signed for the customer")
    confirmed_on: dt.date | None
    open_differences: int
    document_id: int | None = Field(description="The PDF as issued: GET /api/documents/{id}")
    signed_copy_id: int | None = Field(description="The signed copy: GET /api/documents/{id}")


class StatementPage(PageMeta):
    items: list[StatementOut]


class LineOut(BaseModel):
    on: dt.date
    kind: str = Field(description="invoice, credit_note, payment or payment_reversal")
    reference: str
    debit: str
    credit: str
    balance: str = Field(description="What the customer owed after this line")


class DifferenceOut(BaseModel):
    id: int
    statement_id: int
    description: str
    reference: str = Field(description="Our line, if the customer named one")
    our_amount: str
    their_amount: str
    status: str = Field(description="open or resolved")
    resolution: str = Field(description="adjusted, explained or rejected (when resolved)")
    resolution_note: str
    resolved_by: str
    resolved_on: dt.date | None


class StatementDetailOut(StatementOut):
    reference: str = Field(description="The statement's number, e.g. DZ-20261130-C001")
    issued_by: str
    recorded_by: str = Field(description="Who entered the customer's confirmation")
    note: str
    differences: list[DifferenceOut]
    opening_now: str = Field(description="The opening balance as the books are now")
    closing_now: str = Field(description="The closing balance as the books are now")
    books_changed: bool = Field(description="The books now differ from the statement as issued")
    lines_now: list[LineOut] = Field(description="The period's lines as the books are now")


class IssuedOut(BaseModel):
    items: list[StatementOut] = Field(description="One statement per currency")


class ScheduleOut(BaseModel):
    customer: str
    frequency: str
    day: int
    active: bool
    starts_on: dt.date


def statement_out(row: StatementRow) -> StatementOut:
    return StatementOut(
        id=row.id, customer=row.customer_code, customer_name=row.customer_name,
        period_start=row.period_start, period_end=row.period_end, currency=row.currency,
        opening=decimal_string(row.opening), closing=decimal_string(row.closing),
        status=row.status, issued_on=row.issued_on, sent_to=row.sent_to, sent_on=row.sent_on,
        delivery_status=row.delivery_status, confirmed_by=row.confirmed_by,
        confirmed_on=row.confirmed_on, open_differences=row.open_differences,
        document_id=row.document_id, signed_copy_id=row.signed_copy_id,
    )  # fmt: skip


def difference_out(d: StatementDifference) -> DifferenceOut:
    return DifferenceOut(
        id=d.id, statement_id=d.statement_id, description=d.description, reference=d.reference,
        our_amount=decimal_string(d.our_amount), their_amount=decimal_string(d.their_amount),
        status=d.status, resolution=d.resolution, resolution_note=d.resolution_note,
        resolved_by=d.resolved_by, resolved_on=d.resolved_on,
    )  # fmt: skip


def detail_out(detail: StatementDetail) -> StatementDetailOut:
    s, now = detail.statement, detail.now
    return StatementDetailOut(
        **statement_out(detail.row).model_dump(), reference=detail.reference,
        issued_by=s.issued_by, recorded_by=s.recorded_by, note=s.note,
        differences=[difference_out(d) for d in detail.differences],
        opening_now=decimal_string(now.opening), closing_now=decimal_string(now.closing),
        books_changed=detail.books_changed,
        lines_now=[
            LineOut(on=line.on, kind=line.kind.value, reference=line.reference,
                    debit=decimal_string(line.debit), credit=decimal_string(line.credit),
                    balance=decimal_string(line.balance))
            for line in now.lines
        ],
    )  # fmt: skip


def _date(day: dt.date | None, field: str) -> dt.date | None:
    return None if day is None else _checked(day, field)


def _checked(day: dt.date, field: str) -> dt.date:
    try:
        return check_business_date(day)
    except DateError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


def _fen(text: str, field: str) -> int:
    try:
        return parse_amount(text) if text.strip() else 0
    except AmountError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


# --- routes -----------------------------------------------------------------------------------


@router.get("/statements", response_model=StatementPage, responses=ERROR_RESPONSES)
def list_statements_api(
    session: SessionDep, principal: Reader, status: StatusName | None = None,
    customer: Annotated[str, Query(max_length=60, description="Customer code")] = "",
    end_from: Annotated[dt.date | None, Query(description="Period end on or after")] = None,
    end_to: Annotated[dt.date | None, Query(description="Period end on or before")] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> StatementPage:  # fmt: skip
    """Statements of the customers the user sees, newest period first, with the email's fate,
    who confirmed and the differences still open."""
    first, last = _date(end_from, "end_from"), _date(end_to, "end_to")
    rows = list_statements(
        session, company_id=principal.company.id, status=status, customer=customer.strip(),
        end_from=first, end_to=last, only=principal.scope.only, limit=page_size,
        offset=(page - 1) * page_size,
    )  # fmt: skip
    total = count_statements(
        session, company_id=principal.company.id, status=status, customer=customer.strip(),
        end_from=first, end_to=last, only=principal.scope.only,
    )  # fmt: skip
    return StatementPage(
        items=[statement_out(r) for r in rows], page=page, page_size=page_size, total=total
    )


@router.get(
    "/statements/{statement_id}", response_model=StatementDetailOut, responses=ERROR_RESPONSES
)
def get_statement(session: SessionDep, principal: Reader, statement_id: Id) -> StatementDetailOut:
    """One statement: its figures as issued, its differences, and its period's lines as the
    books are now (``books_changed`` when they no longer agree with what was issued)."""
    return detail_out(statement_detail(session, principal, statement_id))


class IssueIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: dt.date = Field(alias="from", description="First day of the period")
    end: dt.date = Field(alias="to", description="Last day of the period")
    send: bool = Field(False, description="Email it now (to recipient or the customer's)")
    recipient: Annotated[str, Field(max_length=300)] = ""
    language: Literal["zh", "en"] = "zh"


def send_now() -> dt.datetime:
    """When an email is queued: the office's wall clock, as the sending pass reads it."""
    return dt.datetime.now().replace(microsecond=0)


@router.post(
    "/customers/{code}/statements", response_model=IssuedOut, status_code=201,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def issue_statement(
    request: Request, session: SessionDep, principal: Reconciler, code: Code, body: IssueIn
) -> IssuedOut:
    """Issue the customer's statement for ``from``..``to`` (one per currency) with its PDF,
    or answer those already on file for that period end; ``send`` queues the email."""
    customer = visible_customer(session, principal, code)
    actor = principal.actor(request)
    issued = statements.issue_statements(
        session, actor=actor, customer=customer, start=_checked(body.start, "from"),
        end=_checked(body.end, "to"), issued_on=business_date(None), language=body.language,
    )  # fmt: skip
    for statement in issued if body.send else []:
        statements.send_statement(
            session, actor=actor, company_id=principal.company.id, statement_id=statement.id,
            now=send_now(), recipient=body.recipient,
        )  # fmt: skip
    rows = [
        list_statements(session, company_id=principal.company.id, statement_id=s.id)[0]
        for s in issued
    ]
    return IssuedOut(items=[statement_out(r) for r in rows])


class SendIn(BaseModel):
    recipient: Annotated[
        str, Field(max_length=300, description="Default: the customer's decision maker's email")
    ] = ""


@router.post(
    "/statements/{statement_id}/send", response_model=StatementDetailOut,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def send_statement(
    request: Request, session: SessionDep, principal: Reconciler, statement_id: Id, body: SendIn
) -> StatementDetailOut:
    """Queue the email with the PDF as issued; the sending pass (the daily run or ``huikuan
    send``) delivers it once. A statement queued before is not queued again."""
    visible_statement(session, principal, statement_id)
    statements.send_statement(
        session, actor=principal.actor(request), company_id=principal.company.id,
        statement_id=statement_id, now=send_now(), recipient=body.recipient,
    )  # fmt: skip
    return detail_out(statement_detail(session, principal, statement_id))


class SignedCopyIn(BaseModel):
    filename: Annotated[str, Field(min_length=1, max_length=200, description="e.g. 回执.pdf")]
    content_base64: Annotated[
        str, Field(max_length=14_000_000, description="The file, base64 (at most 10 MB)")
    ]


class ConfirmIn(BaseModel):
    confirmed_by: Annotated[str, Field(max_length=100, description="Who signed for the customer")]
    confirmed_on: dt.date | None = Field(None, description="Date signed; default today")
    signed_copy: SignedCopyIn | None = None
    note: Annotated[str, Field(max_length=1000)] = ""


def signed_copy_bytes(copy: SignedCopyIn | None) -> tuple[str, bytes] | None:
    if copy is None:
        return None
    try:
        content = base64.b64decode(copy.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            "签字回执不是有效的 base64 / signed_copy.content_base64 is not valid base64"
        ) from exc
    check_copy_size(len(content))
    return copy.filename, content


def check_copy_size(size: int) -> None:
    if size > MAX_COPY_BYTES:
        raise InvalidInput("签字回执超过 10 MB / the signed copy is larger than 10 MB")


@router.post(
    "/statements/{statement_id}/confirm", response_model=StatementDetailOut,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def confirm_statement(
    request: Request, session: SessionDep, principal: Reconciler, statement_id: Id,
    body: ConfirmIn,
) -> StatementDetailOut:  # fmt: skip
    """Record the customer's confirmation: who signed, when, the signed copy. 409 when it is
    confirmed already or differences are still open."""
    visible_statement(session, principal, statement_id)
    statements.confirm_statement(
        session, actor=principal.actor(request), company_id=principal.company.id,
        statement_id=statement_id, confirmed_by=body.confirmed_by,
        confirmed_on=business_date(body.confirmed_on, "confirmed_on"),
        signed_copy=signed_copy_bytes(body.signed_copy), note=body.note,
    )  # fmt: skip
    return detail_out(statement_detail(session, principal, statement_id))


class DifferenceIn(BaseModel):
    description: Annotated[str, Field(max_length=1000, description="What the customer says")]
    reference: Annotated[str, Field(max_length=120, description="Our line, if any")] = ""
    our_amount: Amount = "0.00"
    their_amount: Amount = "0.00"


class DisputeIn(BaseModel):
    differences: Annotated[list[DifferenceIn], Field(min_length=1, max_length=100)]
    raised_on: dt.date | None = Field(None, description="Default today")


@router.post(
    "/statements/{statement_id}/differences", response_model=StatementDetailOut,
    status_code=201, responses=ERROR_RESPONSES,
)  # fmt: skip
def record_differences(
    request: Request, session: SessionDep, principal: Reconciler, statement_id: Id,
    body: DisputeIn,
) -> StatementDetailOut:  # fmt: skip
    """Record the differences the customer reports, line by line: the statement is disputed
    until each is resolved. 409 when it is confirmed."""
    visible_statement(session, principal, statement_id)
    items = [
        statements.DifferenceInput(
            d.description, d.reference, _fen(d.our_amount, f"differences[{n}].our_amount"),
            _fen(d.their_amount, f"differences[{n}].their_amount"),
        )
        for n, d in enumerate(body.differences)
    ]  # fmt: skip
    statements.dispute_statement(
        session, actor=principal.actor(request), company_id=principal.company.id,
        statement_id=statement_id, differences=items,
        raised_on=business_date(body.raised_on, "raised_on"),
    )  # fmt: skip
    return detail_out(statement_detail(session, principal, statement_id))


class ResolveIn(BaseModel):
    resolution: Annotated[str, Field(max_length=20, description="adjusted, explained or rejected")]
    note: Annotated[str, Field(max_length=1000, description="What was done")]
    resolved_on: dt.date | None = Field(None, description="Default today")


@router.post(
    "/statement-differences/{difference_id}/resolve", response_model=DifferenceOut,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def resolve_difference(
    request: Request, session: SessionDep, principal: Writer, difference_id: Id, body: ResolveIn
) -> DifferenceOut:
    """Settle one difference: ``adjusted`` (our books were changed), ``explained`` (timing)
    or ``rejected`` (their books are wrong), with a note. The last one settled makes the
    statement ``resolved``, ready to confirm. 409 when it is resolved already."""
    visible_difference(session, principal, difference_id)
    found = statements.resolve_difference(
        session, actor=principal.actor(request), company_id=principal.company.id,
        difference_id=difference_id, resolution=body.resolution, note=body.note,
        resolved_on=business_date(body.resolved_on, "resolved_on"),
    )  # fmt: skip
    return difference_out(found)


class ScheduleIn(BaseModel):
    frequency: Annotated[str, Field(max_length=12, description="monthly, quarterly or settlement")]
    day: int | None = Field(
        None, ge=-(2**31), le=2**31, description="Day of month 1-28 (settlement: its own)"
    )
    active: bool = True


@router.put(
    "/customers/{code}/statement-schedule", response_model=ScheduleOut, responses=ERROR_RESPONSES
)
def set_schedule(
    request: Request, session: SessionDep, principal: Reconciler, code: Code, body: ScheduleIn
) -> ScheduleOut:
    """When the daily run issues and emails the customer's statement: monthly or quarterly on
    a day (1-28), or on the retail chain's settlement day; ``active: false`` stops it. It
    takes effect today: no statement due before today is sent (``starts_on``)."""
    customer = visible_customer(session, principal, code)
    row = statements.set_schedule(
        session, actor=principal.actor(request), customer=customer, frequency=body.frequency,
        day=body.day, active=body.active, starts_on=business_date(None),
    )  # fmt: skip
    return ScheduleOut(
        customer=customer.code, frequency=row.frequency, day=row.day, active=row.active,
        starts_on=row.starts_on,
    )  # fmt: skip
