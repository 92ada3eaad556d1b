"""Pages: bank statements imported and the matching queue.

``/bank/import``: upload a statement (with the account and a column mapping when the file needs
them), see what it holds and what it would add before anything is written (every bad row when
it is refused), then confirm: the new lines are imported and matched at once, and the page says
how many were applied automatically and how many wait. The import runs in the request, not as a
background job: a month of a company's bank lines takes seconds; the command line takes files
of any size with progress.

``/bank``: the lines waiting for a clerk, newest first, each with its best candidates and their
reasons; one click confirms a candidate, a form edits or splits it (the rest stays unapplied on
the customer), an applied line can be undone with a reason. Another clerk who applied a line
first is named in a message, the page stays. ``/bank.xlsx`` is the same list as a workbook.

Everything needs ``write_ledger``: applying money writes the ledger and the lines show every
payer.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from huikuan.core.dates import parse_date, today
from huikuan.core.errors import Conflict, HuikuanError, ImportRejected, InvalidInput, RowError
from huikuan.core.money import decimal_string, format_amount
from huikuan.ledger.exports import Money
from huikuan.reconciliation.api import apply_by_numbers, parse_mapping, read_amount, read_upload
from huikuan.reconciliation.bank_files import FIELD_NAMES
from huikuan.reconciliation.bank_import import import_bank_statement
from huikuan.reconciliation.bank_queries import (
    STATUS_FILTERS,
    LineView,
    bank_lines,
    preview_statement,
    status_counts,
)
from huikuan.reconciliation.matching import MatchRun, match_waiting, undo_line
from huikuan.users.rules import Right
from huikuan.web.bank_view import LineForm, suggested_form
from huikuan.web.deps import Principal, SessionDep, require, visible_customer
from huikuan.web.i18n import localise
from huikuan.web.import_pages import UPLOADS, _stored
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang
from huikuan.web.xlsx import xlsx_response

router = APIRouter(include_in_schema=False)
Clerk = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
LineId = Annotated[int, PathParam(ge=1, le=2**62)]
Text = Annotated[str, Form(max_length=2000)]
PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
PREVIEW_LINES = 20
ERRORS_SHOWN = 500


def _base(principal: Principal, lang_choice: str | None = None) -> dict[str, Any]:
    lang = page_lang(principal, lang_choice)
    return {
        "t": _t(lang), "lang": lang, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "",
    }  # fmt: skip


# --- import -------------------------------------------------------------------------------------


def _import_page(
    request: Request, principal: Principal, status: int = 200, **values: Any
) -> HTMLResponse:
    context = {
        **_base(principal), "upload": "", "filename": "", "account": "", "mapping": "",
        "preview": None, "result": None, "run": None, "errors": [], "error_count": 0,
        "message": "", "fields": ", ".join(FIELD_NAMES), "preview_lines": PREVIEW_LINES,
    }  # fmt: skip
    context.update(values)
    lang = context["lang"]
    errors: list[RowError] = context["errors"]
    context["error_count"] = len(errors)
    context["errors"] = [(e.row, e.column, localise(e.reason, lang)) for e in errors[:ERRORS_SHOWN]]
    context["message"] = localise(context["message"], lang)
    return TEMPLATES.TemplateResponse(request, "bank_import.html", context, status_code=status)


@router.get("/bank/import", response_class=HTMLResponse)
def import_form(
    request: Request, principal: Clerk, lang: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    page_lang(principal, lang)
    return _import_page(request, principal)


@router.post("/bank/import", response_class=HTMLResponse)
def upload(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    csrf: Annotated[str, Form(max_length=100)],
    file: Annotated[UploadFile | None, File()] = None,
    account: Annotated[str, Form(max_length=60)] = "",
    mapping: Text = "",
) -> HTMLResponse:
    """Keep the uploaded file (for this user only) and preview it."""
    check_csrf(principal, csrf)
    typed = _typed("", "", account, mapping)
    if file is None or not file.filename:
        message = "请选择对账单文件 / choose a statement file"
        return _import_page(request, principal, 422, message=message, **typed)
    try:
        data = read_upload(file)
    except InvalidInput as exc:
        return _import_page(request, principal, 422, message=exc.message, **typed)
    UPLOADS.mkdir(parents=True, exist_ok=True)
    upload_id = f"{principal.user.id}-{secrets.token_hex(12)}.bank"
    (UPLOADS / upload_id).write_bytes(data)
    filename = file.filename[:200]
    return _preview(request, session, principal, upload_id, filename, account, mapping)


def _typed(upload_id: str, filename: str, account: str, mapping: str) -> dict[str, Any]:
    """The import form's values as the clerk sent them, shown again with any answer."""
    return {"upload": upload_id, "filename": filename, "account": account, "mapping": mapping}


@router.post("/bank/import/check", response_class=HTMLResponse)
def check(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    csrf: Annotated[str, Form(max_length=100)],
    upload: Annotated[str, Form(max_length=100)] = "",
    filename: Annotated[str, Form(max_length=200)] = "",
    account: Annotated[str, Form(max_length=60)] = "",
    mapping: Text = "",
) -> HTMLResponse:
    """Preview the uploaded file again with the account and mapping as changed."""
    check_csrf(principal, csrf)
    return _preview(request, session, principal, upload, filename, account, mapping)


