"""Routes: the collector's desk under /api — log a call or visit, the customer card, the
excuse catalogue, record a promise to pay, raise and resolve disputes, and the dispute ageing.

Money goes in and out as decimal strings; dates as YYYY-MM-DD. Customers, invoices and
disputes outside the user's view are 'not found'.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections import contact_log, disputes, excuses, promises
from huikuan.collections.api import business_date, moment
from huikuan.collections.models import Dispute, FollowUp
from huikuan.core.calendar import load_calendar
from huikuan.core.errors import InvalidInput, NotFound, prefixed
from huikuan.core.money import AmountError, decimal_string, parse_amount
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, SessionDep, require, visible_customer
from huikuan.web.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["collector's desk"])
Reader = Annotated[Principal, Depends(require(Right.READ_COLLECTIONS))]
Logger = Annotated[Principal, Depends(require(Right.LOG_CONTACTS))]
Resolver = Annotated[Principal, Depends(require(Right.RESOLVE_DISPUTES))]
Id = Annotated[int, PathParam(ge=1, le=2**62)]
Code = Annotated[str, PathParam(max_length=60)]
Short = Annotated[str, Field(max_length=100)]


def _fen(text: str | None, field: str) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


# --- contacts ---------------------------------------------------------------------------------


class ContactIn(BaseModel):
    channel: Annotated[
        str, Field(max_length=20, description="phone, visit, wechat, email, sms, other")
    ]
    outcome: Annotated[
        str, Field(max_length=20, description="reached, no_answer, refused, promised, disputed, paid_claimed, other")
    ]  # fmt: skip
    contacted_at: dt.datetime | None = Field(None, description="When; default now")
    reached: Short = ""
    contact_id: int | None = Field(
        None, ge=1, le=2**62, description="One of the customer's contacts"
    )
    excuse: Annotated[
        str, Field(max_length=40, description="An excuse code (GET /api/excuses)")
    ] = ""
    facts: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=500)]] = (
        Field(
            default_factory=dict,
            description="The excuse's facts by name; amounts as decimal strings",
        )
    )
    note: Annotated[str, Field(max_length=2000)] = ""
    next_step_on: dt.date | None = None
    action_id: int | None = Field(
        None, ge=1, le=2**62, description="The open call/visit task it completes"
    )


class FollowUpOut(BaseModel):
    id: int
    kind: str
    due_on: dt.date
    status: str
    detail: str
    result: str
    document_id: int | None


class ContactOut(BaseModel):
    id: int
    contacted_at: str
    channel: str
    reached: str
    outcome: str
    excuse: str
    facts: dict[str, Any]
    note: str
    next_step_on: dt.date | None
    logged_by: str


class LoggedOut(BaseModel):
    contact: ContactOut
    follow_ups: list[FollowUpOut]


def _follow_up(row: FollowUp | contact_log.FollowUpView) -> FollowUpOut:
    return FollowUpOut(
        id=row.id, kind=row.kind, due_on=row.due_on, status=row.status, detail=row.detail,
        result=row.result, document_id=row.document_id,
    )  # fmt: skip


def _contact(entry: contact_log.ContactEntry) -> ContactOut:
    facts = {k: decimal_string(v) if isinstance(v, int) else v for k, v in entry.facts.items()}
    return ContactOut(
        id=entry.id, contacted_at=moment(entry.contacted_at) or "", channel=entry.channel,
        reached=entry.reached, outcome=entry.outcome, excuse=entry.excuse, facts=facts,
        note=entry.note, next_step_on=entry.next_step_on, logged_by=entry.logged_by,
    )  # fmt: skip


@router.post(
    "/customers/{code}/contacts", response_model=LoggedOut, status_code=201,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def log_contact(
    request: Request, session: SessionDep, principal: Logger, code: Code, body: ContactIn
) -> LoggedOut:
    """Log a call or visit; a missing required fact is refused by name and nothing is logged.
    Answers the entry and the follow-ups the excuse opened."""
    customer = visible_customer(session, principal, code)
    when = body.contacted_at or dt.datetime.now().replace(second=0, microsecond=0)
    logged = contact_log.log_contact(
        session, actor=principal.actor(request), company_id=principal.company.id, customer=customer,
        contacted_at=when, channel=body.channel, outcome=body.outcome, reached=body.reached,
        contact_id=body.contact_id, excuse=body.excuse, facts=body.facts, note=body.note,
        next_step_on=body.next_step_on, action_id=body.action_id,
        calendar=load_calendar(session, company_id=principal.company.id),
    )  # fmt: skip
    entry = contact_log.contact_history(session, customer=customer, limit=1)[0]
    if entry.id != logged.log.id:  # a contact logged with a later time is newer
        entry = next(
            e for e in contact_log.contact_history(session, customer=customer, limit=10_000)
            if e.id == logged.log.id
        )  # fmt: skip
    return LoggedOut(contact=_contact(entry), follow_ups=[_follow_up(f) for f in logged.follow_ups])


class PersonOut(BaseModel):
    name: str
    role: str
    phone: str
    email: str
    since: dt.date
    still_valid: bool
    last_known_phone: str


class CardOut(BaseModel):
    customer: str
    name: str
    original_contact: PersonOut | None
    decision_maker: PersonOut | None
    current_contacts: list[PersonOut]
    last_contacts: list[ContactOut]
    last_outcome: str
    next_step_on: dt.date | None
    open_follow_ups: list[FollowUpOut]


def _person(p: contact_log.ContactPerson | None) -> PersonOut | None:
    if p is None:
        return None
    return PersonOut(
        name=p.name, role=p.role, phone=p.phone, email=p.email, since=p.since,
        still_valid=p.still_valid, last_known_phone=p.last_known_phone,
    )  # fmt: skip


@router.get("/customers/{code}/card", response_model=CardOut, responses=ERROR_RESPONSES)
def card(
    session: SessionDep, principal: Reader, code: Code,
    as_of: Annotated[dt.date | None, Query()] = None,
) -> CardOut:  # fmt: skip
    """Before a call: the original contact (and the phone to use today), the decision maker,
    the current contacts, the last five contacts and the open follow-ups."""
    customer = visible_customer(session, principal, code)
    found = contact_log.customer_card(session, customer=customer, as_of=business_date(as_of))
    return CardOut(
        customer=found.customer_code, name=found.customer_name,
        original_contact=_person(found.original_contact), decision_maker=_person(found.decision_maker),
        current_contacts=[p for p in map(_person, found.current_contacts) if p is not None],
        last_contacts=[_contact(e) for e in found.last_contacts], last_outcome=found.last_outcome,
        next_step_on=found.next_step_on, open_follow_ups=[_follow_up(f) for f in found.open_follow_ups],
    )  # fmt: skip


class FactOut(BaseModel):
    name: str
    label: str
    type: str
    optional: bool


class ExcuseOut(BaseModel):
    code: str
    title: str
    meaning: str
    reply: str
    facts: list[FactOut]
    follow_ups: list[str]
    active: bool


class ExcuseList(BaseModel):
    items: list[ExcuseOut]


@router.get("/excuses", response_model=ExcuseList, responses=ERROR_RESPONSES)
def list_excuses(session: SessionDep, principal: Reader) -> ExcuseList:
    """The company's catalogue of excuses: meaning, suggested reply, facts and follow-ups."""
    return ExcuseList(
        items=[
            ExcuseOut(
                code=e.code,
                title=e.title,
                meaning=e.meaning,
                reply=e.reply,
                facts=[
                    FactOut(name=f.name, label=f.label, type=f.type, optional=f.optional)
                    for f in e.facts
                ],
                follow_ups=list(e.follow_ups),
                active=e.active,
            )
            for e in excuses.list_excuses(session, company_id=principal.company.id)
        ]
    )


