"""Credit pages: the forms on the customer page (assessment, scoring, limit requests, holds),
the approvals queue (orders and limit requests waiting), sales orders, and the blacklist.

Every form posts to a route that checks the user's right on the server; a refused form shows
the page again with the reason and writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import HuikuanError, InvalidInput, NotFound
from huikuan.core.money import AmountError, parse_amount
from huikuan.credit import holds, limits, orders, rules, service
from huikuan.credit.approval import parse_quantity
from huikuan.credit.blacklist import (
    EXPORT_HEADERS,
    active_entries,
    add_to_blacklist,
    export_blacklist,
)
from huikuan.credit.imports import parse_flags, parse_market_share
from huikuan.credit.queries import (
    holds_in_force,
    list_orders,
    waiting_limit_requests,
    waiting_orders,
)
from huikuan.customers.models import Customer
from huikuan.ledger.models import SalesOrder
from huikuan.users.rules import Right, may
from huikuan.web.customer_pages import render_customer
from huikuan.web.deps import AsOfDep, Csrf, Principal, SessionDep, now, require, visible_customer
from huikuan.web.i18n import localise
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang

router = APIRouter(include_in_schema=False)
CreditReader = Annotated[Principal, Depends(require(Right.READ_CREDIT))]
CreditManager = Annotated[Principal, Depends(require(Right.MANAGE_CREDIT))]
HoldPlacer = Annotated[Principal, Depends(require(Right.PLACE_HOLDS))]
OrderTaker = Annotated[Principal, Depends(require(Right.ENTER_ORDERS))]
Approver = Annotated[Principal, Depends(require(Right.APPROVE_ORDERS))]
PAGE_SIZE = 50


def _back(code: str) -> RedirectResponse:
    return RedirectResponse(f"/customers/{quote(code)}#credit", status_code=303)


def _fen(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise InvalidInput(f"{field}: {exc}") from exc


def _day(value: str, field: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return parse_date(value)
    except DateError as exc:
        raise InvalidInput(f"{field}: {exc}") from exc


def _int(value: str, field: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{field}: 应为整数 / must be a whole number")
    return int(text)


def _refused(request: Request, session: Session, principal: Principal, code: str, as_of: dt.date,
             exc: Exception) -> Response:  # fmt: skip
    session.rollback()
    message = exc.message if isinstance(exc, HuikuanError) else str(exc)
    return render_customer(request, session, principal, code, as_of, error=message, status=422)


# --- the customer page's credit forms ---------------------------------------------------------


def _statement(form: dict[str, str]) -> list[rules.Financials]:
    figures = {
        name: _fen(form.get(name, ""), name)
        for name in ("total_assets", "total_liabilities", "current_assets", "current_liabilities",
                     "revenue", "net_profit", "operating_cash_flow")
    }  # fmt: skip
    year = _int(form.get("year", ""), "year")
    if year is None and all(v is None for v in figures.values()):
        return []
    if year is None or figures["total_assets"] is None or figures["total_liabilities"] is None:
        raise InvalidInput("财务数据须有年度、资产总额和负债总额 / statements need the year, total assets and total liabilities")  # fmt: skip
    return [rules.Financials(year, **figures)]  # type: ignore[arg-type]


def _assessment(form: dict[str, str]) -> service.AssessmentInput:
    assessed_on = _day(form.get("assessed_on", ""), "assessed_on")
    if assessed_on is None:
        raise InvalidInput("请填写评估日期 / enter the assessment date")
    try:
        share = parse_market_share(form.get("market_share", ""))
        flags = parse_flags(form.get("flags", ""), assessed_on)
    except (ValueError, DateError) as exc:
        raise InvalidInput(str(exc)) from exc
    return service.AssessmentInput(
        assessed_on=assessed_on, statements=_statement(form),
        founded_on=_day(form.get("founded_on", ""), "founded_on"),
        employees=_int(form.get("employees", ""), "employees"),
        revenue_band=form.get("revenue_band", ""), market_share_bp=share,
        reputation_rating=_int(form.get("reputation_rating", ""), "reputation_rating"),
        reputation_source=form.get("reputation_source", "").strip(),
        report_grade=form.get("report_grade", "").strip().upper(),
        report_source=form.get("report_source", "").strip(), flags=flags,
        guarantee=form.get("guarantee", "").strip(),
        collateral_value=_fen(form.get("collateral_value", ""), "collateral_value"),
        insured_limit=_fen(form.get("insured_limit", ""), "insured_limit"),
    )  # fmt: skip


@router.post("/customers/{code}/assessments", response_model=None)
async def enter_assessment(
    request: Request, session: SessionDep, principal: CreditManager, as_of: AsOfDep, code: str
) -> Response:
    """Record an assessment from the customer page's form and, if asked, score at once."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    try:
        data = _assessment(form)
        actor = principal.actor(request)
        service.record_assessment(session, actor=actor, company_id=principal.company.id, customer=customer, data=data)  # fmt: skip
        if form.get("score_now"):
            service.score_customers(session, actor=actor, company_id=principal.company.id, customers=[customer], as_of=as_of)  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, code, as_of, exc)
    return _back(code)