def _preview(
    request: Request, session: Session, principal: Principal, upload_id: str, filename: str,
    account: str, mapping: str,
) -> HTMLResponse:  # fmt: skip
    typed = _typed(upload_id, filename, account, mapping)
    try:
        data = _stored(principal, upload_id).read_bytes()
        preview = preview_statement(
            session, company_id=principal.company.id, data=data, filename=filename or "statement",
            mapping=parse_mapping([mapping]), account=account.strip() or None,
            first=PREVIEW_LINES,
        )  # fmt: skip
    except ImportRejected as exc:
        return _import_page(request, principal, 422, errors=exc.errors, **typed)
    except HuikuanError as exc:
        return _import_page(request, principal, 422, message=exc.message, **typed)
    return _import_page(request, principal, preview=preview, **typed)


@router.post("/bank/import/confirm", response_class=HTMLResponse)
def confirm(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    csrf: Annotated[str, Form(max_length=100)],
    upload: Annotated[str, Form(max_length=100)] = "",
    filename: Annotated[str, Form(max_length=200)] = "",
    account: Annotated[str, Form(max_length=60)] = "",
    mapping: Text = "",
) -> HTMLResponse:
    """Import the previewed file and match its new lines, in this request."""
    check_csrf(principal, csrf)
    typed = _typed(upload, filename, account, mapping)
    actor = principal.actor(request)
    company_id = principal.company.id
    try:
        stored = _stored(principal, upload)
        with session.begin_nested():  # a refused file leaves nothing behind
            result = import_bank_statement(
                session, actor=actor, company_id=company_id, data=stored.read_bytes(),
                filename=filename or "statement", mapping=parse_mapping([mapping]) or None,
                account=account.strip() or None,
            )  # fmt: skip
            run = (
                match_waiting(
                    session, actor=actor, company_id=company_id, line_ids=result.added_ids
                )
                if result.added_ids
                else None
            )
    except ImportRejected as exc:
        session.expire_all()
        return _import_page(request, principal, 422, errors=exc.errors, **typed)
    except HuikuanError as exc:
        session.expire_all()
        return _import_page(request, principal, 422, message=exc.message, **typed)
    stored.unlink(missing_ok=True)
    return _import_page(request, principal, result=result, run=run, filename=filename)


# --- the queue ----------------------------------------------------------------------------------

Done = Literal["applied", "undone"]


