"""Pages: the collector's desk on the customer page — log a call or visit in one screen (the
excuse's facts, the call assistant, the task it completes), record a promise to pay, raise a
dispute on an invoice and resolve it.

A refused form shows the customer page again with the reason beside the form and the values
as typed; nothing is written. A customer outside the user's view is 'not found'.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections import contact_log, disputes, promises
from huikuan.collections.models import Dispute
from huikuan.core.calendar import load_calendar
from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import HuikuanError, InvalidInput, NotFound
from huikuan.core.money import AmountError, parse_amount
from huikuan.customers.models import Customer
from huikuan.users.rules import Right
from huikuan.web.customer_pages import render_customer
from huikuan.web.deps import AsOfDep, Csrf, Principal, SessionDep, require, visible_customer
from huikuan.web.desk_view import fact_field
from huikuan.web.pages import check_csrf

router = APIRouter(include_in_schema=False)
Logger = Annotated[Principal, Depends(require(Right.LOG_CONTACTS))]
Resolver = Annotated[Principal, Depends(require(Right.RESOLVE_DISPUTES))]
MAX_FIELD = 2000


def local_now() -> dt.datetime:
    """The contact's time when none is typed: the office's wall clock, to the minute."""
    return dt.datetime.now().replace(second=0, microsecond=0)


def parse_moment(text: str) -> dt.datetime:
    """``YYYY-MM-DD HH:MM`` (or a date alone, at midnight) as typed in the form."""
    text = text.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("T", " "))
    except ValueError:
        try:
            return dt.datetime.combine(parse_date(text), dt.time(0, 0))
        except DateError as exc:
            raise InvalidInput(
                f"联系时间无法识别：{text} / the contact time cannot be read: {text}"
            ) from exc


def _optional_date(text: str, zh: str, en: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return parse_date(text.strip())
    except DateError as exc:
        raise InvalidInput(f"{zh}无法识别：{text} / {en} cannot be read: {text}") from exc


def _optional_id(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 18 else None


async def _form(request: Request) -> tuple[dict[str, str], list[str]]:
    """The posted fields (each cut to a sane length) and the invoices chosen (multi-select)."""
    data = await request.form()
    fields = {k: str(v)[:MAX_FIELD] for k, v in data.items() if isinstance(v, str)}
    chosen = [str(v)[:100] for v in data.getlist("invoice") if isinstance(v, str)][:200]
    return fields, chosen


def _back(code: str, anchor: str = "desk") -> RedirectResponse:
    return RedirectResponse(f"/customers/{quote(code)}#{anchor}", status_code=303)


def _refused(
    request: Request, session: Session, principal: Principal, code: str, as_of: dt.date,
    exc: HuikuanError, form: dict[str, object],
) -> Response:  # fmt: skip
    return render_customer(
        request, session, principal, code, as_of, status=422, desk_form=form,  # type: ignore[arg-type]
        desk_error=exc.message,
    )  # fmt: skip


@router.post("/customers/{code}/contacts", response_model=None)
async def log_contact_form(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep, code: str
) -> Response:
    """Log a call or visit: channel, who was reached, outcome, the excuse with its facts (only
    the chosen excuse's fieldset is read), note, next step and the task it completes."""
    form, _ = await _form(request)
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    excuse = form.get("excuse", "").strip()
    prefix = fact_field(excuse, "") if excuse else None
    facts = {
        k[len(prefix) :]: v
        for k, v in form.items()
        if prefix and k.startswith(prefix) and v.strip()
    }
    try:
        with session.begin_nested():
            when = form.get("contacted_at", "")
            contact_log.log_contact(
                session, actor=principal.actor(request), company_id=principal.company.id,
                customer=customer, contacted_at=parse_moment(when) if when.strip() else local_now(),
                channel=form.get("channel", ""), outcome=form.get("outcome", ""),
                reached=form.get("reached", "").strip()[:100],
                contact_id=_optional_id(form.get("contact_id", "")), excuse=excuse, facts=facts,
                note=form.get("note", ""),
                next_step_on=_optional_date(form.get("next_step_on", ""), "下一步日期", "the next step date"),
                action_id=_optional_id(form.get("action_id", "")),
                calendar=load_calendar(session, company_id=principal.company.id),
            )  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, code, as_of, exc, dict(form))
    return _back(code, "contact-log")


def parse_instalments(text: str) -> list[tuple[dt.date, int]]:
    """Lines of ``date,amount`` (a full-width comma or a tab also separates); every bad line
    is named at once."""
    found: list[tuple[dt.date, int]] = []
    problems: list[str] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        when, sep, amount = line.replace("，", ",").replace("\t", ",").partition(",")
        try:
            if not sep:
                raise ValueError
            found.append((parse_date(when.strip()), parse_amount(amount.strip())))
        except (ValueError, DateError, AmountError):
            problems.append(
                f"第 {number} 行应为“日期,金额”：{line} / line {number} should be date,amount: {line}"
            )
    if not lines:
        problems.append("请至少填写一期（日期,金额）/ give at least one instalment (date,amount)")
    if problems:
        raise InvalidInput("；".join(problems))
    return found