@router.post("/customers/{code}/score", response_model=None)
def score_customer(
    request: Request, session: SessionDep, principal: CreditManager, as_of: AsOfDep, code: str,
    csrf: Csrf,
) -> Response:  # fmt: skip
    """Score the customer again with today's ledger and latest assessment."""
    check_csrf(principal, csrf)
    customer = visible_customer(session, principal, code)
    service.score_customers(
        session, actor=principal.actor(request), company_id=principal.company.id,
        customers=[customer], as_of=as_of,
    )  # fmt: skip
    return _back(code)


@router.post("/customers/{code}/limit-requests", response_model=None)
def request_limit(
    request: Request, session: SessionDep, principal: CreditManager, as_of: AsOfDep, code: str,
    csrf: Csrf, amount: Annotated[str, Form(max_length=40)], reason: Annotated[str, Form(max_length=1000)],
    terms_days: Annotated[str, Form(max_length=5)] = "30", valid_from: Annotated[str, Form(max_length=20)] = "",
    expires_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """Ask for a limit set by hand; another credit manager approves it on the approvals page."""
    check_csrf(principal, csrf)
    customer = visible_customer(session, principal, code)
    try:
        fen = _fen(amount, "amount")
        ask = limits.OverrideRequest(
            amount=fen if fen is not None else -1, terms_days=_int(terms_days, "terms_days") or 0,
            reason=reason, valid_from=_day(valid_from, "valid_from") or as_of,
            expires_on=_day(expires_on, "expires_on"),
        )  # fmt: skip
        limits.request_override(session, actor=principal.actor(request), company_id=principal.company.id, customer=customer, request=ask)  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, code, as_of, exc)
    return _back(code)


@router.post("/customers/{code}/holds", response_model=None)
def hold_or_release(
    request: Request, session: SessionDep, principal: HoldPlacer, as_of: AsOfDep, code: str,
    csrf: Csrf, kind: Annotated[str, Form(max_length=20)], reason: Annotated[str, Form(max_length=1000)],
    action: Annotated[str, Form(max_length=10)] = "place",
) -> Response:  # fmt: skip
    """Place a credit hold or supply stop, or release it, with the reason."""
    check_csrf(principal, csrf)
    customer = visible_customer(session, principal, code)
    change = holds.place_on_hold if action == "place" else holds.release_hold
    try:
        with session.begin_nested():
            change(session, actor=principal.actor(request), company_id=principal.company.id,
                   customer=customer, kind=kind, reason=reason)  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, code, as_of, exc)
    return _back(code)


# --- approvals --------------------------------------------------------------------------------


def _base(principal: Principal, lang: str | None) -> dict[str, Any]:
    chosen = page_lang(principal, lang)
    role = principal.user.role
    return {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "error": None,
        "can_approve": may(role, Right.APPROVE_ORDERS), "can_manage_credit": may(role, Right.MANAGE_CREDIT),
        "can_enter_orders": may(role, Right.ENTER_ORDERS),
    }  # fmt: skip


