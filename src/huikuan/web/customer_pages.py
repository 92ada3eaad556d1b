"""Pages: the customer list (search, filters, XLSX export) and the customer's 360° page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.orm import Session

from huikuan.collections.queries import customer_collections
from huikuan.collections.strategies import list_strategies
from huikuan.credit.models import HoldKind
from huikuan.credit.queries import credit_file
from huikuan.credit.rules import (
    DIMENSION_LABELS,
    FACTOR_LABELS,
    FLAG_LABELS,
    REVENUE_BANDS,
    FlagKind,
)
from huikuan.customers.models import CUSTOMER_TYPE_LABELS_ZH, Customer, CustomerType
from huikuan.customers.queries import (
    CustomerFilter,
    customer_file,
    customer_timeline,
    list_customers,
)
from huikuan.ledger import rules as ledger_rules
from huikuan.ledger.exports import Money
from huikuan.ledger.queries import customer_credit_notes
from huikuan.users.rules import Right, may
from huikuan.web.deps import AsOfDep, Principal, SessionDep, require, visible_customer
from huikuan.web.desk_view import desk_context
from huikuan.web.i18n import localise
from huikuan.web.pages import TEMPLATES, _t, page_lang
from huikuan.web.plan_fee_view import plan_fee_context
from huikuan.web.statement_view import statement_context
from huikuan.web.xlsx import xlsx_response

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Right.READ_LEDGER))]
PAGE_SIZE = 50
EXPORT_LIMIT = 200_000


def _filter(principal: Principal, q: str | None, customer_type: str | None, salesperson: str | None,
            collector: str | None) -> CustomerFilter:  # fmt: skip
    ctype = customer_type if customer_type in {t.value for t in CustomerType} else None
    return CustomerFilter(
        q or None, ctype, salesperson or None, collector or None, principal.scope.only
    )


@router.get("/customers", response_class=HTMLResponse)
def customers_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    as_of: AsOfDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    customer_type: Annotated[str | None, Query(max_length=20)] = None,
    salesperson: Annotated[str | None, Query(max_length=60)] = None,
    collector: Annotated[str | None, Query(max_length=60)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    chosen = page_lang(principal, lang)
    flt = _filter(principal, q, customer_type, salesperson, collector)
    rows, total = list_customers(
        session, company_id=principal.company.id, flt=flt, as_of=as_of,
        currency=principal.company.currency, page=page, page_size=PAGE_SIZE,
    )  # fmt: skip
    context = {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "rows": rows, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "as_of": as_of, "q": q or "",
        "customer_type": flt.customer_type or "", "salesperson": salesperson or "",
        "collector": collector or "", "types": CUSTOMER_TYPE_LABELS_ZH,
        "query": request.url.query,
    }  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "customers.html", context)


@router.get("/customers.xlsx")
def customers_export(
    session: SessionDep,
    principal: Reader,
    as_of: AsOfDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    customer_type: Annotated[str | None, Query(max_length=20)] = None,
    salesperson: Annotated[str | None, Query(max_length=60)] = None,
    collector: Annotated[str | None, Query(max_length=60)] = None,
) -> StreamingResponse:
    """The filtered list as a workbook: amounts as numbers, the same columns as the page."""
    flt = _filter(principal, q, customer_type, salesperson, collector)
    rows, _ = list_customers(
        session, company_id=principal.company.id, flt=flt, as_of=as_of,
        currency=principal.company.currency, page=1, page_size=EXPORT_LIMIT,
    )  # fmt: skip
    headers = ["客户编码", "客户名称", "类型", "销售员", "催收员", "未结金额", "逾期金额"]
    table = (
        [r.customer.code, r.customer.name, _type_label(r.customer.customer_type), r.customer.salesperson,
         r.customer.collector, Money(r.open_amount), Money(r.overdue_amount)]
        for r in rows
    )  # fmt: skip
    return xlsx_response("客户", headers, table, f"customers-{as_of.isoformat()}.xlsx")


def _type_label(value: str) -> str:
    try:
        return CUSTOMER_TYPE_LABELS_ZH[CustomerType(value)]
    except ValueError:
        return value


@router.get("/customers/{code}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    as_of: AsOfDep,
    code: str,
    lang: Annotated[str | None, Query()] = None,
    task: Annotated[int | None, Query(ge=1, le=2**62, description="Task to log")] = None,
) -> HTMLResponse:
    """Profile, credit (grade, scorecard, limit, exposure, holds), contacts with history,
    contracts, open invoices with their age, payments and the timeline of recorded changes.
    A customer outside the user's view is 'not found'. ``task`` preselects the open call or
    visit task in the log-a-contact form (the worklist's link)."""
    form = {"action_id": str(task)} if task else None
    return render_customer(request, session, principal, code, as_of, lang, desk_form=form)


def render_customer(
    request: Request, session: Session, principal: Principal, code: str, as_of: dt.date,
    lang: str | None = None, error: str | None = None, status: int = 200,
    desk_form: dict[str, str] | None = None, desk_error: str | None = None,
    statement_form: dict[str, str] | None = None, statement_error: str | None = None,
) -> HTMLResponse:  # fmt: skip
    chosen = page_lang(principal, lang)
    customer = visible_customer(session, principal, code)
    file = customer_file(session, customer=customer)
    buckets = ledger_rules.aging_buckets()
    invoices = [
        (
            inv,
            (as_of - inv.due_date).days,
            ledger_rules.bucket_for((as_of - inv.due_date).days, buckets).name,
        )
        for inv in file.open_invoices
        if inv.issue_date <= as_of
    ]
    role = principal.user.role
    context = {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "c": customer, "file": file, "invoices": invoices,
        "open_total": sum(inv.open_amount for inv, _, _ in invoices),
        "overdue_total": sum(inv.open_amount for inv, days, _ in invoices if days > 0),
        "as_of": as_of, "type_label": _type_label(customer.customer_type),
        "history": customer_timeline(session, customer=customer), "show_entity": True,
        "credit_notes": customer_credit_notes(session, customer=customer),
        "credit": credit_file(session, customer=customer, as_of=as_of),
        "factor_labels": FACTOR_LABELS, "dimension_labels": {d.value: v for d, v in DIMENSION_LABELS.items()},
        "flag_labels": {k.value: v for k, v in FLAG_LABELS.items()}, "flag_kinds": [k.value for k in FlagKind],
        "revenue_bands": REVENUE_BANDS, "hold_kinds": [k.value for k in HoldKind],
        "can_manage_credit": may(role, Right.MANAGE_CREDIT), "can_hold": may(role, Right.PLACE_HOLDS),
        "error": localise(error, chosen) if error else None,
    }  # fmt: skip
    context.update(_collections(session, principal, customer, as_of))
    context.update(desk_context(session, principal, customer, as_of, desk_form or {}))
    context.update(plan_fee_context(session, principal, customer))
    context.update(
        statement_context(
            session, principal, customer, as_of, chosen, statement_form, statement_error
        )
    )
    context["desk_error"] = localise(desk_error, chosen) if desk_error else None
    return TEMPLATES.TemplateResponse(request, "customer.html", context, status_code=status)


def _collections(
    session: Session, principal: Principal, customer: Customer, as_of: dt.date
) -> dict[str, object]:
    """The 催收记录 section: the strategy, the ladder positions and the actions."""
    role = principal.user.role
    if not may(role, Right.READ_COLLECTIONS):
        return {"collections": None}
    manage = may(role, Right.MANAGE_STRATEGIES)
    return {
        "collections": customer_collections(session, customer=customer, as_of=as_of),
        "can_manage_strategies": manage, "can_work": may(role, Right.WORK_ACTIONS),
        "strategy_options": list_strategies(session, company_id=customer.company_id) if manage else [],
    }  # fmt: skip
