"""Pages: payment plans (the list with filters and Excel export; one plan with its schedule,
invoices and history; proposing a plan for a customer's overdue invoices; approving or
rejecting a proposed one; cancelling one), late fees (the charges with filters and export, a
waiver request per charge, the requests waiting with approve and reject), and closing a
follow-up from the customer page. Deciding needs the manage_credit right, and nobody decides
what they recorded or asked for themselves.

A refused form shows its page again with the reason and the values as typed; nothing is
written. A plan, charge or follow-up of a customer outside the user's view is 'not found'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from huikuan.collections import contact_log, late_fees, plans
from huikuan.collections.models import FollowUp, LateFeeCharge, PaymentPlan
from huikuan.collections.plan_fee_api import visible_owner
from huikuan.collections.plan_fee_queries import (
    FEE_STATES,
    FeeFilter,
    PlanDetail,
    list_fee_charges,
    list_waivers,
    pending_by_charge,
    plan_candidates,
    plan_detail,
    plan_lines,
    waiver_owner,
)
from huikuan.collections.plan_rules import Frequency, PlanStatus, ScheduleError
from huikuan.core.audit import history
from huikuan.core.dates import DateError, check_business_date, parse_date
from huikuan.core.errors import Conflict, HuikuanError, InvalidInput, NotFound
from huikuan.core.money import AmountError, parse_amount
from huikuan.ledger.exports import Money
from huikuan.users.rules import Right, may
from huikuan.web.customer_pages import render_customer
from huikuan.web.deps import AsOfDep, Csrf, Principal, SessionDep, require, visible_customer
from huikuan.web.deps import LangParam as Lang
from huikuan.web.deps import RowId as Id
from huikuan.web.deps import SearchText as Text
from huikuan.web.desk_pages import parse_instalments
from huikuan.web.i18n import LABELS, localise
from huikuan.web.pages import TEMPLATES, _safe_next, _t, check_csrf, page_lang
from huikuan.web.xlsx import xlsx_response

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Right.READ_COLLECTIONS))]
Logger = Annotated[Principal, Depends(require(Right.LOG_CONTACTS))]
Worker = Annotated[Principal, Depends(require(Right.WORK_ACTIONS))]
Manager = Annotated[Principal, Depends(require(Right.MANAGE_CREDIT))]
PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
MAX_INSTALMENTS = 120  # ten years of monthly instalments
MAX_FIELD = 2000
PENDING_SHOWN = 200  # waiver requests listed on the late-fee page


def _base(principal: Principal, lang: str | None) -> dict[str, Any]:
    chosen = page_lang(principal, lang)
    return {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "error": None,
        "can_log": may(principal.user.role, Right.LOG_CONTACTS),
        "can_decide": may(principal.user.role, Right.MANAGE_CREDIT),
    }  # fmt: skip


def _status(exc: HuikuanError) -> int:
    return 409 if isinstance(exc, Conflict) else 422


def _zh(prefix: str, value: str) -> str:
    """A status in Chinese for a workbook (the value itself when it has no label)."""
    return LABELS.get(prefix + value, (value, value))[0]


def form_date(text: str, zh: str, en: str) -> dt.date | None:
    """A date typed in a form (None when empty), within the business years."""
    text = text.strip()
    if not text:
        return None
    try:
        day = parse_date(text)
    except DateError as exc:
        raise InvalidInput(f"{zh}无法识别：{text} / {en} cannot be read: {text}") from exc
    try:
        return check_business_date(day)
    except DateError as exc:
        raise InvalidInput(str(exc)) from exc


def interest_bp(text: str) -> int:
    """An annual rate typed as a percentage ('6', '6.5%') in basis points (600, 650)."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return 0
    try:
        bp = Decimal(text) * 100
    except InvalidOperation:
        bp = Decimal("NaN")
    if bp.is_nan() or bp != bp.to_integral_value() or not 0 <= bp <= 100_00:
        raise InvalidInput(
            f"年利率须为 0 到 100 之间、最多两位小数的百分数：{text} / "
            f"the annual rate must be a percentage from 0 to 100 with two decimals at most: {text}"
        )
    return int(bp)