# --- promises ---------------------------------------------------------------------------------


class InstalmentIn(BaseModel):
    due_on: dt.date
    amount: Annotated[str, Field(max_length=40, description="Decimal string, e.g. 50000.00")]


class PromiseIn(BaseModel):
    invoices: Annotated[
        list[Annotated[str, Field(max_length=100)]], Field(min_length=1, max_length=200)
    ]
    instalments: Annotated[list[InstalmentIn], Field(min_length=1, max_length=60)]
    made_on: dt.date | None = Field(None, description="Default today")
    made_by: Short = ""
    note: Annotated[str, Field(max_length=1000)] = ""


class InstalmentOut(BaseModel):
    due_on: dt.date
    amount: str
    status: str


class PromiseOut(BaseModel):
    id: int
    customer: str
    made_on: dt.date
    status: str
    invoices: list[str]
    instalments: list[InstalmentOut]
    made_by: str
    note: str


@router.post(
    "/customers/{code}/promises", response_model=PromiseOut, status_code=201,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def record_promise(
    request: Request, session: SessionDep, principal: Logger, code: Code, body: PromiseIn
) -> PromiseOut:
    """Record a promise to pay open invoices of the customer in one or more instalments."""
    customer = visible_customer(session, principal, code)
    parts = []
    for index, part in enumerate(body.instalments):
        fen = _fen(part.amount, f"instalments[{index}].amount")
        if fen is None:
            raise InvalidInput(prefixed(f"instalments[{index}].amount", "须填写 / is required"))
        parts.append((part.due_on, fen))
    row = promises.record_promise(
        session, actor=principal.actor(request), company_id=principal.company.id, customer=customer,
        invoice_numbers=body.invoices, instalments=parts,
        made_on=business_date(body.made_on, "made_on"), made_by=body.made_by, note=body.note,
    )  # fmt: skip
    for promise, customer_code, instalments, numbers in promises.list_promises(
        session, company_id=principal.company.id, customer_id=customer.id
    ):
        if promise.id == row.id:
            return PromiseOut(
                id=promise.id, customer=customer_code, made_on=promise.made_on, status=promise.status,
                invoices=numbers, made_by=promise.made_by, note=promise.note,
                instalments=[InstalmentOut(due_on=i.due_on, amount=decimal_string(i.amount), status=i.status)
                             for i in instalments],
            )  # fmt: skip
    raise NotFound("承诺未找到 / promise not found")  # pragma: no cover


# --- disputes ---------------------------------------------------------------------------------


class DisputeIn(BaseModel):
    reason: Annotated[str, Field(max_length=20, description="quality, quantity, price, delivery, documents, other")]  # fmt: skip
    amount: Annotated[str | None, Field(max_length=40, description="Default: all that may be disputed")] = None  # fmt: skip
    raised_on: dt.date | None = Field(None, description="Default today")
    note: Annotated[str, Field(max_length=1000)] = ""


class ResolveIn(BaseModel):
    resolution: Annotated[
        str, Field(max_length=20, description="credit_note, correction, rejected")
    ]
    note: Annotated[str, Field(min_length=1, max_length=1000)]
    resolved_on: dt.date | None = Field(None, description="Default today")
    credit_note: Annotated[str | None, Field(max_length=60, description="Credit note number")] = (
        None
    )


class DisputeOut(BaseModel):
    id: int
    customer: str
    invoice: str
    amount: str
    reason: str
    raised_on: dt.date
    within_window: bool | None
    window_ends_on: dt.date | None
    status: str
    resolution: str
    resolved_on: dt.date | None


def _dispute_out(session: Session, company_id: int, dispute: Dispute) -> DisputeOut:
    row = next(
        r for r in disputes.list_disputes(session, company_id=company_id, customer_id=dispute.customer_id)
        if r.id == dispute.id
    )  # fmt: skip
    return DisputeOut(
        id=row.id, customer=row.customer, invoice=row.invoice, amount=decimal_string(row.amount),
        reason=row.reason, raised_on=row.raised_on, within_window=row.within_window,
        window_ends_on=row.window_ends_on, status=row.status, resolution=row.resolution,
        resolved_on=row.resolved_on,
    )  # fmt: skip


@router.post(
    "/invoices/{number}/disputes", response_model=DisputeOut, status_code=201,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def raise_dispute(
    request: Request, session: SessionDep, principal: Logger, body: DisputeIn,
    number: Annotated[str, PathParam(max_length=100)],
) -> DisputeOut:  # fmt: skip
    """Raise a dispute on all or part of an invoice; a late claim is recorded as late."""
    company_id = principal.company.id
    code = session.scalar(
        select(Customer.code)
        .join(Invoice, Invoice.customer_id == Customer.id)
        .where(Invoice.company_id == company_id, Invoice.number == number)
    )
    if code is None:
        raise NotFound(f"没有发票 {number} / no invoice {number}")
    try:
        visible_customer(session, principal, code)
    except NotFound as exc:
        raise NotFound(f"没有发票 {number} / no invoice {number}") from exc
    amount = _fen(body.amount, "amount")
    if amount is None:
        amount = disputes.disputable_amount(session, company_id=company_id, invoice_number=number)
    row = disputes.raise_dispute(
        session, actor=principal.actor(request), company_id=company_id, invoice_number=number,
        amount=amount, reason=body.reason, raised_on=business_date(body.raised_on, "raised_on"),
        note=body.note,
    )  # fmt: skip
    return _dispute_out(session, company_id, row)


@router.post("/disputes/{dispute_id}/resolve", response_model=DisputeOut, responses=ERROR_RESPONSES)
def resolve_dispute(
    request: Request, session: SessionDep, principal: Resolver, dispute_id: Id, body: ResolveIn
) -> DisputeOut:
    """Resolve by credit note (issued and applied), corrected document or rejection."""
    company_id = principal.company.id
    found = session.scalar(
        select(Dispute).where(Dispute.id == dispute_id, Dispute.company_id == company_id)
    )
    customer = session.get(Customer, found.customer_id) if found is not None else None
    if customer is None or (
        principal.scope.only is not None
        and getattr(customer, principal.scope.only[0]) != principal.scope.only[1]
    ):
        raise NotFound(f"没有争议 {dispute_id} / no dispute {dispute_id}")
    row = disputes.resolve_dispute(
        session, actor=principal.actor(request), company_id=company_id, dispute_id=dispute_id,
        resolution=body.resolution, note=body.note, resolved_on=business_date(body.resolved_on, "resolved_on"),
        credit_note_number=body.credit_note or None,
    )  # fmt: skip
    return _dispute_out(session, company_id, row)


class AgeingRowOut(BaseModel):
    customer: str
    name: str
    count: int
    total: str
    buckets: dict[str, str]


class AgeingOut(BaseModel):
    as_of: dt.date
    buckets: list[str]
    rows: list[AgeingRowOut]
    count: int
    total: str
    bucket_totals: dict[str, str]


@router.get("/disputes/ageing", response_model=AgeingOut, responses=ERROR_RESPONSES)
def ageing(
    session: SessionDep, principal: Reader, as_of: Annotated[dt.date | None, Query()] = None
) -> AgeingOut:
    """Disputes open on ``as_of`` per customer, by days open (0–30, 31–60, 61–90, 90+); a
    collector or salesperson sees only their customers' rows, and the totals are theirs."""
    report = disputes.dispute_ageing(
        session, company_id=principal.company.id, as_of=business_date(as_of)
    )
    rows = report.rows
    if principal.scope.only is not None:
        field, name = principal.scope.only
        mine = set(
            session.scalars(
                select(Customer.code).where(
                    Customer.company_id == principal.company.id, getattr(Customer, field) == name
                )
            )
        )
        rows = [r for r in rows if r.customer in mine]
    names = list(report.bucket_names)
    return AgeingOut(
        as_of=report.as_of, buckets=names,
        rows=[AgeingRowOut(customer=r.customer, name=r.name, count=r.count, total=decimal_string(r.total),
                           buckets={b: decimal_string(r.buckets.get(b, 0)) for b in names}) for r in rows],
        count=sum(r.count for r in rows), total=decimal_string(sum(r.total for r in rows)),
        bucket_totals={b: decimal_string(sum(r.buckets.get(b, 0) for r in rows)) for b in names},
    )  # fmt: skip
