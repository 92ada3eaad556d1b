"""Collections pages: the strategies (list, one ladder with its timeline, the YAML editor,
assigning a customer by hand), today's run (preview or run, its summary, the day's actions with
filters, Excel export and the form that completes a task), and the templates (edit, reset,
preview on a real customer, the letter as PDF). Settings sit on the strategies page.

Every form posts to a route that checks the user's right; a refused form shows the page again
with the reason and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from huikuan.channels.context import MessageContext
from huikuan.channels.letters import render_letter_pdf
from huikuan.channels.templates import (
    Template,
    render,
    sample_context,
    template_variables,
)
from huikuan.collections import actions, queries, rules, strategies
from huikuan.collections.api import document_response, start_run, visible_action
from huikuan.collections.daily import RunSummary, collection_settings
from huikuan.core.calendar import load_calendar
from huikuan.core.dates import DateError, parse_date, today
from huikuan.core.errors import Conflict, HuikuanError, InvalidInput, NotFound
from huikuan.ledger.exports import Money
from huikuan.users.rules import Right, may
from huikuan.web.customer_pages import render_customer
from huikuan.web.deps import AsOfDep, Csrf, Principal, SessionDep, require, visible_customer
from huikuan.web.deps import SearchText as Text
from huikuan.web.i18n import Lang, label, localise
from huikuan.web.ladder_chart import timeline
from huikuan.web.pages import TEMPLATES, _safe_next, _t, check_csrf, page_lang
from huikuan.web.xlsx import xlsx_response

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Right.READ_COLLECTIONS))]
Manager = Annotated[Principal, Depends(require(Right.MANAGE_STRATEGIES))]
Runner = Annotated[Principal, Depends(require(Right.RUN_COLLECTIONS))]
Worker = Annotated[Principal, Depends(require(Right.WORK_ACTIONS))]
Editor = Annotated[Principal, Depends(require(Right.EDIT_TEMPLATES))]
PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
ACTION_STATUSES = ("open", "done", "sent", "failed", "skipped")


def _base(principal: Principal, lang: str | None) -> dict[str, Any]:
    chosen = page_lang(principal, lang)
    role = principal.user.role
    return {
        "t": _t(chosen), "lang": chosen, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "error": None,
        "can_manage": may(role, Right.MANAGE_STRATEGIES), "can_run": may(role, Right.RUN_COLLECTIONS),
        "can_work": may(role, Right.WORK_ACTIONS), "can_edit": may(role, Right.EDIT_TEMPLATES),
    }  # fmt: skip


def _message(exc: HuikuanError, lang: Lang) -> str:
    return localise(exc.message, lang)


# --- strategies -------------------------------------------------------------------------------


def _strategies_page(
    request: Request, session: Session, principal: Principal, *, lang: str | None = None,
    text: str | None = None, problems: list[str] | None = None, saved: dict[str, int] | None = None,
    error: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    company_id = principal.company.id
    listed = strategies.list_strategies(session, company_id=company_id)
    context.update(
        strategies=[(s, len(strategies.strategy_steps(session, s))) for s in listed],
        rules=strategies.rule_specs(session, company_id=company_id),
        default=next((s.code for s in listed if s.is_default), None),
        text=text if text is not None else strategies.export_strategies(session, company_id=company_id),
        problems=[localise(p, context["lang"]) for p in problems or []], saved=saved,
        settings=collection_settings(session, company_id=company_id),
        error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "strategies.html", context, status_code=status)


def _saved(created: int | None, updated: int | None, unchanged: int | None) -> dict[str, int] | None:  # fmt: skip
    if created is None or updated is None or unchanged is None:
        return None
    return {"created": created, "updated": updated, "unchanged": unchanged}


Count = Annotated[int | None, Query(ge=0, le=100_000)]


@router.get("/strategies", response_class=HTMLResponse)
def strategies_page(
    request: Request, session: SessionDep, principal: Reader,
    lang: Annotated[str | None, Query()] = None,
    created: Count = None, updated: Count = None, unchanged: Count = None,
) -> HTMLResponse:  # fmt: skip
    """Every strategy with its number of steps, the assignment rules in order, the settings,
    and (for those who may) the editor of the whole file."""
    return _strategies_page(
        request, session, principal, lang=lang, saved=_saved(created, updated, unchanged)
    )


def _strategy_page(
    request: Request, session: Session, principal: Principal, code: str, *,
    lang: str | None = None, text: str | None = None, problems: list[str] | None = None,
    saved: dict[str, int] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    strategy = strategies.get_strategy(session, company_id=principal.company.id, code=code)
    steps = strategies.strategy_steps(session, strategy)
    if text is None:
        text = strategies.export_strategies(session, company_id=principal.company.id, codes=[code])
    context.update(
        strategy=strategy, steps=steps, timeline=timeline(steps, context["lang"]), text=text,
        problems=[localise(p, context["lang"]) for p in problems or []], saved=saved,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "strategy.html", context, status_code=status)


@router.get("/strategies/{strategy}", response_class=HTMLResponse)
def strategy_page(
    request: Request, session: SessionDep, principal: Reader, strategy: str,
    lang: Annotated[str | None, Query()] = None,
    created: Count = None, updated: Count = None, unchanged: Count = None,
) -> HTMLResponse:  # fmt: skip
    """One ladder: a table of its steps, a timeline, and the YAML editor of this strategy."""
    return _strategy_page(
        request, session, principal, strategy, lang=lang, saved=_saved(created, updated, unchanged)
    )


@router.post("/strategies", response_model=None)
def save_strategies(
    request: Request, session: SessionDep, principal: Manager, csrf: Csrf,
    yaml: Annotated[str, Form(max_length=1_000_000)],
    back: Annotated[str, Form(max_length=40)] = "",
) -> Response:  # fmt: skip
    """The strategy editor: the text is checked whole and saved through the same import as
    the command line and the API; with any problem, each is listed and nothing is saved."""
    check_csrf(principal, csrf)
    try:
        counts = actions.import_strategy_text(
            session, actor=principal.actor(request), company_id=principal.company.id, text=yaml
        )
    except actions.StrategyRejected as exc:
        if back:
            return _strategy_page(request, session, principal, back, text=yaml, problems=exc.details, status=422)  # fmt: skip
        return _strategies_page(request, session, principal, text=yaml, problems=exc.details, status=422)  # fmt: skip
    target = f"/strategies/{quote(back)}" if back else "/strategies"
    return RedirectResponse(f"{target}?{urlencode(counts)}", status_code=303)


@router.post("/customers/{code}/strategy", response_model=None)
def assign_strategy(
    request: Request, session: SessionDep, principal: Manager, as_of: AsOfDep, code: str,
    csrf: Csrf, reason: Annotated[str, Form(min_length=1, max_length=500)],
    strategy: Annotated[str, Form(max_length=40)] = "",
) -> Response:  # fmt: skip
    """Put the customer on a strategy by hand, or (empty) back on the rules, with the reason."""
    check_csrf(principal, csrf)
    customer = visible_customer(session, principal, code)
    try:
        with session.begin_nested():
            strategies.assign_customer(session, actor=principal.actor(request), company_id=principal.company.id,
                                       customer=customer, code=strategy or None, reason=reason.strip())  # fmt: skip
    except HuikuanError as exc:
        return render_customer(request, session, principal, code, as_of, error=exc.message, status=422)  # fmt: skip
    return RedirectResponse(f"/customers/{quote(code)}#collections", status_code=303)


@router.post("/collections/settings", response_model=None)
def save_settings(
    request: Request, session: SessionDep, principal: Manager, csrf: Csrf,
    contacts_per_week: Annotated[int, Form(ge=0, le=1000)],
    quiet_start: Annotated[str, Form(max_length=8)], quiet_end: Annotated[str, Form(max_length=8)],
    language: Annotated[str, Form(max_length=5)], pay_within_days: Annotated[int, Form(ge=0, le=10_000)],
    statement_format: Annotated[str, Form(max_length=10)],
    sender_name: Annotated[str, Form(max_length=200)] = "", sender_phone: Annotated[str, Form(max_length=200)] = "",
    sender_email: Annotated[str, Form(max_length=300)] = "", bank_name: Annotated[str, Form(max_length=300)] = "",
    account_name: Annotated[str, Form(max_length=300)] = "", account_number: Annotated[str, Form(max_length=200)] = "",
    payment_note: Annotated[str, Form(max_length=500)] = "",
    promise_grace_workdays: Annotated[int, Form(ge=0, le=1000)] = 2,
) -> Response:  # fmt: skip
    """Courtesy (weekly cap, quiet hours), language, pay-by days, statement format, and what
    messages say about the sender and the bank account. Audited."""
    check_csrf(principal, csrf)
    values = actions.SettingsInput(
        contacts_per_week, quiet_start, quiet_end, language, pay_within_days, statement_format,
        sender_name, sender_phone, sender_email, bank_name, account_name, account_number, payment_note,
        promise_grace_workdays,
    )  # fmt: skip
    try:
        with session.begin_nested():
            actions.update_settings(session, actor=principal.actor(request), company_id=principal.company.id, values=values)  # fmt: skip
    except HuikuanError as exc:
        return _strategies_page(request, session, principal, error=exc.message, status=422)
    return RedirectResponse("/strategies#settings", status_code=303)


# --- today's run -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    channel: str = ""
    status: str = ""
    customer: str = ""
    assignee: str = ""

    def query(self, as_of: dt.date, **more: object) -> str:
        values = {"as_of": as_of.isoformat(), "channel": self.channel, "status": self.status,
                  "customer": self.customer, "assignee": self.assignee, **more}  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _action_filter(principal: Principal, as_of: dt.date, f: Filters) -> queries.ActionFilter:
    channel = f.channel if f.channel in {c.value for c in rules.Channel} else None
    status = f.status if f.status in ACTION_STATUSES else None
    return queries.ActionFilter(
        as_of,
        channel,
        status,
        f.customer.strip() or None,
        f.assignee.strip() or None,
        principal.scope.only,
    )


def _collections_page(
    request: Request, session: Session, principal: Principal, as_of: dt.date, filters: Filters, *,
    page: int = 1, lang: str | None = None, preview: RunSummary | None = None,
    error: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    company_id = principal.company.id
    calendar = load_calendar(session, company_id=company_id)
    runs, _ = queries.list_runs(session, company_id=company_id, as_of=as_of, page=1, page_size=10)
    found = queries.list_actions(session, company_id=company_id, flt=_action_filter(principal, as_of, filters),
                                 page=page, page_size=PAGE_SIZE)  # fmt: skip
    context.update(
        as_of=as_of, filters=filters, unknown_years=calendar.unknown_years([as_of]),
        working_day=calendar.is_workday(as_of), holiday=calendar.holiday_name(as_of),
        runs=[(r, queries.run_summary(r)) for r in runs], preview=preview, found=found,
        page=page, pages=max(1, -(-found.total // PAGE_SIZE)), channels=[c.value for c in rules.Channel],
        statuses=ACTION_STATUSES, query=filters.query(as_of),
        back=f"/collections?{filters.query(as_of, page=page)}",
        error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "collections.html", context, status_code=status)


@router.get("/collections", response_class=HTMLResponse)
def collections_page(
    request: Request, session: SessionDep, principal: Reader, as_of: AsOfDep,
    channel: Text = "", status: Text = "", customer: Text = "", assignee: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1, lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """The day's run: preview and run buttons, the summary of the day's runs, the calendar's
    warnings, and the day's actions of the user's customers with filters and export."""
    filters = Filters(channel, status, customer, assignee)
    return _collections_page(request, session, principal, as_of, filters, page=page, lang=lang)


@router.get("/collections.xlsx")
def collections_export(
    session: SessionDep, principal: Reader, as_of: AsOfDep,
    channel: Text = "", status: Text = "", customer: Text = "", assignee: Text = "",
) -> StreamingResponse:  # fmt: skip
    """The day's actions as filtered on the page, as a workbook (amounts as numbers)."""
    flt = _action_filter(principal, as_of, Filters(channel, status, customer, assignee))
    found = queries.list_actions(session, company_id=principal.company.id, flt=flt, page=1, page_size=EXPORT_LIMIT)  # fmt: skip
    headers = [
        "日期",
        "客户编码",
        "客户名称",
        "步骤",
        "渠道",
        "发票",
        "金额",
        "状态",
        "负责人",
        "说明",
    ]
    table = (
        [r.action.as_of, r.customer.code, r.customer.name, r.action.step_name,
         label(f"channel_{r.action.channel}", "zh"), "、".join(r.invoices), Money(r.action.amount),
         r.action.status, r.action.assignee, r.action.detail]
        for r in found.rows
    )  # fmt: skip
    return xlsx_response("催收动作", headers, table, f"collections-{as_of.isoformat()}.xlsx")