def schedule_from(form: dict[str, str]) -> plans.ScheduleRequest:
    """Explicit lines (date,amount) or equal instalments (count, first date, frequency)."""
    if form.get("schedule") == "lines":
        parts = parse_instalments(form.get("lines", ""))
        return plans.ScheduleRequest(tuple(d for d, _ in parts), tuple(a for _, a in parts))
    count = form.get("count", "").strip()
    if not (count.isdigit() and len(count) <= 3 and 1 <= int(count) <= MAX_INSTALMENTS):
        raise InvalidInput(
            f"期数须为 1 到 {MAX_INSTALMENTS} 的整数 / "
            f"the number of instalments must be a whole number from 1 to {MAX_INSTALMENTS}"
        )
    first = form_date(form.get("first_due_on", ""), "第一期日期", "the first due date")
    if first is None:
        raise InvalidInput("请填写第一期日期 / give the first due date")
    frequency = form.get("frequency", "")
    if frequency not in {f.value for f in Frequency}:
        raise InvalidInput("频率须为每月或每周 / the frequency must be monthly or weekly")
    try:
        return plans.ScheduleRequest.equal(first, int(count), frequency)
    except ScheduleError as exc:
        raise InvalidInput(exc.message) from exc


async def _posted(request: Request) -> tuple[dict[str, str], list[str]]:
    """The posted fields (each cut to a sane length) and the invoices ticked."""
    data = await request.form()
    fields = {k: str(v)[:MAX_FIELD] for k, v in data.items() if isinstance(v, str)}
    chosen = [str(v)[:100] for v in data.getlist("invoice") if isinstance(v, str)][:500]
    return fields, chosen


# --- payment plans ----------------------------------------------------------------------------


def _plan_status(value: str) -> str | None:
    return value if value in {s.value for s in PlanStatus} else None


@router.get("/plans", response_class=HTMLResponse)
def plans_page(
    request: Request, session: SessionDep, principal: Reader,
    status: Text = "", customer: Text = "", lang: Lang = None,
) -> HTMLResponse:  # fmt: skip
    """Payment plans of the user's customers: status, amount, instalments paid, next due date,
    approver; filtered by status and customer, exported to Excel. A proposed plan has approve
    and reject buttons for those who may decide."""
    context = _base(principal, lang)
    rows = plan_lines(
        session, company_id=principal.company.id, status=_plan_status(status),
        customer=customer.strip() or None, only=principal.scope.only,
    )  # fmt: skip
    query = urlencode(
        {k: v for k, v in {"status": status, "customer": customer.strip()}.items() if v}
    )
    context.update(
        rows=rows, status=_plan_status(status) or "", customer=customer.strip(), query=query,
        statuses=[s.value for s in PlanStatus], total=sum(r.row.total for r in rows),
        paid=sum(r.row.paid for r in rows), back=f"/plans?{query}" if query else "/plans",
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "plans.html", context)


@router.get("/plans.xlsx")
def plans_export(
    session: SessionDep, principal: Reader, status: Text = "", customer: Text = ""
) -> StreamingResponse:
    """The plans as filtered on the page, as a workbook (amounts as numbers, dates as dates)."""
    rows = plan_lines(
        session, company_id=principal.company.id, status=_plan_status(status),
        customer=customer.strip() or None, only=principal.scope.only,
    )  # fmt: skip
    headers = ["编号", "客户编码", "客户名称", "约定日", "状态", "发票数", "计划金额", "已收",
               "已付期数", "总期数", "下一期到期日", "审批人"]  # fmt: skip
    table = (
        [r.row.id, r.row.customer, r.customer_name, r.row.agreed_on, _zh("plan_status_", r.row.status),
         r.row.invoices, Money(r.row.total), Money(r.row.paid), r.instalments_paid, r.instalments,
         r.row.next_due_on if r.row.status == PlanStatus.ACTIVE.value else None, r.row.approved_by]
        for r in rows
    )  # fmt: skip
    return xlsx_response("还款计划", headers, table, "payment-plans.xlsx")


def _visible_plan(session: Session, principal: Principal, plan_id: int) -> PlanDetail:
    missing = f"没有还款计划 #{plan_id} / no payment plan #{plan_id}"
    visible_owner(session, principal, PaymentPlan, plan_id, missing)
    return plan_detail(session, company_id=principal.company.id, plan_id=plan_id)