@router.get("/bank", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    status: Annotated[str, Query(max_length=20)] = "waiting",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[Done | None, Query()] = None,
    line: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    payment: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The lines of one status list (the waiting ones by default), newest first."""
    page_lang(principal, lang)
    note = ""
    if done == "applied" and line:
        note = _t(page_lang(principal, None))("bank_applied_note", id=line, payment=payment or "")
    elif done == "undone" and line:
        note = _t(page_lang(principal, None))("bank_undone_note", id=line)
    return _queue(request, session, principal, status, page, note=note)


def _queue(
    request: Request, session: Session, principal: Principal, status: str, page: int = 1, *,
    note: str = "", error: str = "", form: LineForm | None = None, code: int = 200,
) -> HTMLResponse:  # fmt: skip
    status = status if status in STATUS_FILTERS else "waiting"
    found = bank_lines(
        session, company_id=principal.company.id, status=status, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    forms = {row.id: suggested_form(row) for row in found.rows}
    if form is not None:
        forms[form.line_id] = form
    context = {
        **_base(principal), "status": status, "statuses": list(STATUS_FILTERS), "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)), "found": found, "forms": forms,
        "counts": status_counts(session, company_id=principal.company.id), "note": note,
        "error": localise(error, page_lang(principal, None)), "failed": form,
        "query": lambda **more: urlencode({"status": status, **more}), "dec": decimal_string,
    }  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "bank_queue.html", context, status_code=code)


@router.get("/bank.xlsx")
def queue_export(
    session: SessionDep,
    principal: Clerk,
    status: Annotated[str, Query(max_length=20)] = "waiting",
) -> Response:
    """The list as a workbook: every line of the status, with the decision or the best
    candidate."""
    status = status if status in STATUS_FILTERS else "waiting"
    found = bank_lines(session, company_id=principal.company.id, status=status, limit=EXPORT_LIMIT)
    headers = [
        "流水ID", "记账日期", "起息日", "金额", "币种", "付款户名", "付款账号", "入账账户", "附言",
        "银行流水号", "状态", "客户编码", "客户名称", "核销人", "收款号", "可信度", "发票与金额",
        "理由",
    ]  # fmt: skip
    return xlsx_response("银行流水", headers, map(_export_row, found.rows), f"bank-{status}.xlsx")


def _export_row(row: LineView) -> list[Any]:
    """An applied line with its decision; a waiting one with its best candidate."""
    best = row.candidates[0] if row.candidates else None
    code, name = row.customer_code, row.customer_name
    confidence, reasons, invoices = row.confidence, row.reasons, ""
    if best is not None:
        code, name, confidence, reasons = (
            best.customer_code, best.customer_name, best.confidence, best.reasons,
        )  # fmt: skip
        invoices = "; ".join(f"{n} {format_amount(a)}" for n, a in best.allocations)
    return [
        row.id, row.booked_on, row.value_on, Money(row.amount), row.currency, row.payer_name,
        row.payer_account, row.account, row.remittance, row.bank_reference, row.status, code,
        name, row.decided_by, row.payment_id,
        None if confidence is None else round(confidence, 4), invoices,
        "；".join(r.zh for r in reasons),
    ]  # fmt: skip


@router.post("/bank/match", response_class=HTMLResponse)
def match_again(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    csrf: Annotated[str, Form(max_length=100)],
    status: Annotated[str, Form(max_length=20)] = "waiting",
) -> HTMLResponse:
    """Match every waiting line again and show what the run did."""
    check_csrf(principal, csrf)
    run = match_waiting(session, actor=principal.actor(request), company_id=principal.company.id)
    return _queue(request, session, principal, status, note=_run_note(principal, run))


def _run_note(principal: Principal, run: MatchRun) -> str:
    return _t(page_lang(principal, None))(
        "bank_match_result", lines=run.lines, auto=run.auto, suggested=run.suggested,
        unknown=run.unknown, amount=format_amount(run.applied_amount),
    )  # fmt: skip


@router.post("/bank/lines/{line_id}/apply", response_model=None)
def apply(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    line_id: LineId,
    csrf: Annotated[str, Form(max_length=100)],
    customer: Annotated[str, Form(max_length=60)] = "",
    invoice: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies a default
    amount: Annotated[list[str], Form()] = [],  # noqa: B006
    learn_payer: Annotated[str, Form(max_length=10)] = "",
    candidate: Annotated[int | None, Form(ge=1, le=100)] = None,
    status: Annotated[str, Form(max_length=20)] = "waiting",
    page: Annotated[int, Form(ge=1, le=100_000)] = 1,
) -> Response:
    """Confirm a candidate (its allocations come with the form) or apply as the clerk edited
    it. A refusal shows the queue again with the reason and the form as typed."""
    check_csrf(principal, csrf)
    pairs = tuple(
        (number.strip(), text.strip())
        for number, text in zip(invoice, amount, strict=False)
        if number.strip() or text.strip()
    )
    typed = LineForm(line_id, customer.strip(), pairs, learn_payer == "on")
    try:
        allocations = [_pair(number, text) for number, text in pairs]
        target = visible_customer(session, principal, typed.customer)
        with session.begin_nested():  # a refused application leaves nothing behind
            applied = apply_by_numbers(
                session, actor=principal.actor(request), company_id=principal.company.id,
                line_id=line_id, customer=target, allocations=allocations,
                learn_payer=typed.learn_payer, rank=candidate,
            )  # fmt: skip
            payment_id = applied.payment_id
    except HuikuanError as exc:
        session.expire_all()
        code = 409 if isinstance(exc, Conflict) else 422
        failed = replace(typed, error=localise(exc.message, page_lang(principal, None)))
        return _queue(request, session, principal, status, page, error=exc.message, form=failed, code=code)  # fmt: skip
    query = urlencode({"status": status, "done": "applied", "line": line_id, "payment": payment_id})
    return RedirectResponse(f"/bank?{query}#line-{line_id}", status_code=303)


def _pair(number: str, text: str) -> tuple[str, int]:
    if not number or not text:
        raise InvalidInput(
            f"发票号和金额都要填写：{number or text} / give both the invoice and the amount: "
            f"{number or text}"
        )
    return number, read_amount(text, number)


@router.post("/bank/lines/{line_id}/undo", response_model=None)
def undo(
    request: Request,
    session: SessionDep,
    principal: Clerk,
    line_id: LineId,
    csrf: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=500)] = "",
    on: Annotated[str, Form(max_length=20)] = "",
    status: Annotated[str, Form(max_length=20)] = "applied",
    page: Annotated[int, Form(ge=1, le=100_000)] = 1,
) -> Response:
    """Undo an application: the payment is reversed, the line waits again."""
    check_csrf(principal, csrf)
    typed = LineForm(line_id, reason=reason, on=on, kind="undo")
    try:
        day = parse_date(on) if on.strip() else today()
        with session.begin_nested():
            undo_line(
                session, actor=principal.actor(request), company_id=principal.company.id,
                line_id=line_id, on=day, reason=reason,
            )  # fmt: skip
    except (HuikuanError, ValueError) as exc:
        session.expire_all()
        message = exc.message if isinstance(exc, HuikuanError) else str(exc)
        code = 409 if isinstance(exc, Conflict) else 422
        failed = replace(typed, error=localise(message, page_lang(principal, None)))
        return _queue(request, session, principal, status, page, error=message, form=failed, code=code)  # fmt: skip
    query = urlencode({"status": status, "done": "undone", "line": line_id})
    return RedirectResponse(f"/bank?{query}#line-{line_id}", status_code=303)
