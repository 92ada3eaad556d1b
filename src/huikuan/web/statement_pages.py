"""Pages: customer statements of account (对账单) — the list with filters and Excel export; one
statement with its figures, its lines as the books are now, the PDF as issued, the workbook,
the signed copy, and the forms that email it, record the customer's confirmation or the
differences they report and resolve each difference; its history. On the customer page:
issue a statement for a period and set the schedule the daily run sends them on.

A refused form shows its page again with the reason beside the form and the values as typed;
nothing is written. A statement of a customer outside the user's view is 'not found'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import zip_longest
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from huikuan.collections.api import document_response
from huikuan.collections.messages import recipients
from huikuan.core.audit import AuditRecord
from huikuan.core.dates import DateError, check_business_date, parse_date
from huikuan.core.errors import Conflict, HuikuanError, InvalidInput, NotFound, joined
from huikuan.core.money import AmountError, parse_amount
from huikuan.ledger.exports import Money
from huikuan.reconciliation import statements
from huikuan.reconciliation.statement_api import (
    MAX_COPY_BYTES,
    StatementDetail,
    check_copy_size,
    send_now,
    statement_detail,
    visible_difference,
    visible_statement,
)
from huikuan.reconciliation.statement_documents import bucket_label, render_statement_xlsx
from huikuan.reconciliation.statement_queries import (
    STATUSES,
    count_statements,
    list_statements,
)
from huikuan.users.rules import Right, may
from huikuan.web.customer_pages import render_customer
from huikuan.web.deps import AsOfDep, Csrf, Principal, SessionDep, require, visible_customer
from huikuan.web.deps import LangParam as Lang
from huikuan.web.deps import RowId as Id
from huikuan.web.deps import SearchText as Text
from huikuan.web.i18n import LABELS, localise
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang
from huikuan.web.xlsx import XLSX_TYPE, xlsx_response

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Right.READ_LEDGER))]
Reconciler = Annotated[Principal, Depends(require(Right.RECONCILE_STATEMENTS))]
Writer = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
DIFFERENCE_ROWS = 5  # empty rows on the form; a longer list is entered in two goes
MAX_DIFFERENCE_ROWS = 100
MAX_FIELD = 2000


def _base(principal: Principal, lang: str | None) -> dict[str, Any]:
    chosen = page_lang(principal, lang)
    role = principal.user.role
    return {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "error": None,
        "can_reconcile": may(role, Right.RECONCILE_STATEMENTS),
        "can_resolve": may(role, Right.WRITE_LEDGER),
    }  # fmt: skip


def _status(exc: HuikuanError) -> int:
    return 409 if isinstance(exc, Conflict) else 422


def _zh(prefix: str, value: str) -> str:
    """A status in Chinese for a workbook (the value itself when it has no label)."""
    return LABELS.get(prefix + value, (value, value))[0]


def _day(text: str, zh: str, en: str) -> dt.date | None:
    """A date typed in a form (None when empty), within the business years."""
    text = text.strip()
    if not text:
        return None
    try:
        return check_business_date(parse_date(text))
    except DateError as exc:
        raise InvalidInput(f"{zh}无法识别：{text} / {en} cannot be read: {text}") from exc


async def _posted(
    request: Request,
) -> tuple[dict[str, str], dict[str, list[str]], UploadFile | None]:
    """The posted fields (each cut to a sane length, without NULs), the repeated ones as lists,
    and the uploaded signed copy if a file was chosen."""
    data = await request.form()
    fields: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    upload = None
    for key, value in data.multi_items():
        if isinstance(value, UploadFile):
            upload = value if key == "signed_copy" and value.filename else upload
            continue
        text = str(value)[:MAX_FIELD].replace("\x00", "")
        fields.setdefault(key, text)
        lists.setdefault(key, []).append(text)
    return fields, lists, upload


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's filters as typed in the page's address."""

    status: str = ""
    customer: str = ""
    end_from: str = ""
    end_to: str = ""

    def query(self, **more: object) -> str:
        values = {"status": self.status, "customer": self.customer, "end_from": self.end_from,
                  "end_to": self.end_to, **more}  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def filters(self, principal: Principal) -> dict[str, Any]:
        return {
            "status": self.status if self.status in STATUSES else None,
            "customer": self.customer.strip(),
            "end_from": _day(self.end_from, "截止日起", "the first period end"),
            "end_to": _day(self.end_to, "截止日止", "the last period end"),
            "only": principal.scope.only,
        }


