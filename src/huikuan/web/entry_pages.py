"""Pages of one ledger entry: an invoice, a payment or a credit note, with its allocations and
its history from the audit trail. A payment or credit note with money left unapplied can be
applied here to the customer's open invoices; a payment can be reversed (a bounced transfer).
An entry of a customer the user may not see is 'not found', like the customer itself.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import AuditRecord, history
from huikuan.core.dates import parse_date
from huikuan.core.errors import HuikuanError, InvalidInput, NotFound
from huikuan.core.money import parse_amount
from huikuan.customers.models import Customer
from huikuan.customers.queries import find_visible_customer
from huikuan.ledger import service
from huikuan.ledger.models import CreditNote, Invoice, Payment
from huikuan.ledger.queries import allocation_lines, find_payment
from huikuan.users.rules import Right, may
from huikuan.web.deps import Principal, SessionDep, require
from huikuan.web.i18n import localise
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Right.READ_LEDGER))]
Writer = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
MAX_OPEN_SHOWN = 200  # open invoices offered on the apply form, oldest due first


def _visible(session: Session, principal: Principal, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.company_id != principal.company.id:
        raise NotFound("没有此记录 / not found")
    if (
        find_visible_customer(
            session, company_id=principal.company.id, code=customer.code, only=principal.scope.only
        )
        is None
    ):
        raise NotFound("没有此记录 / not found")
    return customer


def _context(principal: Principal, lang_choice: str | None, **values: Any) -> dict[str, Any]:
    lang = page_lang(principal, lang_choice)
    return {
        "t": _t(lang), "lang": lang, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "can_write": may(principal.user.role, Right.WRITE_LEDGER),
        "error": None, **values,
    }  # fmt: skip


@router.get("/invoices/{number:path}", response_class=HTMLResponse)
def invoice_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    number: str,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The invoice, the money applied to it, and what happened to it."""
    invoice = session.scalar(
        select(Invoice).where(Invoice.company_id == principal.company.id, Invoice.number == number)
    )
    if invoice is None:
        raise NotFound(f"没有发票 {number} / no invoice {number}")
    customer = _visible(session, principal, invoice.customer_id)
    context = _context(
        principal, lang, inv=invoice, c=customer,
        lines=allocation_lines(session, company_id=principal.company.id, invoice_id=invoice.id),
        history=_history(session, principal, "invoice", number),
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "invoice.html", context)


def _history(session: Session, principal: Principal, entity: str, key: str) -> list[AuditRecord]:
    return history(session, company_id=principal.company.id, entity=entity, entity_id=key)[::-1]


def _source(session: Session, principal: Principal, kind: str, key: str) -> Payment | CreditNote:
    found: Payment | CreditNote | None
    if kind == "payment":
        found = find_payment(session, company_id=principal.company.id, payment_id=key)
    else:
        found = session.scalar(
            select(CreditNote).where(
                CreditNote.company_id == principal.company.id, CreditNote.number == key
            )
        )
    if found is None:
        raise NotFound(f"没有此记录 {key} / not found: {key}")
    _visible(session, principal, found.customer_id)
    return found


def _source_page(
    request: Request, session: Session, principal: Principal, kind: str, key: str,
    lang: str | None = None, error: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    source = _source(session, principal, kind, key)
    customer = _visible(session, principal, source.customer_id)
    open_invoices = list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.company_id == principal.company.id,
                Invoice.customer_id == customer.id,
                Invoice.currency == source.currency,
                Invoice.open_amount > 0,
            )
            .order_by(Invoice.due_date, Invoice.number)
            .limit(MAX_OPEN_SHOWN)
        )
    )
    lines = allocation_lines(
        session, company_id=principal.company.id,
        payment_id=source.id if kind == "payment" else None,
        credit_note_id=source.id if kind == "credit_note" else None,
    )  # fmt: skip
    context = _context(
        principal, lang, kind=kind, key=key, source=source, c=customer, lines=lines,
        open_invoices=open_invoices, history=_history(session, principal, kind, key),
        reversed=getattr(source, "reversed_on", None),
    )  # fmt: skip
    if error:
        context["error"] = localise(error, context["lang"])
    return TEMPLATES.TemplateResponse(request, "money_source.html", context, status_code=status)


@router.get("/payments/{payment_id}", response_class=HTMLResponse)
def payment_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    payment_id: str,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The payment, the invoices it paid, what is left unapplied, and its history."""
    return _source_page(request, session, principal, "payment", payment_id, lang)


@router.get("/credit-notes/{number:path}", response_class=HTMLResponse)
def credit_note_page(
    request: Request,
    session: SessionDep,
    principal: Reader,
    number: str,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The credit note, the invoices it reduced, what is left unapplied, and its history."""
    return _source_page(request, session, principal, "credit_note", number, lang)


def _applications(form: dict[str, Any]) -> list[tuple[str, int]]:
    """``amount_<invoice number>`` fields that were filled in, as (number, fen)."""
    found = []
    for name, value in form.items():
        if name.startswith("amount_") and str(value).strip():
            number = name.removeprefix("amount_")
            try:
                found.append((number, parse_amount(str(value))))
            except ValueError as exc:
                raise InvalidInput(f"{number}: {exc}") from exc
    return found


async def _apply(
    request: Request, session: Session, principal: Principal, kind: str, key: str
) -> Response:
    form = dict(await request.form())
    check_csrf(principal, str(form.get("csrf", "")))
    source = _source(session, principal, kind, key)  # visible to this user, or 404
    try:
        with session.begin_nested():  # a refused application leaves nothing behind
            service.apply_credit(
                session, actor=principal.actor(request), company_id=principal.company.id,
                source=(kind, key), applications=_applications(form),
            )  # fmt: skip
    except HuikuanError as exc:
        session.expire_all()
        return _source_page(request, session, principal, kind, key, error=exc.message, status=422)
    path = f"/payments/{source.id}" if kind == "payment" else f"/credit-notes/{quote(key)}"
    return RedirectResponse(path, status_code=303)


@router.post("/payments/{payment_id}/apply", response_model=None)
async def apply_payment(
    request: Request, session: SessionDep, principal: Writer, payment_id: str
) -> Response:
    """Apply the payment's unapplied rest to the invoices and amounts the clerk entered."""
    return await _apply(request, session, principal, "payment", payment_id)


@router.post("/credit-notes/{number:path}/apply", response_model=None)
async def apply_credit_note(
    request: Request, session: SessionDep, principal: Writer, number: str
) -> Response:
    """Apply the credit note's unapplied rest to the invoices and amounts the clerk entered."""
    return await _apply(request, session, principal, "credit_note", number)


@router.post("/payments/{payment_id}/reverse", response_model=None)
def reverse_payment(
    request: Request,
    session: SessionDep,
    principal: Writer,
    payment_id: str,
    csrf: Annotated[str, Form(max_length=100)],
    reversed_on: Annotated[str, Form(max_length=20)],
) -> Response:
    """Reverse a bounced or mistaken payment: the invoices it paid are open again."""
    check_csrf(principal, csrf)
    payment = _source(session, principal, "payment", payment_id)
    try:
        with session.begin_nested():
            service.reverse_payment(
                session, actor=principal.actor(request), company_id=principal.company.id,
                payment_id=payment.id, reversed_on=parse_date(reversed_on),
            )  # fmt: skip
    except (HuikuanError, ValueError) as exc:
        session.expire_all()
        message = exc.message if isinstance(exc, HuikuanError) else str(exc)
        return _source_page(
            request, session, principal, "payment", payment_id, error=message, status=422
        )
    return RedirectResponse(f"/payments/{payment.id}", status_code=303)
