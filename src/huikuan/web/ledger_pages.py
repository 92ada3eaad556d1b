"""Pages: invoices (filters, aging drill-down, export) and payments (list and entry form)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from huikuan.core.dates import parse_date
from huikuan.core.errors import HuikuanError
from huikuan.core.money import parse_amount
from huikuan.customers.models import Customer
from huikuan.ledger import rules, service
from huikuan.ledger.exports import Money
from huikuan.ledger.imports import split_invoice_numbers
from huikuan.ledger.models import InvoiceStatus, Payment
from huikuan.ledger.queries import InvoiceFilter, list_invoices
from huikuan.users.rules import Right, may
from huikuan.web.deps import AsOfDep, Principal, SessionDep, now, require, visible_customer
from huikuan.web.i18n import Lang, localise
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang
from huikuan.web.xlsx import xlsx_response

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Right.READ_LEDGER))]
Writer = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
PAGE_SIZE = 50
EXPORT_LIMIT = 200_000


def _invoice_filter(principal: Principal, as_of: dt.date, customer: str | None, status: str | None,
                    bucket: str | None) -> InvoiceFilter:  # fmt: skip
    """Drill-down from the aging: a bucket name becomes the due-date range of that bucket."""
    due_from = due_to = None
    overdue = None
    if bucket:
        match = next((b for b in rules.aging_buckets() if b.name == bucket), None)
        if match is not None:
            due_from, due_to = rules.due_date_bounds(match, as_of)
            status = status or InvoiceStatus.OPEN.value
    valid_status = status if status in {s.value for s in InvoiceStatus} else None
    return InvoiceFilter(
        customer or None, valid_status, overdue, due_from, due_to, principal.scope.only
    )


@router.get("/invoices", response_class=HTMLResponse)
def invoices_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    as_of: AsOfDep,
    customer: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    bucket: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    chosen = page_lang(principal, lang)
    flt = _invoice_filter(principal, as_of, customer, status, bucket)
    rows, total = list_invoices(
        session,
        company_id=principal.company.id,
        flt=flt,
        as_of=as_of,
        page=page,
        page_size=PAGE_SIZE,
    )
    context = {
        **_base(principal, chosen), "rows": rows, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "as_of": as_of, "customer": customer or "",
        "status": flt.status or "", "bucket": bucket or "", "query": request.url.query,
        "buckets": [b.name for b in rules.aging_buckets()],
    }  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "invoices.html", context)


@router.post("/invoices", response_model=None)
def enter_invoice(
    request: Request,
    session: SessionDep,
    principal: Writer,
    csrf: Annotated[str, Form(max_length=100)],
    customer: Annotated[str, Form(max_length=60)],
    number: Annotated[str, Form(max_length=60)],
    issue_date: Annotated[str, Form(max_length=20)],
    amount: Annotated[str, Form(max_length=40)],
    due_date: Annotated[str, Form(max_length=20)] = "",
    terms_days: Annotated[str, Form(max_length=5)] = "",
    order_number: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Enter one invoice: due date given, or issue date plus payment terms in days."""
    check_csrf(principal, csrf)
    lang = page_lang(principal, None)
    try:
        issued = parse_date(issue_date)
        due = (
            parse_date(due_date)
            if due_date.strip()
            else issued + dt.timedelta(days=int(terms_days or 0))
        )
        fen = parse_amount(amount)
        target = visible_customer(session, principal, customer)
        with session.begin_nested():  # a refused invoice leaves nothing behind
            service.record_invoice(
                session, actor=principal.actor(request), company_id=principal.company.id, customer=target,
                number=number.strip(), issue_date=issued, due_date=due, amount=fen,
                currency=principal.company.currency, order_number=order_number.strip(),
            )  # fmt: skip
    except (HuikuanError, ValueError) as exc:
        return _invoice_error(request, session, principal, lang, _message(exc))
    return RedirectResponse(f"/customers/{target.code}?as_of={issued.isoformat()}", status_code=303)


def _message(exc: Exception) -> str:
    """Domain errors carry a bilingual message; amount and date errors are ValueErrors."""
    return exc.message if isinstance(exc, HuikuanError) else str(exc)