@router.post("/customers/{code}/promises", response_model=None)
async def promise_form(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep, code: str
) -> Response:
    """Record a promise to pay on open invoices of the customer, in one or more instalments."""
    form, numbers = await _form(request)
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    kept: dict[str, object] = {**form, "invoices": numbers}
    try:
        with session.begin_nested():
            promises.record_promise(
                session, actor=principal.actor(request), company_id=principal.company.id,
                customer=customer, invoice_numbers=numbers,
                instalments=parse_instalments(form.get("instalments", "")),
                made_on=_optional_date(form.get("made_on", ""), "承诺日", "the promise date") or as_of,
                made_by=form.get("made_by", "").strip()[:100], note=form.get("promise_note", "").strip()[:1000],
            )  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, code, as_of, exc, kept)
    return _back(code, "promises")


def customer_invoice_number(session: Session, customer: Customer, number: str) -> str:
    """The number, if it is one of this customer's invoices ('not found' otherwise)."""
    from huikuan.ledger.models import Invoice

    found = session.scalar(
        select(Invoice.number).where(
            Invoice.company_id == customer.company_id,
            Invoice.customer_id == customer.id,
            Invoice.number == number,
        )
    )
    if found is None:
        raise NotFound(f"客户 {customer.code} 没有发票 {number} / {customer.code} has no invoice {number}")  # fmt: skip
    return found


@router.post("/customers/{code}/disputes", response_model=None)
async def dispute_form(
    request: Request, session: SessionDep, principal: Logger, as_of: AsOfDep, code: str
) -> Response:
    """Raise a dispute on one of the customer's invoices (empty amount: all that may be)."""
    form, numbers = await _form(request)
    check_csrf(principal, form.get("csrf", ""))
    customer = visible_customer(session, principal, code)
    company_id = principal.company.id
    try:
        with session.begin_nested():
            number = customer_invoice_number(session, customer, numbers[0] if numbers else "")
            text = form.get("amount", "").strip()
            try:
                amount = parse_amount(text) if text else disputes.disputable_amount(
                    session, company_id=company_id, invoice_number=number
                )  # fmt: skip
            except AmountError as exc:
                raise InvalidInput(
                    f"金额无法识别：{text} / the amount cannot be read: {exc}"
                ) from exc
            disputes.raise_dispute(
                session, actor=principal.actor(request), company_id=company_id, invoice_number=number,
                amount=amount, reason=form.get("reason", ""),
                raised_on=_optional_date(form.get("raised_on", ""), "提出日", "the date raised") or as_of,
                note=form.get("dispute_note", "").strip()[:1000],
            )  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, code, as_of, exc, dict(form))
    return _back(code, "disputes")


def visible_dispute(session: Session, principal: Principal, dispute_id: int) -> Customer:
    """The customer of the dispute, if the user sees it; 'not found' otherwise."""
    row = session.scalar(
        select(Customer.code)
        .join(Dispute, Dispute.customer_id == Customer.id)
        .where(Dispute.id == dispute_id, Dispute.company_id == principal.company.id)
    )
    if row is None:
        raise NotFound(f"没有争议 {dispute_id} / no dispute {dispute_id}")
    try:
        return visible_customer(session, principal, row)
    except NotFound as exc:
        raise NotFound(f"没有争议 {dispute_id} / no dispute {dispute_id}") from exc


@router.post("/disputes/{dispute_id}/resolve", response_model=None)
def resolve_form(
    request: Request, session: SessionDep, principal: Resolver, as_of: AsOfDep, dispute_id: int,
    csrf: Csrf, resolution: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(min_length=1, max_length=1000)],
    credit_note: Annotated[str, Form(max_length=60)] = "",
) -> Response:  # fmt: skip
    """Resolve a dispute by credit note, corrected document or rejection, with a note."""
    check_csrf(principal, csrf)
    customer = visible_dispute(session, principal, dispute_id)
    try:
        with session.begin_nested():
            disputes.resolve_dispute(
                session, actor=principal.actor(request), company_id=principal.company.id,
                dispute_id=dispute_id, resolution=resolution, note=note.strip(), resolved_on=as_of,
                credit_note_number=credit_note.strip() or None,
            )  # fmt: skip
    except HuikuanError as exc:
        return _refused(request, session, principal, customer.code, as_of, exc, {})
    return _back(customer.code, "disputes")