def _plan_page(
    request: Request, session: Session, principal: Principal, plan_id: int, *,
    lang: str | None = None, error: str | None = None, status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    detail = _visible_plan(session, principal, plan_id)
    context = _base(principal, lang)
    records = history(session, company_id=principal.company.id, entity="payment_plan", entity_id=plan_id)  # fmt: skip
    context.update(
        d=detail, c=detail.customer, history=records[::-1], show_entity=False, form=form or {},
        error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "plan.html", context, status_code=status)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(
    request: Request, session: SessionDep, principal: Reader, plan_id: Id, lang: Lang = None
) -> HTMLResponse:
    """One plan: its schedule (each instalment's due date, amount, interest, received as last
    checked, status), its invoices, the approve and reject buttons while proposed, the cancel
    form while active, and its history."""
    return _plan_page(request, session, principal, plan_id, lang=lang)


@router.post("/plans/{plan_id}/cancel", response_model=None)
def cancel_plan_form(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep, plan_id: Id,
    csrf: Csrf, reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Cancel an active plan with a reason: its invoices return to the ladder where they stood."""
    check_csrf(principal, csrf)
    _visible_plan(session, principal, plan_id)
    try:
        with session.begin_nested():
            plans.cancel_plan(
                session, actor=principal.actor(request), company_id=principal.company.id,
                plan_id=plan_id, reason=reason.strip(), cancelled_on=as_of,
            )  # fmt: skip
    except HuikuanError as exc:
        return _plan_page(
            request, session, principal, plan_id, error=exc.message, status=_status(exc),
            form={"reason": reason},
        )  # fmt: skip
    return RedirectResponse(f"/plans/{plan_id}", status_code=303)


@router.post("/plans/{plan_id}/decide", response_model=None)
def decide_plan_form(
    request: Request, session: SessionDep, principal: Manager, as_of: AsOfDep, plan_id: Id,
    csrf: Csrf, decision: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    back: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Approve (the plan becomes active, approved by you) or reject a proposed plan; not one
    you recorded. Back to the page the buttons were on."""
    check_csrf(principal, csrf)
    _visible_plan(session, principal, plan_id)
    try:
        with session.begin_nested():
            plans.decide_plan(
                session, actor=principal.actor(request), company_id=principal.company.id,
                plan_id=plan_id, approve=_approve(decision), note=note, decided_on=as_of,
            )  # fmt: skip
    except HuikuanError as exc:
        return _plan_page(
            request, session, principal, plan_id, error=exc.message, status=_status(exc),
            form={"decide_note": note},
        )  # fmt: skip
    return RedirectResponse(_safe_next(back or f"/plans/{plan_id}"), status_code=303)


def _approve(decision: str) -> bool:
    """The button pressed: approve or reject (anything else is refused)."""
    if decision not in ("approve", "reject"):
        raise InvalidInput("请选择批准或驳回 / choose approve or reject")
    return decision == "approve"


def _new_plan_page(
    request: Request, session: Session, principal: Principal, code: str, as_of: dt.date, *,
    lang: str | None = None, form: dict[str, str] | None = None, chosen: list[str] | None = None,
    error: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    customer = visible_customer(session, principal, code)
    candidates = plan_candidates(session, customer=customer, as_of=as_of)
    if chosen is None:  # the overdue balance that may join a plan
        chosen = [c.invoice.number for c in candidates if c.days_overdue > 0 and not c.blocked]
    context = _base(principal, lang)
    context.update(
        c=customer, candidates=candidates, chosen=chosen, as_of=as_of,
        form=form or {"schedule": "equal", "frequency": "monthly", "count": "3"},
        error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "plan_new.html", context, status_code=status)


@router.get("/customers/{code}/plans/new", response_class=HTMLResponse)
def new_plan_page(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep, code: str,
    lang: Lang = None,
) -> HTMLResponse:  # fmt: skip
    """The form that proposes a plan for the customer's overdue invoices (ticked by default)."""
    return _new_plan_page(request, session, principal, code, as_of, lang=lang)


@router.post("/customers/{code}/plans", response_model=None)
async def agree_plan_form(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep, code: str
) -> Response:
    """Propose a plan: the invoices ticked, equal instalments or explicit lines, optional simple
    interest, late fees waived or not. It waits for another person who may manage credit."""
    form, numbers = await _posted(request)
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    try:
        with session.begin_nested():
            plan = plans.agree_plan(
                session, actor=principal.actor(request), company_id=principal.company.id,
                customer=customer, invoice_numbers=numbers, schedule=schedule_from(form),
                annual_interest_bp=interest_bp(form.get("interest", "")),
                waive_late_fees=form.get("waive_late_fees") == "yes",
                agreed_on=form_date(form.get("agreed_on", ""), "约定日", "the agreement date") or as_of,
                note=form.get("note", "").strip()[:1000],
            )  # fmt: skip
    except HuikuanError as exc:
        return _new_plan_page(
            request, session, principal, code, as_of, form=form, chosen=numbers,
            error=exc.message, status=_status(exc),
        )  # fmt: skip
    return RedirectResponse(f"/plans/{plan.id}", status_code=303)


# --- late fees --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeQuery:
    """The late-fee filters as typed in the page's address."""

    customer: str = ""
    invoice: str = ""
    period_from: str = ""
    period_to: str = ""
    state: str = ""

    def query(self, **more: object) -> str:
        values = {"customer": self.customer, "invoice": self.invoice, "period_from": self.period_from,
                  "period_to": self.period_to, "state": self.state, **more}  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def fee_filter(self, principal: Principal) -> FeeFilter:
        return FeeFilter(
            customer=self.customer.strip() or None, invoice=self.invoice.strip() or None,
            period_from=form_date(self.period_from, "期末起", "the first period end"),
            period_to=form_date(self.period_to, "期末止", "the last period end"),
            state=self.state if self.state in FEE_STATES else None, only=principal.scope.only,
        )  # fmt: skip


def _fees_page(
    request: Request, session: Session, principal: Principal, filters: FeeQuery, *,
    page: int = 1, lang: str | None = None, error: str | None = None, status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    company_id = principal.company.id
    found = list_fee_charges(
        session, company_id=company_id, flt=filters.fee_filter(principal), page=page,
        page_size=PAGE_SIZE,
    )  # fmt: skip
    waiting, waiting_total = list_waivers(
        session, company_id=company_id, status="pending", customer=filters.customer.strip() or None,
        only=principal.scope.only, page_size=PENDING_SHOWN,
    )  # fmt: skip
    context.update(
        found=found, filters=filters, page=page, pages=max(1, -(-found.total // PAGE_SIZE)),
        states=FEE_STATES, query=filters.query(), back=f"/late-fees?{filters.query(page=page)}",
        asked=pending_by_charge(session, company_id=company_id, charge_ids=[r.charge.id for r in found.rows]),
        waiting=waiting, waiting_total=waiting_total,
        form=form or {}, error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "late_fees.html", context, status_code=status)


@router.get("/late-fees", response_class=HTMLResponse)
def late_fees_page(
    request: Request, session: SessionDep, principal: Reader,
    customer: Text = "", invoice: Text = "", period_from: Text = "", period_to: Text = "",
    state: Text = "", page: Annotated[int, Query(ge=1, le=100_000)] = 1, lang: Lang = None,
) -> HTMLResponse:  # fmt: skip
    """Late fees charged on the user's customers' invoices: period, days, base, rate, amount,
    what was waived and why; filtered, exported; a waiver request form for what is still owed
    and the requests waiting, with approve and reject for those who may decide."""
    filters = FeeQuery(customer, invoice, period_from, period_to, state)
    return _fees_page(request, session, principal, filters, page=page, lang=lang)


@router.get("/late-fees.xlsx")
def late_fees_export(
    session: SessionDep, principal: Reader, customer: Text = "", invoice: Text = "",
    period_from: Text = "", period_to: Text = "", state: Text = "",
) -> StreamingResponse:  # fmt: skip
    """The charges as filtered on the page, as a workbook (amounts as numbers)."""
    flt = FeeQuery(customer, invoice, period_from, period_to, state).fee_filter(principal)
    found = list_fee_charges(session, company_id=principal.company.id, flt=flt, page=1, page_size=EXPORT_LIMIT)  # fmt: skip
    headers = ["客户编码", "客户名称", "发票号", "期间起", "期间止", "天数", "计息基数", "费率",
               "违约金", "已减免", "未付", "减免理由", "审批人"]  # fmt: skip
    table = (
        [r.customer, r.customer_name, r.invoice, r.charge.period_start, r.charge.period_end,
         r.charge.days, Money(r.charge.base), r.charge.rate, Money(r.charge.amount),
         Money(r.charge.waived), Money(r.left), r.charge.waiver_reason, r.charge.waiver_approved_by]
        for r in found.rows
    )  # fmt: skip
    return xlsx_response("逾期违约金", headers, table, "late-fees.xlsx")


@router.post("/late-fees/{charge_id}/waivers", response_model=None)
def request_waiver_form(
    request: Request, session: SessionDep, principal: Logger, charge_id: Id, csrf: Csrf,
    amount: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    back: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Ask to waive all (an empty amount) or part of a charge, with a reason; it waits for
    another person who may manage credit. Back to the list the form was on."""
    check_csrf(principal, csrf)
    missing = f"没有违约金记录 {charge_id} / no late fee charge {charge_id}"
    code = visible_owner(session, principal, LateFeeCharge, charge_id, missing)
    typed = {"charge_id": str(charge_id), "amount": amount, "reason": reason}
    try:
        with session.begin_nested():
            late_fees.request_waiver(
                session, actor=principal.actor(request), company_id=principal.company.id,
                charge_id=charge_id, amount=_waived(amount), reason=reason,
            )  # fmt: skip
    except HuikuanError as exc:
        return _fees_page(
            request, session, principal, FeeQuery(customer=code), error=exc.message,
            status=_status(exc), form=typed,
        )  # fmt: skip
    return RedirectResponse(_safe_next(back or f"/late-fees?customer={quote(code)}"), status_code=303)  # fmt: skip


@router.post("/late-fee-waivers/{waiver_id}/decide", response_model=None)
def decide_waiver_form(
    request: Request, session: SessionDep, principal: Manager, waiver_id: Id, csrf: Csrf,
    decision: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    back: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Approve (what is owed goes down by the amount asked) or reject a waiver request; not
    one you asked for. Back to the list the buttons were on."""
    check_csrf(principal, csrf)
    missing = f"没有减免申请 #{waiver_id} / no waiver request #{waiver_id}"
    code = waiver_owner(session, company_id=principal.company.id, waiver_id=waiver_id)
    if code is None:
        raise NotFound(missing)
    try:
        visible_customer(session, principal, code)
    except NotFound:
        raise NotFound(missing) from None
    try:
        with session.begin_nested():
            late_fees.decide_waiver(
                session, actor=principal.actor(request), company_id=principal.company.id,
                waiver_id=waiver_id, approve=_approve(decision), note=note,
            )  # fmt: skip
    except HuikuanError as exc:
        return _fees_page(
            request, session, principal, FeeQuery(customer=code), error=exc.message,
            status=_status(exc), form={"waiver_id": str(waiver_id), "decide_note": note},
        )  # fmt: skip
    return RedirectResponse(_safe_next(back or f"/late-fees?customer={quote(code)}"), status_code=303)  # fmt: skip


def _waived(text: str) -> int | None:
    """The amount typed, or None (all that may still be asked for) when none is."""
    if not text.strip():
        return None
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise InvalidInput(f"减免金额无法识别：{text} / the amount cannot be read: {exc}") from exc


# --- follow-ups -------------------------------------------------------------------------------


@router.post("/follow-ups/{follow_up_id}/close", response_model=None)
def close_follow_up_form(
    request: Request, session: SessionDep, principal: Worker, as_of: AsOfDep, follow_up_id: Id,
    csrf: Csrf, outcome: Annotated[str, Form(max_length=20)] = "done",
    note: Annotated[str, Form(max_length=1800)] = "",
) -> Response:  # fmt: skip
    """Close an open follow-up as done or not needed, with a note; back to the customer page."""
    check_csrf(principal, csrf)
    missing = f"没有后续事项 #{follow_up_id} / no follow-up #{follow_up_id}"
    code = visible_owner(session, principal, FollowUp, follow_up_id, missing)
    try:
        with session.begin_nested():
            contact_log.close_follow_up(
                session, actor=principal.actor(request), company_id=principal.company.id,
                follow_up_id=follow_up_id, outcome=outcome, note=note, closed_on=as_of,
            )  # fmt: skip
    except HuikuanError as exc:
        kept = {"follow_up_id": str(follow_up_id), "close_outcome": outcome, "close_note": note}
        return render_customer(
            request, session, principal, code, as_of, status=_status(exc), desk_form=kept,
            desk_error=exc.message,
        )  # fmt: skip
    return RedirectResponse(f"/customers/{quote(code)}#follow-ups", status_code=303)