@router.post("/collections/run", response_model=None)
def run_collections(
    request: Request, session: SessionDep, principal: Runner, csrf: Csrf,
    mode: Annotated[str, Form(pattern="^(preview|run)$")],
    as_of: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """Preview (dry run: decide and report, write and send nothing) or run the day."""
    check_csrf(principal, csrf)
    try:
        day = parse_date(as_of) if as_of.strip() else today()
    except DateError as exc:
        return _collections_page(request, session, principal, today(), Filters(), error=str(exc), status=422)  # fmt: skip
    try:
        summary, _ = start_run(request, session, principal, day, dry_run=mode == "preview")
    except HuikuanError as exc:
        code = 409 if isinstance(exc, Conflict) else 422
        return _collections_page(request, session, principal, day, Filters(), error=exc.message, status=code)  # fmt: skip
    if mode == "preview":
        return _collections_page(request, session, principal, day, Filters(), preview=summary)
    return RedirectResponse(f"/collections?as_of={day.isoformat()}", status_code=303)


@router.post("/collections/actions/{action_id}/complete", response_model=None)
def complete_action(
    request: Request, session: SessionDep, principal: Worker, action_id: int, csrf: Csrf,
    outcome: Annotated[str, Form(min_length=1, max_length=500)],
    back: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    """Mark an open task done with its outcome; back to the page the form was on."""
    check_csrf(principal, csrf)
    action, _ = visible_action(session, principal, action_id)
    try:
        with session.begin_nested():
            actions.complete_action(session, actor=principal.actor(request), action=action, outcome=outcome, now=dt.datetime.now())  # fmt: skip
    except (Conflict, InvalidInput) as exc:
        code = 409 if isinstance(exc, Conflict) else 422
        return _collections_page(request, session, principal, action.as_of, Filters(), error=exc.message, status=code)  # fmt: skip
    return RedirectResponse(_safe_next(back or f"/collections?as_of={action.as_of.isoformat()}"), status_code=303)  # fmt: skip


# --- templates --------------------------------------------------------------------------------


@router.get("/templates", response_class=HTMLResponse)
def templates_page(
    request: Request, session: SessionDep, principal: Reader,
    lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """Every template code and language, the company's own wording marked."""
    context = _base(principal, lang)
    context["rows"] = queries.list_templates(session, company_id=principal.company.id)
    return TEMPLATES.TemplateResponse(request, "templates.html", context)


@dataclass(frozen=True, slots=True)
class Preview:
    customer: str  # empty: the sample customer
    subject: str = ""
    text: str = ""
    html: str = ""
    error: str = ""


def _preview(session: Session, principal: Principal, template: Template, customer: str,
             as_of: dt.date, lang: Lang) -> Preview:  # fmt: skip
    """The template rendered for the customer (or the sample); a problem is shown, not raised."""
    try:
        context = _preview_context(session, principal, template.language, customer, as_of)
        rendered = render(template, context)
    except (InvalidInput, NotFound) as exc:
        return Preview(customer, error=_message(exc, lang))
    return Preview(customer, rendered.subject, rendered.text, rendered.html)


def _preview_context(
    session: Session, principal: Principal, language: str, customer: str, as_of: dt.date
) -> MessageContext:
    if not customer:
        return sample_context(language)
    target = visible_customer(session, principal, customer)
    return queries.preview_context(session, customer=target, language=language, as_of=as_of)


def _template_page(
    request: Request, session: Session, principal: Principal, code: str, language: str,
    as_of: dt.date, *, customer: str = "", lang: str | None = None, draft: Template | None = None,
    error: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = _base(principal, lang)
    saved, own = queries.find_template(session, company_id=principal.company.id, code=code, language=language)  # fmt: skip
    shown = draft or saved
    context.update(
        template=shown, own=own, as_of=as_of, customer=customer,
        preview=_preview(session, principal, shown, customer.strip(), as_of, context["lang"]),
        variables=sorted(template_variables(sample_context(language))),
        is_letter=shown.channel == "letter",
        error=localise(error, context["lang"]) if error else None,
    )  # fmt: skip
    return TEMPLATES.TemplateResponse(request, "template.html", context, status_code=status)


@router.get("/templates/{template}/{language}", response_class=HTMLResponse)
def template_page(
    request: Request, session: SessionDep, principal: Reader, as_of: AsOfDep, template: str,
    language: str, customer: Text = "", lang: Annotated[str | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """The wording in force, the edit form, and a preview for a customer (default: sample)."""
    return _template_page(request, session, principal, template, language, as_of, customer=customer, lang=lang)  # fmt: skip


@router.post("/templates/{template}/{language}", response_model=None)
def save_template(
    request: Request, session: SessionDep, principal: Editor, as_of: AsOfDep, template: str,
    language: str, csrf: Csrf, body: Annotated[str, Form(max_length=50_000)],
    subject: Annotated[str, Form(max_length=300)] = "", html: Annotated[str, Form(max_length=50_000)] = "",
    signature: Annotated[str, Form(max_length=2_000)] = "",
    customer: Annotated[str, Form(max_length=60)] = "",
) -> Response:  # fmt: skip
    """Keep the company's wording, or show it again with the reason it was refused."""
    check_csrf(principal, csrf)
    saved, _ = queries.find_template(session, company_id=principal.company.id, code=template, language=language)  # fmt: skip
    text = actions.TemplateText(
        subject, body.replace("\r\n", "\n"), html.replace("\r\n", "\n"),
        signature=signature.replace("\r\n", "\n"),
    )  # fmt: skip
    try:
        with session.begin_nested():
            actions.save_template(session, actor=principal.actor(request), company_id=principal.company.id,
                                  code=template, language=language, text=text)  # fmt: skip
    except InvalidInput as exc:
        draft = _draft(saved, text)
        return _template_page(request, session, principal, template, language, as_of, customer=customer,
                              draft=draft, error=exc.message, status=422)  # fmt: skip
    target = f"/templates/{quote(template)}/{quote(language)}"
    return RedirectResponse(target + (f"?customer={quote(customer)}" if customer else ""), status_code=303)  # fmt: skip


def _draft(saved: Template, text: actions.TemplateText) -> Template | None:
    """The refused text as a template for the form (None if even that cannot be built)."""
    try:
        return Template(saved.code, saved.language, saved.channel, text.subject, text.body or " ",
                        text.html, text.signature or "")  # fmt: skip
    except InvalidInput:
        return None


@router.post("/templates/{template}/{language}/reset", response_model=None)
def reset_template(
    request: Request, session: SessionDep, principal: Editor, template: str, language: str,
    csrf: Csrf,
) -> Response:  # fmt: skip
    """Go back to Huikuan's wording."""
    check_csrf(principal, csrf)
    queries.find_template(session, company_id=principal.company.id, code=template, language=language)  # fmt: skip
    actions.reset_template(session, actor=principal.actor(request), company_id=principal.company.id,
                           code=template, language=language)  # fmt: skip
    return RedirectResponse(f"/templates/{quote(template)}/{quote(language)}", status_code=303)


@router.get("/templates/{template}/{language}/letter.pdf")
def letter_pdf(
    session: SessionDep, principal: Reader, as_of: AsOfDep, template: str, language: str,
    customer: Text = "",
) -> Response:  # fmt: skip
    """The template as a PDF letter for the customer (default: the sample), as the run would
    make it; nothing is kept."""
    found, _ = queries.find_template(session, company_id=principal.company.id, code=template, language=language)  # fmt: skip
    context = _preview_context(session, principal, language, customer.strip(), as_of)
    pdf = render_letter_pdf(found, context)
    name = f"{template}-{customer.strip() or 'sample'}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=\"{quote(name)}\""})  # fmt: skip


@router.get("/documents/{document_id}")
def document_download(session: SessionDep, principal: Reader, document_id: int) -> Response:
    """A kept letter or statement, for the links on the customer page."""
    return document_response(session, principal, document_id)