@router.get("/statements", response_class=HTMLResponse)
def statements_page(
    request: Request, session: SessionDep, principal: Reader,
    status: Text = "", customer: Text = "", end_from: Text = "", end_to: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1, lang: Lang = None,
) -> HTMLResponse:  # fmt: skip
    """Statements of the user's customers, newest period first: period, currency, opening and
    closing as issued, status, where the email went and its fate, who confirmed and when, the
    differences still open; filtered by status, customer and period end, exported to Excel."""
    filters = ListQuery(status, customer, end_from, end_to)
    flt = filters.filters(principal)
    company_id = principal.company.id
    rows = list_statements(
        session, company_id=company_id, **flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    total = count_statements(session, company_id=company_id, **flt)
    context = _base(principal, lang)
    context.update(
        rows=rows, filters=filters, statuses=STATUSES, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), query=filters.query(),
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "statements.html", context)


@router.get("/statements.xlsx")
def statements_export(
    session: SessionDep, principal: Reader, status: Text = "", customer: Text = "",
    end_from: Text = "", end_to: Text = "",
) -> StreamingResponse:  # fmt: skip
    """The statements as filtered on the page, as a workbook (amounts as numbers in the
    statement's currency, dates as dates)."""
    flt = ListQuery(status, customer, end_from, end_to).filters(principal)
    rows = list_statements(session, company_id=principal.company.id, **flt, limit=EXPORT_LIMIT)
    headers = ["编号", "客户编码", "客户名称", "期间起", "期间止", "币种", "期初余额", "期末余额",
               "状态", "出具日期", "发送至", "发送日期", "发送状态", "客户确认人", "确认日期",
               "未处理差异"]  # fmt: skip
    table = (
        [r.id, r.customer_code, r.customer_name, r.period_start, r.period_end, r.currency,
         Money(r.opening), Money(r.closing), _zh("st_status_", r.status), r.issued_on, r.sent_to,
         r.sent_on, _zh("delivery_status_", r.delivery_status) if r.delivery_status else "",
         r.confirmed_by, r.confirmed_on, r.open_differences]
        for r in rows
    )  # fmt: skip
    return xlsx_response("对账单", headers, table, "statements.xlsx")


# --- one statement ----------------------------------------------------------------------------


def _history(session: Session, detail: StatementDetail) -> list[AuditRecord]:
    """What happened to the statement and its differences, newest first."""
    company_id = detail.statement.company_id
    ids = [str(d.id) for d in detail.differences]
    about = [
        and_(AuditRecord.entity == "customer_statement",
             AuditRecord.entity_id == str(detail.statement.id)),
        and_(AuditRecord.entity == "statement_difference", AuditRecord.entity_id.in_(ids)),
    ]  # fmt: skip
    return list(
        session.scalars(
            select(AuditRecord)
            .where(AuditRecord.company_id == company_id, or_(*about))
            .order_by(AuditRecord.seq.desc())
        )
    )


def _statement_page(
    request: Request, session: Session, principal: Principal, statement_id: int, as_of: dt.date,
    *, lang: str | None = None, error: str | None = None, error_at: str = "",
    status: int = 200, form: dict[str, Any] | None = None,
) -> HTMLResponse:  # fmt: skip
    detail = statement_detail(session, principal, statement_id)
    context = _base(principal, lang)
    s = detail.statement
    typed = form or {}
    recipient = s.sent_to or next(
        iter(recipients(session, customer=detail.customer, as_of=as_of).emails), ""
    )
    rows = typed.get("rows") or [{} for _ in range(DIFFERENCE_ROWS)]
    context.update(
        d=detail, s=s, row=detail.row, c=detail.customer, now=detail.now, as_of=as_of,
        buckets=[(bucket_label(b.label, context["lang"]), b.amount) for b in detail.now.aging],
        recipient=typed.get("recipient", recipient), form=typed, difference_rows=rows,
        resolutions=statements.RESOLUTIONS, history=_history(session, detail), show_entity=True,
        error=localise(error, context["lang"]) if error else None, error_at=error_at,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "statement.html", context, status_code=status)


@router.get("/statements/{statement_id}.pdf")
def statement_pdf(session: SessionDep, principal: Reader, statement_id: Id) -> Response:
    """The PDF exactly as issued (and emailed)."""
    statement, _ = visible_statement(session, principal, statement_id)
    if statement.document_id is None:
        raise NotFound(f"对账单 {statement_id} 没有 PDF / statement {statement_id} has no PDF")
    return document_response(session, principal, statement.document_id)


