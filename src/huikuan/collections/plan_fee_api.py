"""Routes: payment plans, late fees and follow-ups under /api — list, show, propose, decide
and cancel plans; list late-fee charges, ask for a waiver and decide one; list follow-ups and
close one.

Money goes in and out as decimal strings; dates as YYYY-MM-DD. Plans, charges, waiver requests
and follow-ups of customers outside the user's view are 'not found'. A plan and a waiver are
requests until another person who may manage credit approves them through their own sign-in
(see docs/disputes-and-plans.md and docs/promises-and-late-fees.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from huikuan.collections import contact_log, late_fees, plans
from huikuan.collections.api import business_date
from huikuan.collections.models import FollowUp, LateFeeCharge, PaymentPlan
from huikuan.collections.plan_fee_queries import (
    FeeFilter,
    FeeLine,
    PlanDetail,
    WaiverLine,
    list_fee_charges,
    list_waivers,
    owner_code,
    plan_candidates,
    plan_detail,
    plan_lines,
    waiver_line,
    waiver_owner,
)
from huikuan.collections.plan_rules import ScheduleError
from huikuan.core.errors import InvalidInput, NotFound, prefixed
from huikuan.core.money import AmountError, decimal_string, parse_amount
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, SessionDep, require, visible_customer
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta

router = APIRouter(prefix="/api", tags=["plans and late fees"])
Reader = Annotated[Principal, Depends(require(Right.READ_COLLECTIONS))]
Logger = Annotated[Principal, Depends(require(Right.LOG_CONTACTS))]
Worker = Annotated[Principal, Depends(require(Right.WORK_ACTIONS))]
Manager = Annotated[Principal, Depends(require(Right.MANAGE_CREDIT))]
Id = Annotated[int, PathParam(ge=1, le=2**62)]
Code = Annotated[str, PathParam(max_length=60)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
Amount = Annotated[str, Field(max_length=40, description="Decimal string, e.g. 50000.00")]
PlanStatusName = Literal["proposed", "active", "completed", "defaulted", "cancelled", "rejected"]


def visible_owner(
    session: Session, principal: Principal, model: type[Any], row_id: int, missing: str
) -> str:
    """The code of the customer a plan, charge or follow-up belongs to, if the user sees it;
    'not found' (``missing``) otherwise, so that ids of others' rows cannot be probed."""
    code = owner_code(session, company_id=principal.company.id, model=model, row_id=row_id)
    if code is None:
        raise NotFound(missing)
    try:
        visible_customer(session, principal, code)
    except NotFound:
        raise NotFound(missing) from None
    return code


def _fen(text: str, field: str) -> int:
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


# --- payment plans ----------------------------------------------------------------------------


class PlanSummaryOut(BaseModel):
    id: int
    customer: str
    customer_name: str
    agreed_on: dt.date
    status: str = Field(
        description="proposed (waiting for approval), active, completed, defaulted, cancelled or rejected"
    )
    approved_by: str = Field(description="Who approved it (empty until approved)")
    invoices: int = Field(description="How many invoices the plan covers")
    total: str = Field(description="Principal of all instalments")
    paid: str = Field(description="Received towards the instalments, as last checked")
    instalments: int
    instalments_paid: int
    next_due_on: dt.date | None = Field(
        description="The earliest instalment not paid (active plans)"
    )


class PlanPage(PageMeta):
    items: list[PlanSummaryOut]
    currency: str


class InstalmentOut(BaseModel):
    due_on: dt.date
    amount: str
    interest: str
    received: str = Field(description="As last checked (the daily run or huikuan plan check)")
    status: str = Field(description="open, paid or missed")


class PlanOut(BaseModel):
    id: int
    customer: str
    customer_name: str
    agreed_on: dt.date
    status: str
    approved_by: str
    recorded_by: str
    annual_interest_bp: int
    waive_late_fees: bool
    defaulted_on: dt.date | None
    note: str
    invoices: list[str]
    total: str
    interest: str
    received: str
    instalments: list[InstalmentOut]
    currency: str


