"""Routes: credit under /api — a customer's credit, assessments, scoring, limit requests,
holds, sales orders and their approval, the blacklist and the review list.

Money comes in and goes out as decimal strings ("1234.50"); dates as YYYY-MM-DD.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.errors import InvalidInput, NotFound
from huikuan.core.money import AmountError, decimal_string, parse_amount
from huikuan.credit import holds, limits, orders, review, rules, service
from huikuan.credit.blacklist import active_entries, add_to_blacklist
from huikuan.credit.queries import credit_file, list_orders
from huikuan.customers.models import Customer
from huikuan.ledger.models import SalesOrder
from huikuan.users.rules import Right
from huikuan.web.deps import AsOfDep, Principal, SessionDep, require, visible_customer
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta

router = APIRouter(prefix="/api", tags=["credit"])
Reader = Annotated[Principal, Depends(require(Right.READ_CREDIT))]
Manager = Annotated[Principal, Depends(require(Right.MANAGE_CREDIT))]
Holder = Annotated[Principal, Depends(require(Right.PLACE_HOLDS))]
OrderTaker = Annotated[Principal, Depends(require(Right.ENTER_ORDERS))]
Approver = Annotated[Principal, Depends(require(Right.APPROVE_ORDERS))]
Money = Annotated[str, Field(max_length=40, description="Decimal string, e.g. 1234.50")]


def _fen(value: str | None, field: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise InvalidInput(f"{field}: {exc}") from exc


def _money(fen: int | None) -> str | None:
    return None if fen is None else decimal_string(fen)


# --- a customer's credit ----------------------------------------------------------------------


class FactorOut(BaseModel):
    name: str
    dimension: str
    value: str | None
    points: int
    weight: int
    missing: bool


class HoldOut(BaseModel):
    kind: str
    reason: str
    placed_by: str
    placed_at: dt.datetime


class CreditOut(BaseModel):
    customer: str
    grade: str | None = Field(description="AAA, AA, A, BBB, BB, B or C; null if never scored")
    score: str | None = Field(description="0.0 to 100.0")
    scored_on: dt.date | None
    factors: list[FactorOut]
    limit: str | None
    terms_days: int | None
    limit_source: str | None = Field(description="policy or override")
    limit_expires_on: dt.date | None
    review_on: dt.date | None
    exposure: str
    available: str | None
    holds: list[HoldOut]
    blacklisted: bool


@router.get("/customers/{code}/credit", response_model=CreditOut, responses=ERROR_RESPONSES)
def customer_credit(session: SessionDep, principal: Reader, as_of: AsOfDep, code: str) -> CreditOut:
    """Grade, score with every factor, limit in force, exposure, holds and blacklist match."""
    return _credit_out(session, visible_customer(session, principal, code), as_of)


def _credit_out(session: Session, customer: Customer, as_of: dt.date) -> CreditOut:
    f = credit_file(session, customer=customer, as_of=as_of)
    return CreditOut(
        customer=customer.code, grade=f.score.grade if f.score else None,
        score=f"{f.score.score / 10:.1f}" if f.score else None, scored_on=f.score.scored_on if f.score else None,
        factors=[FactorOut(**x) for x in (f.explanation or {}).get("factors", [])],
        limit=_money(f.limit.amount) if f.limit else None, terms_days=f.limit.terms_days if f.limit else None,
        limit_source=f.limit.source if f.limit else None, limit_expires_on=f.limit.expires_on if f.limit else None,
        review_on=f.limit.review_on if f.limit else None, exposure=decimal_string(f.exposure),
        available=_money(f.available), blacklisted=bool(f.blacklisted),
        holds=[HoldOut(kind=h.kind, reason=h.reason, placed_by=h.placed_by, placed_at=h.placed_at) for h in f.holds],
    )  # fmt: skip


class StatementIn(BaseModel):
    year: int = Field(ge=1900, le=2199)
    total_assets: Money
    total_liabilities: Money
    current_assets: Money | None = None
    current_liabilities: Money | None = None
    revenue: Money | None = None
    net_profit: Money | None = None
    operating_cash_flow: Money | None = None


class FlagIn(BaseModel):
    kind: rules.FlagKind
    source: str = Field(max_length=200)
    recorded_on: dt.date


class AssessmentIn(BaseModel):
    assessed_on: dt.date
    statements: list[StatementIn] = Field(default_factory=list, max_length=20)
    founded_on: dt.date | None = None
    employees: int | None = Field(default=None, ge=0, le=10_000_000)
    revenue_band: Literal["", "<10m", "10m-50m", "50m-200m", "200m-1b", ">1b"] = ""
    market_share_percent: str | None = Field(default=None, max_length=10, description="e.g. 2.5")
    reputation_rating: int | None = Field(default=None, ge=1, le=5)
    reputation_source: str = Field(default="", max_length=200)
    report_grade: str = Field(default="", max_length=4)
    report_source: str = Field(default="", max_length=200)
    report_date: dt.date | None = None
    flags: list[FlagIn] = Field(default_factory=list, max_length=50)
    guarantee: str = Field(default="", max_length=500)
    collateral_value: Money | None = None
    insured_limit: Money | None = None
    insurer: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)


class CreatedOut(BaseModel):
    id: int


def _statement(s: StatementIn) -> rules.Financials:
    figures = {name: _fen(getattr(s, name), name) for name in
               ("current_assets", "current_liabilities", "revenue", "net_profit", "operating_cash_flow")}  # fmt: skip
    assets, liabilities = (
        _fen(s.total_assets, "total_assets"),
        _fen(s.total_liabilities, "total_liabilities"),
    )
    if assets is None or liabilities is None:
        raise InvalidInput("资产和负债必填 / total assets and liabilities are required")
    return rules.Financials(s.year, assets, liabilities, **figures)


@router.post(
    "/customers/{code}/assessments",
    response_model=CreatedOut,
    status_code=201,
    responses=ERROR_RESPONSES,
)
def create_assessment(
    request: Request, session: SessionDep, principal: Manager, code: str, body: AssessmentIn
) -> CreatedOut:
    """Record a dated assessment (it never overwrites an earlier one)."""
    from huikuan.credit.imports import parse_market_share

    try:
        share = parse_market_share(body.market_share_percent or "")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    data = service.AssessmentInput(
        assessed_on=body.assessed_on, statements=[_statement(s) for s in body.statements],
        founded_on=body.founded_on, employees=body.employees, revenue_band=body.revenue_band,
        market_share_bp=share, reputation_rating=body.reputation_rating,
        reputation_source=body.reputation_source, report_grade=body.report_grade.upper(),
        report_source=body.report_source, report_date=body.report_date,
        flags=[service.FlagInput(f.kind, f.source, f.recorded_on) for f in body.flags],
        guarantee=body.guarantee, collateral_value=_fen(body.collateral_value, "collateral_value"),
        insured_limit=_fen(body.insured_limit, "insured_limit"), insurer=body.insurer, note=body.note,
    )  # fmt: skip
    row = service.record_assessment(
        session, actor=principal.actor(request), company_id=principal.company.id,
        customer=visible_customer(session, principal, code), data=data,
    )  # fmt: skip
    return CreatedOut(id=row.id)


@router.post("/customers/{code}/score", response_model=CreditOut, responses=ERROR_RESPONSES)
def score_customer(
    request: Request, session: SessionDep, principal: Manager, as_of: AsOfDep, code: str
) -> CreditOut:
    """Score the customer on ``as_of`` and record the limit its grade earns."""
    customer = visible_customer(session, principal, code)
    service.score_customers(session, actor=principal.actor(request), company_id=principal.company.id,
                            customers=[customer], as_of=as_of)  # fmt: skip
    return _credit_out(session, customer, as_of)


class LimitRequestIn(BaseModel):
    amount: Money
    terms_days: int = Field(ge=0, le=365)
    reason: str = Field(min_length=1, max_length=1000)
    valid_from: dt.date
    expires_on: dt.date | None = None


class LimitRequestOut(BaseModel):
    id: int
    customer: str
    amount: str
    terms_days: int
    status: str
    requested_by: str
    approved_by: str


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=1000)


def _limit_out(row, customer: Customer) -> LimitRequestOut:
    return LimitRequestOut(id=row.id, customer=customer.code, amount=decimal_string(row.amount),
                           terms_days=row.terms_days, status=row.status, requested_by=row.requested_by,
                           approved_by=row.approved_by)  # fmt: skip


@router.post(
    "/customers/{code}/limit-requests",
    response_model=LimitRequestOut,
    status_code=201,
    responses=ERROR_RESPONSES,
)
def request_limit(
    request: Request, session: SessionDep, principal: Manager, code: str, body: LimitRequestIn
) -> LimitRequestOut:
    """Ask for a limit set by hand; another credit manager must approve it."""
    customer = visible_customer(session, principal, code)
    amount = _fen(body.amount, "amount")
    ask = limits.OverrideRequest(amount if amount is not None else -1, body.terms_days, body.reason,
                                 body.valid_from, body.expires_on)  # fmt: skip
    row = limits.request_override(session, actor=principal.actor(request), company_id=principal.company.id,
                                  customer=customer, request=ask)  # fmt: skip
    return _limit_out(row, customer)


@router.post(
    "/limit-requests/{limit_id}/decision", response_model=LimitRequestOut, responses=ERROR_RESPONSES
)
def decide_limit(
    request: Request,
    session: SessionDep,
    principal: Manager,
    limit_id: Annotated[int, PathParam(ge=1, le=2**62)],
    body: DecisionIn,
) -> LimitRequestOut:
    """Approve or reject a limit request (not one's own)."""
    row = limits.decide_override(session, actor=principal.actor(request), company_id=principal.company.id,
                                 limit_id=limit_id, approve=body.approve, note=body.note)  # fmt: skip
    return _limit_out(row, session.get_one(Customer, row.customer_id))


class HoldIn(BaseModel):
    kind: Literal["credit_hold", "supply_stop"]
    reason: str = Field(min_length=1, max_length=1000)
    release: bool = Field(default=False, description="true: release the hold of this kind")


@router.post("/customers/{code}/holds", response_model=CreditOut, responses=ERROR_RESPONSES)
def hold(
    request: Request,
    session: SessionDep,
    principal: Holder,
    as_of: AsOfDep,
    code: str,
    body: HoldIn,
) -> CreditOut:
    """Place (or, with ``release``, lift) a credit hold or supply stop, with the reason."""
    customer = visible_customer(session, principal, code)
    change = holds.release_hold if body.release else holds.place_on_hold
    change(session, actor=principal.actor(request), company_id=principal.company.id, customer=customer,
           kind=body.kind, reason=body.reason)  # fmt: skip
    return _credit_out(session, customer, as_of)


# --- orders -----------------------------------------------------------------------------------


class OrderLineIn(BaseModel):
    item: str = Field(min_length=1, max_length=200)
    quantity: str = Field(max_length=20, description="Up to 3 decimals, e.g. 2.5")
    unit_price: Money


class OrderIn(BaseModel):
    number: str = Field(min_length=1, max_length=60)
    customer: str = Field(min_length=1, max_length=60)
    ordered_on: dt.date
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class ReasonOut(BaseModel):
    code: str
    message: str


class OrderOut(BaseModel):
    number: str
    customer: str
    ordered_on: dt.date
    amount: str
    status: str
    approval: str = Field(description="pending, approved or rejected")
    shipped: str
    invoiced: str
    reasons: list[ReasonOut] = Field(description="Why the latest check did not pass")


class OrderPage(PageMeta):
    items: list[OrderOut]


def _order_out(session: Session, order: SalesOrder, customer_code: str) -> OrderOut:
    reasons = orders.decision_reasons(orders.latest_decision(session, order))
    return OrderOut(
        number=order.number, customer=customer_code, ordered_on=order.ordered_on, amount=decimal_string(order.amount),
        status=order.status, approval=order.approval, shipped=decimal_string(order.shipped_amount),
        invoiced=decimal_string(order.invoiced_amount),
        reasons=[ReasonOut(code=str(r.code), message=r.message) for r in reasons] if order.approval == "pending" else [],
    )  # fmt: skip


def _visible_order(
    session: Session, principal: Principal, number: str
) -> tuple[SalesOrder, Customer]:
    order = session.scalar(
        select(SalesOrder).where(
            SalesOrder.company_id == principal.company.id, SalesOrder.number == number
        )
    )
    if order is None:
        raise NotFound(f"没有订单 {number} / no order {number}")
    customer = session.get_one(Customer, order.customer_id)
    visible_customer(session, principal, customer.code)
    return order, customer


@router.get("/orders", response_model=OrderPage, responses=ERROR_RESPONSES)
def orders_list(
    session: SessionDep, principal: Reader,
    approval: Literal["pending", "approved", "rejected"] | None = None,
    customer: Annotated[str | None, Query(max_length=60)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1, page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:  # fmt: skip
    """Sales orders, newest first; ``approval=pending`` is the approvals queue."""
    rows, total = list_orders(session, company_id=principal.company.id, only=principal.scope.only,
                              customer_code=customer, approval=approval, page=page, page_size=page_size)  # fmt: skip
    return OrderPage(
        items=[_order_out(session, o, c.code) for o, c in rows],
        page=page,
        page_size=page_size,
        total=total,
    )


@router.post("/orders", response_model=OrderOut, status_code=201, responses=ERROR_RESPONSES)
def create_order(
    request: Request, session: SessionDep, principal: OrderTaker, as_of: AsOfDep, body: OrderIn
) -> OrderOut:
    """Enter an order; it is checked against credit at once (approved, or pending with reasons)."""
    from huikuan.credit.approval import parse_quantity

    customer = visible_customer(session, principal, body.customer)
    try:
        lines = [orders.OrderLineInput(line.item, parse_quantity(line.quantity), parse_amount(line.unit_price))
                 for line in body.lines]  # fmt: skip
    except (ValueError, AmountError) as exc:
        raise InvalidInput(str(exc)) from exc
    order = orders.create_order(session, actor=principal.actor(request), company_id=principal.company.id,
                                customer=customer, number=body.number, ordered_on=body.ordered_on,
                                lines=lines, as_of=as_of, currency=principal.company.currency)  # fmt: skip
    return _order_out(session, order, customer.code)


@router.get("/orders/{number}", response_model=OrderOut, responses=ERROR_RESPONSES)
def order_detail(session: SessionDep, principal: Reader, number: str) -> OrderOut:
    order, customer = _visible_order(session, principal, number)
    return _order_out(session, order, customer.code)


@router.post("/orders/{number}/decision", response_model=OrderOut, responses=ERROR_RESPONSES)
def decide_order(
    request: Request, session: SessionDep, principal: Approver, number: str, body: DecisionIn
) -> OrderOut:
    """Approve or reject an order waiting for credit (never one's own customer's)."""
    order, customer = _visible_order(session, principal, number)
    decide = orders.approve_order if body.approve else orders.reject_order
    decide(session, actor=principal.actor(request), approver_name=principal.user.display_name,
           approver_role=principal.user.role, company_id=principal.company.id, number=number, note=body.note)  # fmt: skip
    return _order_out(session, order, customer.code)


# --- blacklist and review ---------------------------------------------------------------------


class BlacklistIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=1000)
    uscc: str = Field(default="", max_length=40)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    evidence: str = Field(default="", max_length=2000)
    listed_on: dt.date


class BlacklistOut(BaseModel):
    id: int
    name: str
    aliases: str
    uscc: str
    reason: str
    source: str
    listed_on: dt.date


class BlacklistPage(PageMeta):
    items: list[BlacklistOut]


def _entry_out(e) -> BlacklistOut:
    return BlacklistOut(id=e.id, name=e.name, aliases=e.aliases, uscc=e.uscc, reason=e.reason,
                        source=e.source, listed_on=e.listed_on)  # fmt: skip


@router.get("/blacklist", response_model=BlacklistPage, responses=ERROR_RESPONSES)
def blacklist(
    session: SessionDep, principal: Reader,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1, page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> BlacklistPage:  # fmt: skip
    """The active blacklist (small by nature: hundreds of entries), one page of it."""
    entries = active_entries(session, company_id=principal.company.id)
    chunk = entries[(page - 1) * page_size : page * page_size]
    return BlacklistPage(
        items=[_entry_out(e) for e in chunk], page=page, page_size=page_size, total=len(entries)
    )


@router.post("/blacklist", response_model=BlacklistOut, status_code=201, responses=ERROR_RESPONSES)
def add_blacklist(
    request: Request, session: SessionDep, principal: Manager, body: BlacklistIn
) -> BlacklistOut:
    entry = add_to_blacklist(session, actor=principal.actor(request), company_id=principal.company.id,
                             name=body.name, reason=body.reason, uscc=body.uscc, aliases=tuple(body.aliases),
                             evidence=body.evidence, source="", listed_on=body.listed_on)  # fmt: skip
    return _entry_out(entry)


class ReviewOut(BaseModel):
    customer: str
    name: str
    reasons: list[str] = Field(
        description="never_assessed, review_date, over_limit, worse_grade, overdue"
    )
    grade: str | None
    grade_now: str
    limit: str | None
    exposure: str
    review_on: dt.date | None
    oldest_overdue_days: int | None


class ReviewPage(PageMeta):
    items: list[ReviewOut]


@router.get("/credit/review", response_model=ReviewPage, responses=ERROR_RESPONSES)
def review_list(
    session: SessionDep, principal: Reader, as_of: AsOfDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1, page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewPage:  # fmt: skip
    """Customers due for a credit review on ``as_of``, with every reason."""
    items = review.due_for_review(
        session, company_id=principal.company.id, as_of=as_of, only=principal.scope.only
    )
    chunk = items[(page - 1) * page_size : page * page_size]
    return ReviewPage(
        items=[ReviewOut(customer=i.customer.code, name=i.customer.name, reasons=list(i.reasons), grade=i.grade,
                         grade_now=i.grade_now, limit=_money(i.limit), exposure=decimal_string(i.exposure),
                         review_on=i.review_on, oldest_overdue_days=i.oldest_overdue_days) for i in chunk],
        page=page, page_size=page_size, total=len(items),
    )  # fmt: skip