@router.get("/statements/{statement_id}.xlsx")
def statement_xlsx(
    session: SessionDep, principal: Reader, statement_id: Id, lang: Lang = None
) -> Response:
    """The statement's period as a workbook, as the books are now (for the customer's
    accountant to tick off)."""
    detail = statement_detail(session, principal, statement_id)
    content = render_statement_xlsx(detail.now, page_lang(principal, lang))
    disposition = f'attachment; filename="{quote(detail.reference)}.xlsx"'
    return Response(content, media_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@router.get("/statements/{statement_id}/signed-copy")
def signed_copy(session: SessionDep, principal: Reader, statement_id: Id) -> Response:
    """The copy the customer signed and stamped, as uploaded."""
    statement, _ = visible_statement(session, principal, statement_id)
    if statement.signed_copy_id is None:
        raise NotFound(
            f"对账单 {statement_id} 没有签字回执 / statement {statement_id} has no signed copy"
        )
    return document_response(session, principal, statement.signed_copy_id)


@router.get("/statements/{statement_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, session: SessionDep, principal: Reader, as_of: AsOfDep, statement_id: Id,
    lang: Lang = None,
) -> HTMLResponse:  # fmt: skip
    """The statement: figures as issued and as the books are now (and whether they differ),
    its lines, the documents, the forms that send, confirm and dispute it and resolve each
    difference, and its history."""
    return _statement_page(request, session, principal, statement_id, as_of, lang=lang)


def _back(statement_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(
        f"/statements/{statement_id}" + (f"#{anchor}" if anchor else ""), status_code=303
    )


@router.post("/statements/{statement_id}/send", response_model=None)
def send_form(
    request: Request, session: SessionDep, principal: Reconciler, as_of: AsOfDep,
    statement_id: Id, csrf: Csrf, recipient: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    """Queue the email with the PDF as issued, to the address typed (or the customer's)."""
    check_csrf(principal, csrf)
    visible_statement(session, principal, statement_id)
    try:
        with session.begin_nested():
            statements.send_statement(
                session, actor=principal.actor(request), company_id=principal.company.id,
                statement_id=statement_id, now=send_now(), recipient=recipient,
            )  # fmt: skip
    except HuikuanError as exc:
        return _statement_page(
            request, session, principal, statement_id, as_of, error=exc.message,
            error_at="send", status=_status(exc), form={"recipient": recipient},
        )  # fmt: skip
    return _back(statement_id)


@router.post("/statements/{statement_id}/confirm", response_model=None)
async def confirm_form(
    request: Request, session: SessionDep, principal: Reconciler, as_of: AsOfDep,
    statement_id: Id,
) -> Response:  # fmt: skip
    """Record who signed for the customer and when, with the signed copy if uploaded."""
    form, _, upload = await _posted(request)
    check_csrf(principal, form.get("csrf", ""))
    visible_statement(session, principal, statement_id)
    typed = {k: form.get(k, "") for k in ("confirmed_by", "confirmed_on", "note")}
    try:
        copy = await _copy(upload)
        with session.begin_nested():
            statements.confirm_statement(
                session, actor=principal.actor(request), company_id=principal.company.id,
                statement_id=statement_id, confirmed_by=typed["confirmed_by"][:100],
                confirmed_on=_day(typed["confirmed_on"], "签字日期", "the date signed") or as_of,
                signed_copy=copy, note=typed["note"][:1000],
            )  # fmt: skip
    except HuikuanError as exc:
        return _statement_page(
            request, session, principal, statement_id, as_of, error=exc.message,
            error_at="confirm", status=_status(exc), form=typed,
        )  # fmt: skip
    return _back(statement_id)


async def _copy(upload: UploadFile | None) -> tuple[str, bytes] | None:
    if upload is None:
        return None
    content = await upload.read(MAX_COPY_BYTES + 1)
    check_copy_size(len(content))
    return (upload.filename or "signed.pdf"), content


def _difference_rows(lists: dict[str, list[str]]) -> list[dict[str, str]]:
    columns = ("description", "reference", "our_amount", "their_amount")
    found = zip_longest(*(lists.get(c, []) for c in columns), fillvalue="")
    return [dict(zip(columns, row, strict=True)) for row in found][:MAX_DIFFERENCE_ROWS]


def _differences(rows: list[dict[str, str]]) -> list[statements.DifferenceInput]:
    """The rows filled in, each read with its row number in any problem; empty rows skipped."""
    items, problems = [], []
    for n, row in enumerate(rows, start=1):
        if not any(v.strip() for v in row.values()):
            continue
        if not row["description"].strip():
            problems.append(f"第 {n} 行缺少说明 / row {n} has no description")
        amounts = []
        for key, zh, en in (("our_amount", "我方金额", "our amount"), ("their_amount", "客户金额", "their amount")):  # fmt: skip
            text = row[key].strip()
            try:
                amounts.append(parse_amount(text) if text else 0)
            except AmountError:
                problems.append(f"第 {n} 行{zh}无法识别：{text} / row {n}: {en} cannot be read: {text}")  # fmt: skip
                amounts.append(0)
        items.append(
            statements.DifferenceInput(
                row["description"].strip()[:1000], row["reference"].strip()[:120], *amounts
            )
        )
    if problems:
        raise InvalidInput(joined(problems))
    return items


@router.post("/statements/{statement_id}/differences", response_model=None)
async def differences_form(
    request: Request, session: SessionDep, principal: Reconciler, as_of: AsOfDep,
    statement_id: Id,
) -> Response:  # fmt: skip
    """Record the differences the customer reports, one a row; the statement is disputed
    until each is resolved."""
    form, lists, _ = await _posted(request)
    check_csrf(principal, form.get("csrf", ""))
    visible_statement(session, principal, statement_id)
    rows = _difference_rows(lists)
    typed: dict[str, Any] = {"rows": rows, "raised_on": form.get("raised_on", "")}
    try:
        items = _differences(rows)
        with session.begin_nested():
            statements.dispute_statement(
                session, actor=principal.actor(request), company_id=principal.company.id,
                statement_id=statement_id, differences=items,
                raised_on=_day(typed["raised_on"], "提出日期", "the date reported") or as_of,
            )  # fmt: skip
    except HuikuanError as exc:
        return _statement_page(
            request, session, principal, statement_id, as_of, error=exc.message,
            error_at="differences", status=_status(exc), form=typed,
        )  # fmt: skip
    return _back(statement_id, "differences")


@router.post("/statement-differences/{difference_id}/resolve", response_model=None)
def resolve_form(
    request: Request, session: SessionDep, principal: Writer, as_of: AsOfDep, difference_id: Id,
    csrf: Csrf, resolution: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Resolve one difference (adjusted, explained or rejected) with what was done."""
    check_csrf(principal, csrf)
    _, statement = visible_difference(session, principal, difference_id)
    try:
        with session.begin_nested():
            statements.resolve_difference(
                session, actor=principal.actor(request), company_id=principal.company.id,
                difference_id=difference_id, resolution=resolution, note=note, resolved_on=as_of,
            )  # fmt: skip
    except HuikuanError as exc:
        typed = {"difference_id": difference_id, "resolution": resolution, "resolution_note": note}
        return _statement_page(
            request, session, principal, statement.id, as_of, error=exc.message,
            error_at=f"resolve-{difference_id}", status=_status(exc), form=typed,
        )  # fmt: skip
    return _back(statement.id, "differences")


# --- on the customer page ---------------------------------------------------------------------


def _refused(
    request: Request, session: Session, principal: Principal, code: str, as_of: dt.date,
    exc: HuikuanError, typed: dict[str, str],
) -> Response:  # fmt: skip
    return render_customer(
        request, session, principal, code, as_of, status=_status(exc), statement_form=typed,
        statement_error=exc.message,
    )  # fmt: skip


@router.post("/customers/{code}/statements", response_model=None)
async def issue_form(
    request: Request, session: SessionDep, principal: Reconciler, as_of: AsOfDep, code: str
) -> Response:
    """Issue the customer's statement for a period (one per currency; the one on file for
    that period end if issued before), emailed too when asked."""
    form, _, _ = await _posted(request)
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    typed = {k: form.get(k, "") for k in ("from", "to", "language", "send", "recipient")}
    actor = principal.actor(request)
    try:
        start = _day(typed["from"], "开始日", "the first day")
        end = _day(typed["to"], "结束日", "the last day")
        if start is None or end is None:
            raise InvalidInput("请填写开始日和结束日 / give the first and the last day")
        with session.begin_nested():
            issued = statements.issue_statements(
                session, actor=actor, customer=customer, start=start, end=end, issued_on=as_of,
                language="en" if typed["language"] == "en" else "zh",
            )  # fmt: skip
            for statement in issued if typed["send"] else []:
                statements.send_statement(
                    session, actor=actor, company_id=principal.company.id,
                    statement_id=statement.id, now=send_now(), recipient=typed["recipient"][:300],
                )  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, customer.code, as_of, exc, typed)
    if len(issued) == 1:
        return _back(issued[0].id)
    return RedirectResponse(f"/statements?customer={quote(customer.code)}", status_code=303)


@router.post("/customers/{code}/statement-schedule", response_model=None)
async def schedule_form(
    request: Request, session: SessionDep, principal: Reconciler, as_of: AsOfDep, code: str
) -> Response:
    """Set when the daily run issues and emails the customer's statement, from today on."""
    form, _, _ = await _posted(request)
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    typed = {k: form.get(k, "") for k in ("frequency", "day", "active")}
    try:
        day = typed["day"].strip()
        if day and not (day.isdigit() and len(day) <= 2):
            raise InvalidInput(f"发送日须在 1 到 28 之间：{day} / the day must be 1 to 28, not {day}")  # fmt: skip
        with session.begin_nested():
            statements.set_schedule(
                session, actor=principal.actor(request), customer=customer,
                frequency=typed["frequency"], day=int(day) if day else None,
                active=bool(typed["active"]), starts_on=as_of,
            )  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, customer.code, as_of, exc, typed)
    return RedirectResponse(f"/customers/{quote(customer.code)}#customer-statements", status_code=303)  # fmt: skip