def _plan_out(detail: PlanDetail, currency: str) -> PlanOut:
    p = detail.plan
    return PlanOut(
        id=p.id, customer=detail.customer.code, customer_name=detail.customer.name,
        agreed_on=p.agreed_on, status=p.status, approved_by=p.approved_by,
        recorded_by=p.recorded_by, annual_interest_bp=p.annual_interest_bp,
        waive_late_fees=p.waive_late_fees, defaulted_on=p.defaulted_on, note=p.note,
        invoices=[i.number for i in detail.invoices], total=decimal_string(detail.total),
        interest=decimal_string(detail.interest), received=decimal_string(detail.received),
        instalments=[
            InstalmentOut(due_on=i.due_on, amount=decimal_string(i.amount),
                          interest=decimal_string(i.interest), received=decimal_string(i.paid),
                          status=i.status)
            for i in detail.instalments
        ],
        currency=currency,
    )  # fmt: skip


@router.get("/plans", response_model=PlanPage, responses=ERROR_RESPONSES)
def list_plans(
    session: SessionDep, principal: Reader, status: PlanStatusName | None = None,
    customer: Annotated[str | None, Query(max_length=60, description="Customer code")] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> PlanPage:  # fmt: skip
    """Payment plans of the customers the user sees, oldest first."""
    rows = plan_lines(
        session, company_id=principal.company.id, status=status, customer=customer or None,
        only=principal.scope.only,
    )  # fmt: skip
    shown = rows[(page - 1) * page_size : page * page_size]
    items = [
        PlanSummaryOut(
            id=r.row.id, customer=r.row.customer, customer_name=r.customer_name,
            agreed_on=r.row.agreed_on, status=r.row.status, approved_by=r.row.approved_by,
            invoices=r.row.invoices, total=decimal_string(r.row.total),
            paid=decimal_string(r.row.paid), instalments=r.instalments,
            instalments_paid=r.instalments_paid,
            next_due_on=r.row.next_due_on if r.row.status == "active" else None,
        )
        for r in shown
    ]  # fmt: skip
    return PlanPage(
        items=items, page=page, page_size=page_size, total=len(rows),
        currency=principal.company.currency,
    )  # fmt: skip


def _visible_plan(session: Session, principal: Principal, plan_id: int) -> PlanDetail:
    missing = f"没有还款计划 #{plan_id} / no payment plan #{plan_id}"
    visible_owner(session, principal, PaymentPlan, plan_id, missing)
    return plan_detail(session, company_id=principal.company.id, plan_id=plan_id)


@router.get("/plans/{plan_id}", response_model=PlanOut, responses=ERROR_RESPONSES)
def get_plan(session: SessionDep, principal: Reader, plan_id: Id) -> PlanOut:
    """One plan: its invoices and its schedule (each instalment's due date, principal,
    interest, what was received towards it and its status, as last checked)."""
    return _plan_out(_visible_plan(session, principal, plan_id), principal.company.currency)


class InstalmentIn(BaseModel):
    due_on: dt.date
    amount: Amount


class EqualIn(BaseModel):
    count: int = Field(ge=1, le=120, description="Number of equal instalments")
    first_due_on: dt.date
    frequency: Literal["monthly", "weekly"] = "monthly"


class PlanIn(BaseModel):
    invoices: Annotated[
        list[Annotated[str, Field(max_length=100)]] | None,
        Field(max_length=500, description="Default: the customer's overdue invoices that may join a plan"),
    ] = None  # fmt: skip
    equal: EqualIn | None = Field(None, description="Equal instalments (or give instalments)")
    instalments: Annotated[
        list[InstalmentIn] | None,
        Field(max_length=240, description="Explicit dates and amounts adding up to the balance"),
    ] = None
    annual_interest_bp: int = Field(0, ge=0, le=100_00, description="Simple interest, basis points a year (600 = 6%)")  # fmt: skip
    waive_late_fees: bool = False
    agreed_on: dt.date | None = Field(None, description="Default today")
    note: Annotated[str, Field(max_length=1000)] = ""


def _schedule(body: PlanIn) -> plans.ScheduleRequest:
    if (body.equal is None) == (body.instalments is None):
        raise InvalidInput("请给出 equal 或 instalments 之一 / give either equal or instalments")
    if body.equal is not None:
        first = business_date(body.equal.first_due_on, "equal.first_due_on")
        try:
            return plans.ScheduleRequest.equal(first, body.equal.count, body.equal.frequency)
        except ScheduleError as exc:
            raise InvalidInput(exc.message) from exc
    parts = body.instalments or []
    amounts = tuple(_fen(p.amount, f"instalments[{n}].amount") for n, p in enumerate(parts))
    return plans.ScheduleRequest(tuple(p.due_on for p in parts), amounts)


@router.post(
    "/customers/{code}/plans", response_model=PlanOut, status_code=201, responses=ERROR_RESPONSES
)
def agree_plan(
    request: Request, session: SessionDep, principal: Logger, code: Code, body: PlanIn
) -> PlanOut:
    """Propose a payment plan for invoices of the customer (by default its overdue ones that may
    join one). It is ``proposed`` until another person who may manage credit approves it."""
    customer = visible_customer(session, principal, code)
    agreed_on = business_date(body.agreed_on, "agreed_on")
    numbers = body.invoices
    if numbers is None:
        numbers = [
            c.invoice.number
            for c in plan_candidates(session, customer=customer, as_of=agreed_on)
            if c.days_overdue > 0 and not c.blocked
        ]
    plan = plans.agree_plan(
        session, actor=principal.actor(request), company_id=principal.company.id,
        customer=customer, invoice_numbers=numbers, schedule=_schedule(body),
        annual_interest_bp=body.annual_interest_bp,
        waive_late_fees=body.waive_late_fees, agreed_on=agreed_on, note=body.note.strip(),
    )  # fmt: skip
    detail = plan_detail(session, company_id=principal.company.id, plan_id=plan.id)
    return _plan_out(detail, principal.company.currency)


class DecisionIn(BaseModel):
    approve: bool
    note: Annotated[str, Field(max_length=1000)] = ""
    decided_on: dt.date | None = Field(None, description="Default today")


@router.post("/plans/{plan_id}/decision", response_model=PlanOut, responses=ERROR_RESPONSES)
def decide_plan(
    request: Request, session: SessionDep, principal: Manager, plan_id: Id, body: DecisionIn
) -> PlanOut:
    """Approve (``active``) or reject a proposed plan; not one's own (409), nor one already
    decided (409)."""
    _visible_plan(session, principal, plan_id)
    plans.decide_plan(
        session, actor=principal.actor(request), company_id=principal.company.id,
        plan_id=plan_id, approve=body.approve, note=body.note,
        decided_on=business_date(body.decided_on, "decided_on"),
    )  # fmt: skip
    return _plan_out(_visible_plan(session, principal, plan_id), principal.company.currency)


class CancelIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    cancelled_on: dt.date | None = Field(None, description="Default today")


@router.post("/plans/{plan_id}/cancel", response_model=PlanOut, responses=ERROR_RESPONSES)
def cancel_plan(
    request: Request, session: SessionDep, principal: Logger, plan_id: Id, body: CancelIn
) -> PlanOut:
    """Cancel an active plan: its invoices return to the ladder where they stood (409 when the
    plan is no longer active)."""
    _visible_plan(session, principal, plan_id)
    plans.cancel_plan(
        session, actor=principal.actor(request), company_id=principal.company.id,
        plan_id=plan_id, reason=body.reason.strip(),
        cancelled_on=business_date(body.cancelled_on, "cancelled_on"),
    )  # fmt: skip
    return _plan_out(_visible_plan(session, principal, plan_id), principal.company.currency)


# --- late fees --------------------------------------------------------------------------------


class ChargeOut(BaseModel):
    id: int
    customer: str
    customer_name: str
    invoice: str
    period_start: dt.date
    period_end: dt.date
    days: int
    base: str = Field(description="Average daily overdue balance charged")
    rate: str = Field(description="The contract's rate as written, e.g. 0.0005/day")
    amount: str
    waived: str
    owed: str = Field(description="amount - waived")
    waiver_reason: str
    waiver_approved_by: str


class ChargePage(PageMeta):
    items: list[ChargeOut]
    amount: str = Field(description="Charged, every matching charge")
    waived: str
    owed: str
    currency: str


def _charge_out(line: FeeLine) -> ChargeOut:
    c = line.charge
    return ChargeOut(
        id=c.id, customer=line.customer, customer_name=line.customer_name, invoice=line.invoice,
        period_start=c.period_start, period_end=c.period_end, days=c.days,
        base=decimal_string(c.base), rate=c.rate, amount=decimal_string(c.amount),
        waived=decimal_string(c.waived), owed=decimal_string(line.left),
        waiver_reason=c.waiver_reason, waiver_approved_by=c.waiver_approved_by,
    )  # fmt: skip


@router.get("/late-fees", response_model=ChargePage, responses=ERROR_RESPONSES)
def list_late_fees(
    session: SessionDep, principal: Reader,
    customer: Annotated[str | None, Query(max_length=60, description="Customer code")] = None,
    invoice: Annotated[str | None, Query(max_length=100, description="Invoice number")] = None,
    period_from: Annotated[dt.date | None, Query(description="Periods ending on or after")] = None,
    period_to: Annotated[dt.date | None, Query(description="Periods ending on or before")] = None,
    state: Annotated[Literal["waived", "not_waived", "owed"] | None, Query()] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> ChargePage:  # fmt: skip
    """Late-fee charges of the customers the user sees, by customer, invoice and period, with
    the sums of every matching charge."""
    flt = FeeFilter(customer or None, invoice or None, period_from, period_to, state, principal.scope.only)  # fmt: skip
    found = list_fee_charges(session, company_id=principal.company.id, flt=flt, page=page, page_size=page_size)  # fmt: skip
    return ChargePage(
        items=[_charge_out(r) for r in found.rows], page=page, page_size=page_size,
        total=found.total, amount=decimal_string(found.amount), waived=decimal_string(found.waived),
        owed=decimal_string(found.amount - found.waived), currency=principal.company.currency,
    )  # fmt: skip


class WaiverIn(BaseModel):
    amount: Annotated[str | None, Field(max_length=40, description="Default: all that may still be asked for")] = None  # fmt: skip
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class WaiverOut(BaseModel):
    id: int
    charge_id: int
    customer: str
    customer_name: str
    invoice: str
    period_end: dt.date
    amount: str = Field(description="Asked to be waived")
    reason: str
    requested_by: str
    requested_at: dt.datetime
    status: str = Field(description="pending, approved or rejected")
    decided_by: str
    decided_at: dt.datetime | None
    note: str
    charge_owed: str = Field(description="The charge's amount less what is waived, now")


class WaiverPage(PageMeta):
    items: list[WaiverOut]


def _waiver_out(line: WaiverLine) -> WaiverOut:
    w, c = line.waiver, line.charge
    return WaiverOut(
        id=w.id, charge_id=c.id, customer=line.customer, customer_name=line.customer_name,
        invoice=line.invoice, period_end=c.period_end, amount=decimal_string(w.amount),
        reason=w.reason, requested_by=w.requested_by, requested_at=w.requested_at,
        status=w.status, decided_by=w.decided_by, decided_at=w.decided_at, note=w.note,
        charge_owed=decimal_string(c.amount - c.waived),
    )  # fmt: skip


def _visible_waiver(session: Session, principal: Principal, waiver_id: int) -> WaiverLine:
    missing = f"没有减免申请 #{waiver_id} / no waiver request #{waiver_id}"
    code = waiver_owner(session, company_id=principal.company.id, waiver_id=waiver_id)
    if code is None:
        raise NotFound(missing)
    try:
        visible_customer(session, principal, code)
    except NotFound:
        raise NotFound(missing) from None
    line = waiver_line(session, company_id=principal.company.id, waiver_id=waiver_id)
    assert line is not None  # found above
    return line


@router.post(
    "/late-fees/{charge_id}/waivers", response_model=WaiverOut, status_code=201,
    responses=ERROR_RESPONSES,
)  # fmt: skip
def request_waiver(
    request: Request, session: SessionDep, principal: Logger, charge_id: Id, body: WaiverIn
) -> WaiverOut:
    """Ask to waive all or part of a charge, with a reason; it is ``pending`` until another
    person who may manage credit approves it (422 beyond what may still be asked for)."""
    missing = f"没有违约金记录 {charge_id} / no late fee charge {charge_id}"
    visible_owner(session, principal, LateFeeCharge, charge_id, missing)
    waiver = late_fees.request_waiver(
        session, actor=principal.actor(request), company_id=principal.company.id,
        charge_id=charge_id, reason=body.reason,
        amount=_fen(body.amount, "amount") if body.amount else None,
    )  # fmt: skip
    return _waiver_out(_visible_waiver(session, principal, waiver.id))


@router.get("/late-fee-waivers", response_model=WaiverPage, responses=ERROR_RESPONSES)
def list_waiver_requests(
    session: SessionDep, principal: Reader,
    status: Literal["pending", "approved", "rejected", "all"] = "pending",
    customer: Annotated[str | None, Query(max_length=60, description="Customer code")] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> WaiverPage:  # fmt: skip
    """Waiver requests of the customers the user sees, oldest first; pending ones unless asked."""
    rows, total = list_waivers(
        session, company_id=principal.company.id, status=None if status == "all" else status,
        customer=customer or None, only=principal.scope.only, page=page, page_size=page_size,
    )  # fmt: skip
    return WaiverPage(
        items=[_waiver_out(r) for r in rows], page=page, page_size=page_size, total=total
    )


@router.post(
    "/late-fee-waivers/{waiver_id}/decision", response_model=WaiverOut, responses=ERROR_RESPONSES
)
def decide_waiver(
    request: Request, session: SessionDep, principal: Manager, waiver_id: Id, body: DecisionIn
) -> WaiverOut:
    """Approve (the charge's waived amount goes up) or reject a waiver request; not one's own
    (409), nor one already decided (409)."""
    _visible_waiver(session, principal, waiver_id)
    late_fees.decide_waiver(
        session, actor=principal.actor(request), company_id=principal.company.id,
        waiver_id=waiver_id, approve=body.approve, note=body.note,
    )  # fmt: skip
    return _waiver_out(_visible_waiver(session, principal, waiver_id))


# --- follow-ups -------------------------------------------------------------------------------


class FollowUpOut(BaseModel):
    id: int
    customer: str
    kind: str
    due_on: dt.date
    status: str = Field(description="open, done or not_needed")
    detail: str
    result: str
    document_id: int | None


class FollowUpPage(PageMeta):
    items: list[FollowUpOut]


def _follow_up_out(view: contact_log.FollowUpView) -> FollowUpOut:
    return FollowUpOut(
        id=view.id, customer=view.customer_code, kind=view.kind, due_on=view.due_on,
        status=view.status, detail=view.detail, result=view.result, document_id=view.document_id,
    )  # fmt: skip


@router.get("/follow-ups", response_model=FollowUpPage, responses=ERROR_RESPONSES)
def list_follow_ups(
    session: SessionDep, principal: Reader,
    customer: Annotated[str | None, Query(max_length=60, description="Customer code")] = None,
    status: Literal["open", "done", "not_needed", "all"] = "open",
    kind: Annotated[str | None, Query(max_length=40, description="e.g. verify_payment")] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> FollowUpPage:  # fmt: skip
    """Follow-ups of the customers the user sees by due date, open ones unless asked."""
    target = visible_customer(session, principal, customer) if customer else None
    rows = contact_log.list_follow_ups(
        session, company_id=principal.company.id, customer=target,
        status=None if status == "all" else status, kinds=(kind,) if kind else (),
        only=principal.scope.only,
    )  # fmt: skip
    shown = rows[(page - 1) * page_size : page * page_size]
    return FollowUpPage(
        items=[_follow_up_out(r) for r in shown], page=page, page_size=page_size, total=len(rows)
    )


class CloseIn(BaseModel):
    outcome: Literal["done", "not_needed"] = "done"
    note: Annotated[str, Field(min_length=1, max_length=1800)]
    closed_on: dt.date | None = Field(None, description="Default today")


@router.post(
    "/follow-ups/{follow_up_id}/close", response_model=FollowUpOut, responses=ERROR_RESPONSES
)
def close_follow_up(
    request: Request, session: SessionDep, principal: Worker, follow_up_id: Id, body: CloseIn
) -> FollowUpOut:
    """Close an open follow-up as done or not needed, with a note (409 when already closed)."""
    missing = f"没有后续事项 #{follow_up_id} / no follow-up #{follow_up_id}"
    code = visible_owner(session, principal, FollowUp, follow_up_id, missing)
    row = contact_log.close_follow_up(
        session, actor=principal.actor(request), company_id=principal.company.id,
        follow_up_id=follow_up_id, outcome=body.outcome, note=body.note,
        closed_on=business_date(body.closed_on, "closed_on"),
    )  # fmt: skip
    return FollowUpOut(
        id=row.id, customer=code, kind=row.kind, due_on=row.due_on, status=row.status,
        detail=row.detail, result=row.result, document_id=row.document_id,
    )  # fmt: skip