def _approvals(request: Request, session: Session, principal: Principal, lang: str | None = None,
               error: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    waiting, total = waiting_orders(
        session, company_id=principal.company.id, only=principal.scope.only
    )
    context.update(
        waiting=waiting, waiting_total=total,
        requests=waiting_limit_requests(session, company_id=principal.company.id) if principal.scope.only is None else [],
        holds=holds_in_force(session, company_id=principal.company.id, only=principal.scope.only),
        error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "approvals.html", context, status_code=status)


@router.get("/credit", response_class=HTMLResponse)
def approvals_page(
    request: Request, session: SessionDep, principal: CreditReader,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """Orders and limit requests waiting for a decision, and the customers on hold."""
    return _approvals(request, session, principal, lang)


@router.post("/orders/{number:path}/decide", response_model=None)
def decide_order(
    request: Request, session: SessionDep, principal: Approver, number: str, csrf: Csrf,
    decision: Annotated[str, Form(max_length=10)], note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Approve or reject an order waiting for credit; the approver and note are recorded."""
    check_csrf(principal, csrf)
    _visible_order(session, principal, number)
    decide = orders.approve_order if decision == "approve" else orders.reject_order
    try:
        with session.begin_nested():
            decide(session, actor=principal.actor(request), approver_name=principal.user.display_name,
                   approver_role=principal.user.role, company_id=principal.company.id,
                   number=number, note=note.strip())  # fmt: skip
    except HuikuanError as exc:
        return _approvals(request, session, principal, error=exc.message, status=422)
    return RedirectResponse("/credit", status_code=303)


@router.post("/limit-requests/{limit_id}/decide", response_model=None)
def decide_limit(
    request: Request, session: SessionDep, principal: CreditManager, limit_id: int, csrf: Csrf,
    decision: Annotated[str, Form(max_length=10)], note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Approve or reject a limit set by hand; nobody approves their own request."""
    check_csrf(principal, csrf)
    try:
        with session.begin_nested():
            limits.decide_override(session, actor=principal.actor(request), company_id=principal.company.id,
                                   limit_id=limit_id, approve=decision == "approve", note=note)  # fmt: skip
    except HuikuanError as exc:
        return _approvals(request, session, principal, error=exc.message, status=422)
    return RedirectResponse("/credit", status_code=303)


# --- orders -----------------------------------------------------------------------------------


def _visible_order(session: Session, principal: Principal, number: str) -> SalesOrder:
    order = session.scalar(
        select(SalesOrder).where(SalesOrder.company_id == principal.company.id, SalesOrder.number == number)
    )  # fmt: skip
    if order is None:
        raise NotFound(f"没有订单 {number} / no order {number}")
    customer = session.get_one(Customer, order.customer_id)
    visible_customer(session, principal, customer.code)  # out of the user's view: not found
    return order


def _orders_page(request: Request, session: Session, principal: Principal, *, customer: str = "",
                 approval: str = "", page: int = 1, lang: str | None = None, error: str | None = None,
                 status: int = 200) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    rows, total = list_orders(
        session, company_id=principal.company.id, only=principal.scope.only,
        customer_code=customer or None, approval=approval or None, page=page, page_size=PAGE_SIZE,
    )  # fmt: skip
    context.update(
        rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), customer=customer,
        approval=approval, today=now().date(), error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "orders.html", context, status_code=status)


@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request, session: SessionDep, principal: CreditReader,
    customer: Annotated[str, Query(max_length=60)] = "", approval: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1, lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    return _orders_page(
        request, session, principal, customer=customer, approval=approval, page=page, lang=lang
    )


def parse_lines(text: str) -> list[orders.OrderLineInput]:
    """One line per row: 'item,quantity,unit price' (quantity with up to 3 decimals)."""
    found = []
    for number, row in enumerate(filter(None, (r.strip() for r in text.splitlines())), start=1):
        parts = [p.strip() for p in next(csv.reader([row]))]
        if len(parts) != 3 or not parts[0]:
            raise InvalidInput(
                f"第 {number} 行应为 品名,数量,单价 / line {number}: item,quantity,unit price"
            )
        try:
            quantity = parse_quantity(parts[1])
            price = parse_amount(parts[2])
        except (AmountError, ValueError) as exc:
            raise InvalidInput(f"第 {number} 行 / line {number}: {exc}") from exc
        found.append(orders.OrderLineInput(parts[0], quantity, price))
    if not found:
        raise InvalidInput("订单至少要有一行明细 / an order needs at least one line")
    return found


@router.post("/orders", response_model=None)
def enter_order(
    request: Request, session: SessionDep, principal: OrderTaker, as_of: AsOfDep, csrf: Csrf,
    customer: Annotated[str, Form(max_length=60)], number: Annotated[str, Form(max_length=60)],
    ordered_on: Annotated[str, Form(max_length=20)], lines: Annotated[str, Form(max_length=20000)],
) -> Response:  # fmt: skip
    """Enter an order; it is checked against credit at once and approved or sent to wait."""
    check_csrf(principal, csrf)
    try:
        target = visible_customer(session, principal, customer.strip())
        with session.begin_nested():
            orders.create_order(
                session, actor=principal.actor(request), company_id=principal.company.id,
                customer=target, number=number.strip(), ordered_on=_day(ordered_on, "ordered_on") or as_of,
                lines=parse_lines(lines), as_of=as_of, currency=principal.company.currency,
            )  # fmt: skip
    except HuikuanError as exc:
        return _orders_page(request, session, principal, error=exc.message, status=422)
    return RedirectResponse(f"/orders/{quote(number.strip())}", status_code=303)


@router.get("/orders/{number:path}", response_class=HTMLResponse)
def order_page(
    request: Request, session: SessionDep, principal: CreditReader, number: str,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """One order: its lines, the credit decisions with their reasons, and who decided."""
    from huikuan.credit.models import SalesOrderLine

    order = _visible_order(session, principal, number)
    context = _base(principal, lang)
    context.update(
        order=order, c=session.get_one(Customer, order.customer_id),
        lines=list(session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id).order_by(SalesOrderLine.line_no))),
        decisions=orders.order_decisions(session, order),
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "order.html", context)


# --- blacklist --------------------------------------------------------------------------------


@router.get("/blacklist", response_class=HTMLResponse)
def blacklist_page(
    request: Request, session: SessionDep, principal: CreditReader,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    return _blacklist(request, session, principal, lang)


def _blacklist(request: Request, session: Session, principal: Principal, lang: str | None = None,
               error: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    context.update(entries=active_entries(session, company_id=principal.company.id), today=now().date(),
                   error=localise(error, context["lang"]) if error else None)  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "blacklist.html", context, status_code=status)


@router.post("/blacklist", response_model=None)
def add_blacklist_entry(
    request: Request, session: SessionDep, principal: CreditManager, csrf: Csrf,
    name: Annotated[str, Form(max_length=200)], reason: Annotated[str, Form(max_length=1000)],
    uscc: Annotated[str, Form(max_length=40)] = "", aliases: Annotated[str, Form(max_length=1000)] = "",
    evidence: Annotated[str, Form(max_length=2000)] = "", listed_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    check_csrf(principal, csrf)
    try:
        with session.begin_nested():
            add_to_blacklist(
                session, actor=principal.actor(request), company_id=principal.company.id, name=name,
                reason=reason, uscc=uscc, aliases=tuple(a.strip() for a in aliases.split("|") if a.strip()),
                evidence=evidence, source="", listed_on=_day(listed_on, "listed_on") or now().date(),
            )  # fmt: skip
    except HuikuanError as exc:
        return _blacklist(request, session, principal, error=exc.message, status=422)
    return RedirectResponse("/blacklist", status_code=303)


@router.get("/blacklist.csv")
def blacklist_export(session: SessionDep, principal: CreditReader) -> Response:
    """The active list as CSV (UTF-8 with BOM) to share with partner companies."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_HEADERS)
    writer.writeheader()
    writer.writerows(export_blacklist(session, company_id=principal.company.id))
    return Response(
        "\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="blacklist.csv"'},
    )  # fmt: skip