def _invoice_error(
    request: Request, session: SessionDep, principal: Principal, lang: Lang, message: str
) -> HTMLResponse:
    as_of = now().date()
    rows, total = list_invoices(
        session, company_id=principal.company.id, flt=_invoice_filter(principal, as_of, None, None, None),
        as_of=as_of, page=1, page_size=PAGE_SIZE,
    )  # fmt: skip
    context = {
        **_base(principal, lang), "rows": rows, "total": total, "page": 1, "pages": max(1, -(-total // PAGE_SIZE)),
        "as_of": as_of, "customer": "", "status": "", "bucket": "", "query": "",
        "buckets": [b.name for b in rules.aging_buckets()], "error": localise(message, lang),
    }  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "invoices.html", context, status_code=422)


@router.get("/invoices.xlsx")
def invoices_export(
    session: SessionDep,
    principal: Reader,
    as_of: AsOfDep,
    customer: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    bucket: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    flt = _invoice_filter(principal, as_of, customer, status, bucket)
    rows, _ = list_invoices(
        session,
        company_id=principal.company.id,
        flt=flt,
        as_of=as_of,
        page=1,
        page_size=EXPORT_LIMIT,
    )
    headers = [
        "发票号",
        "客户编码",
        "客户名称",
        "订单号",
        "开票日期",
        "到期日",
        "金额",
        "未结金额",
        "状态",
        "逾期天数",
    ]
    table = (
        [inv.number, c.code, c.name, inv.order_number, inv.issue_date, inv.due_date, Money(inv.amount),
         Money(inv.open_amount), inv.status, max(0, (as_of - inv.due_date).days) if inv.open_amount else 0]
        for inv, c in rows
    )  # fmt: skip
    return xlsx_response("发票", headers, table, f"invoices-{as_of.isoformat()}.xlsx")


def _base(principal: Principal, lang: Lang) -> dict[str, object]:
    return {
        "t": _t(lang), "lang": lang, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "can_write": may(principal.user.role, Right.WRITE_LEDGER),
    }  # fmt: skip


def _payments(
    session: SessionDep, principal: Principal, customer: str | None = None, limit: int = PAGE_SIZE
) -> list[tuple[Payment, Customer]]:
    """The latest payments the user may see, newest first, optionally of one customer."""
    query = (
        select(Payment, Customer)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(Payment.company_id == principal.company.id)
        .order_by(Payment.received_on.desc(), Payment.id.desc())
        .limit(limit)
    )
    if customer:
        query = query.where(Customer.code == customer)
    if principal.scope.only is not None:
        query = query.where(getattr(Customer, principal.scope.only[0]) == principal.scope.only[1])
    return [(p, c) for p, c in session.execute(query)]


@router.get("/payments", response_class=HTMLResponse)
def payments_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: Annotated[str | None, Query()] = None,
    customer: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    chosen = page_lang(principal, lang)
    rows = _payments(session, principal, customer)
    context = {**_base(principal, chosen), "rows": rows, "error": None, "customer": customer or ""}
    return TEMPLATES.TemplateResponse(request, "payments.html", context)


@router.get("/payments.xlsx")
def payments_export(
    session: SessionDep,
    principal: Reader,
    customer: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    rows = _payments(session, principal, customer, limit=EXPORT_LIMIT)
    headers = [
        "收款日期",
        "客户编码",
        "客户名称",
        "金额",
        "方式",
        "流水号",
        "付款方",
        "未核销",
        "冲销日期",
    ]
    table = (
        [p.received_on, c.code, c.name, Money(p.amount), p.method, p.reference, p.payer_name,
         Money(p.unapplied_amount), p.reversed_on]
        for p, c in rows
    )  # fmt: skip
    return xlsx_response("收款", headers, table, "payments.xlsx")


@router.post("/payments", response_model=None)
def enter_payment(
    request: Request,
    session: SessionDep,
    principal: Writer,
    csrf: Annotated[str, Form(max_length=100)],
    customer: Annotated[str, Form(max_length=60)],
    received_on: Annotated[str, Form(max_length=20)],
    amount: Annotated[str, Form(max_length=40)],
    method: Annotated[str, Form(max_length=30)] = "bank_transfer",
    reference: Annotated[str, Form(max_length=120)] = "",
    payer_name: Annotated[str, Form(max_length=200)] = "",
    invoice_numbers: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record a payment and apply it (named invoices, else oldest first); then show the customer."""
    check_csrf(principal, csrf)
    lang = page_lang(principal, None)
    try:
        day = parse_date(received_on)
        fen = parse_amount(amount)
        target = visible_customer(session, principal, customer)
        with session.begin_nested():  # a refused payment leaves nothing behind
            service.record_payment(
                session, actor=principal.actor(request), company_id=principal.company.id, customer=target,
                received_on=day, amount=fen, currency=principal.company.currency, method=method,
                reference=reference.strip(), payer_name=payer_name.strip(),
                invoice_numbers=split_invoice_numbers(invoice_numbers),
            )  # fmt: skip
    except (HuikuanError, ValueError) as exc:
        return _payment_error(request, session, principal, lang, _message(exc))
    return RedirectResponse(f"/customers/{target.code}?as_of={day.isoformat()}", status_code=303)


def _payment_error(
    request: Request, session: SessionDep, principal: Principal, lang: Lang, message: str
) -> HTMLResponse:
    context = {
        **_base(principal, lang),
        "rows": _payments(session, principal),
        "error": localise(message, lang),
    }
    return TEMPLATES.TemplateResponse(request, "payments.html", context, status_code=422)
