"""Routes: collections under /api — strategies (list, one ladder, import, export, assign a
customer), the daily run (run or preview, list, one run), the actions (the worklist, complete a
task), a customer's collections record, kept documents, and message templates (read, edit,
preview on a real customer).

Money leaves as decimal strings with its currency; dates as YYYY-MM-DD. What a user sees of
actions, documents and customers is limited to the customers they may see.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from huikuan.channels.templates import Template, render
from huikuan.collections import actions, queries, strategies
from huikuan.collections.daily import RunSummary, run_daily
from huikuan.collections.models import CollectionAction, DailyRun, Delivery, Document, Strategy
from huikuan.core.dates import DateError, check_business_date, today
from huikuan.core.errors import InvalidInput, prefixed
from huikuan.core.money import decimal_string
from huikuan.customers.models import Customer
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, SessionDep, require, visible_customer
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta
from huikuan.web.xlsx import XLSX_TYPE

router = APIRouter(prefix="/api", tags=["collections"])
Reader = Annotated[Principal, Depends(require(Right.READ_COLLECTIONS))]
Manager = Annotated[Principal, Depends(require(Right.MANAGE_STRATEGIES))]
Runner = Annotated[Principal, Depends(require(Right.RUN_COLLECTIONS))]
Worker = Annotated[Principal, Depends(require(Right.WORK_ACTIONS))]
Editor = Annotated[Principal, Depends(require(Right.EDIT_TEMPLATES))]
Id = Annotated[int, PathParam(ge=1, le=2**62)]
Code = Annotated[str, PathParam(max_length=60)]
Language = Annotated[str, PathParam(max_length=5, description="zh or en")]
ChannelName = Literal[
    "email", "sms", "letter", "phone_task", "visit_task", "stop_supply", "agency",
    "lawyer_letter", "litigation", "alert",
]  # fmt: skip
ActionStatus = Literal["open", "done", "sent", "failed", "skipped"]
STRATEGY_FILE_MAX = 1_000_000  # characters: far beyond any real strategy file


Moment = Annotated[str, Field(description="YYYY-MM-DD HH:MM:SS, as recorded")]


def moment(value: dt.datetime | None) -> str | None:
    """A recorded time as people read it (the engine keeps naive wall-clock times)."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def business_date(day: dt.date | None, field: str = "as_of") -> dt.date:
    """The date asked for (today when none), refused with a clear 422 when out of range."""
    if day is None:
        return today()
    try:
        return check_business_date(day)
    except DateError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


def _money(fen: int | None) -> str | None:
    return None if fen is None else decimal_string(fen)


# --- strategies -------------------------------------------------------------------------------


class StepOut(BaseModel):
    seq: int
    name: str
    trigger_days: int = Field(description="Days from the anchor; negative = before it")
    anchor: str = Field(description="due or settlement")
    working_days: bool = Field(description="trigger_days counts working days")
    channel: str
    template: str
    wait_days: int
    min_amount: str | None
    max_amount: str | None
    grades: list[str]


class StrategyOut(BaseModel):
    code: str
    name: str
    description: str
    customer_type: str
    is_default: bool
    active: bool
    step_count: int


class StrategyDetail(StrategyOut):
    steps: list[StepOut]


class RuleOut(BaseModel):
    priority: int
    strategy: str
    customer_type: str
    grades: list[str]
    min_overdue: str
    min_days_overdue: int


class StrategyList(BaseModel):
    items: list[StrategyOut]
    rules: list[RuleOut] = Field(description="Assignment rules, in the order they are tried")
    default: str | None = Field(description="The strategy of customers no rule matches")
    currency: str


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


def _strategy_out(session: Session, strategy: Strategy) -> StrategyDetail:
    steps = strategies.strategy_steps(session, strategy)
    return StrategyDetail(
        code=strategy.code, name=strategy.name, description=strategy.description,
        customer_type=strategy.customer_type, is_default=strategy.is_default, active=strategy.active,
        step_count=len(steps),
        steps=[StepOut(seq=s.seq, name=s.name, trigger_days=s.trigger_days, anchor=s.anchor,
                       working_days=s.working_days, channel=s.channel, template=s.template,
                       wait_days=s.wait_days, min_amount=_money(s.min_amount),
                       max_amount=_money(s.max_amount), grades=list(s.grades)) for s in steps],
    )  # fmt: skip


@router.get("/strategies", response_model=StrategyList, responses=ERROR_RESPONSES)
def strategy_list(session: SessionDep, principal: Reader) -> StrategyList:
    """The company's strategies and the rules that assign customers to them."""
    company_id = principal.company.id
    items = [_strategy_out(session, s) for s in strategies.list_strategies(session, company_id=company_id)]  # fmt: skip
    rules = [
        RuleOut(priority=r.priority, strategy=r.strategy, customer_type=r.customer_type,
                grades=list(r.grades), min_overdue=decimal_string(r.min_overdue),
                min_days_overdue=r.min_days_overdue)
        for r in strategies.rule_specs(session, company_id=company_id)
    ]  # fmt: skip
    return StrategyList(
        items=[StrategyOut(**i.model_dump(exclude={"steps"})) for i in items],
        rules=rules,
        default=next((i.code for i in items if i.is_default), None),
        currency=principal.company.currency,
    )


@router.get(
    "/strategies/export",
    response_class=Response,
    responses={
        **ERROR_RESPONSES,
        200: {"content": {"application/yaml": {}}, "description": "YAML"},
    },
)
def strategy_export(
    session: SessionDep,
    principal: Reader,
    code: Annotated[list[str] | None, Query(max_length=100, description="Strategy codes; default all, with the rules")] = None,
) -> PlainTextResponse:  # fmt: skip
    """The strategies as YAML that imports back to the same thing."""
    text = strategies.export_strategies(
        session, company_id=principal.company.id, codes=[c[:40] for c in code or []]
    )
    return PlainTextResponse(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="strategies.yaml"'},
    )


@router.get("/strategies/{strategy}", response_model=StrategyDetail, responses=ERROR_RESPONSES)
def strategy_detail(session: SessionDep, principal: Reader, strategy: Code) -> StrategyDetail:
    """One strategy with its ladder, step by step."""
    found = strategies.get_strategy(session, company_id=principal.company.id, code=strategy)
    return _strategy_out(session, found)


_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A strategy file in YAML (or JSON): strategies, and optionally rules and default",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.put(
    "/strategies", response_model=ImportOut, responses=ERROR_RESPONSES, openapi_extra=_YAML_BODY
)
async def strategy_import(request: Request, session: SessionDep, principal: Manager) -> ImportOut:
    """Create or update strategies (and rules) from a file; all or nothing. A file with problems
    is a 422 whose ``details`` name each one (``strategies[0].steps[2]: ...``)."""
    raw = await request.body()
    if len(raw) > STRATEGY_FILE_MAX * 4:
        raise InvalidInput("文件过大 / the file is too large")
    try:
        text = raw.decode("utf-8-sig")
        if request.headers.get("content-type", "").startswith("application/json"):
            # JSON's escapes (surrogate pairs) are read as JSON, then the file as YAML.
            text = json.dumps(json.loads(text), ensure_ascii=False)
    except UnicodeDecodeError as exc:
        raise InvalidInput("文件须为 UTF-8 编码 / the file must be UTF-8") from exc
    except ValueError as exc:
        raise InvalidInput(f"JSON 格式错误：{exc} / not valid JSON: {exc}") from exc
    counts = actions.import_strategy_text(
        session, actor=principal.actor(request), company_id=principal.company.id, text=text
    )
    return ImportOut(**counts)


class AssignIn(BaseModel):
    strategy: str | None = Field(
        default=None, max_length=40, description="Strategy code; null puts the customer back on the rules"
    )  # fmt: skip
    reason: str = Field(min_length=1, max_length=500)


class CustomerStrategyOut(BaseModel):
    customer: str
    strategy: str | None
    strategy_name: str | None
    by_hand: bool = Field(description="true: chosen by a person; false: by the rules or default")
    reason: str
    set_by: str
    set_at: Moment | None


def _choice_out(customer: Customer, choice: queries.StrategyChoice) -> CustomerStrategyOut:
    hand = choice.by_hand
    return CustomerStrategyOut(
        customer=customer.code, strategy=choice.strategy.code if choice.strategy else None,
        strategy_name=choice.strategy.name if choice.strategy else None, by_hand=hand is not None,
        reason=hand.reason if hand else "", set_by=hand.set_by if hand else "",
        set_at=moment(hand.set_at) if hand else None,
    )  # fmt: skip


@router.put(
    "/customers/{code}/strategy", response_model=CustomerStrategyOut, responses=ERROR_RESPONSES
)
def assign_strategy(
    request: Request, session: SessionDep, principal: Manager, code: Code, body: AssignIn
) -> CustomerStrategyOut:
    """Put the customer on a strategy by hand (it wins over the rules), or back on the rules."""
    customer = visible_customer(session, principal, code)
    actor = principal.actor(request)
    strategies.assign_customer(session, actor=actor, company_id=principal.company.id, customer=customer,
                               code=body.strategy or None, reason=body.reason.strip())  # fmt: skip
    choice = queries.strategy_choice(session, customer=customer, as_of=actor.at.date())
    return _choice_out(customer, choice)


# --- daily runs -------------------------------------------------------------------------------


class RunIn(BaseModel):
    as_of: dt.date = Field(description="Business date YYYY-MM-DD")
    dry_run: bool = Field(default=False, description="Decide and report; write and send nothing")


class ChannelTotal(BaseModel):
    channel: str
    count: int
    amount: str


class RunOut(BaseModel):
    id: int | None = Field(description="null for a dry run (nothing is recorded)")
    status: str = Field(description="running, finished, failed; preview for a dry run")
    as_of: dt.date
    dry_run: bool
    started_by: str
    started_at: Moment | None
    finished_at: Moment | None
    currency: str
    working_day: bool
    holiday: str
    calendar_unknown_years: list[int] = Field(description="Years with no official holiday schedule")
    customers: int
    invoices_evaluated: int
    invoices_moved: int
    actions: list[ChannelTotal]
    deferred_by_cap: int
    already_done_today: int
    not_chased: dict[str, int]
    holds_placed: int
    holds_released: int
    referrals: int
    deliveries: dict[str, int]
    errors: list[str]


class RunPage(PageMeta):
    items: list[RunOut]


def run_out(summary: RunSummary, currency: str, run: DailyRun | None = None) -> RunOut:
    """A run's summary for the API; ``run`` is None for a dry run."""
    return RunOut(
        id=run.id if run else None, status=run.status if run else "preview",
        as_of=dt.date.fromisoformat(summary.as_of), dry_run=summary.dry_run,
        started_by=run.started_by if run else "", started_at=moment(run.started_at) if run else None,
        finished_at=moment(run.finished_at) if run else None, currency=currency,
        working_day=summary.working_day, holiday=summary.holiday,
        calendar_unknown_years=summary.calendar_unknown_years, customers=summary.customers,
        invoices_evaluated=summary.invoices_evaluated, invoices_moved=summary.invoices_moved,
        actions=[ChannelTotal(channel=c, count=n, amount=decimal_string(summary.amounts.get(c, 0)))
                 for c, n in sorted(summary.actions.items())],
        deferred_by_cap=summary.deferred_by_cap, already_done_today=summary.already_done_today,
        not_chased=summary.not_chased, holds_placed=summary.holds_placed,
        holds_released=summary.holds_released, referrals=summary.referrals,
        deliveries=summary.deliveries, errors=summary.errors,
    )  # fmt: skip


def start_run(
    request: Request, session: Session, principal: Principal, as_of: dt.date, dry_run: bool
) -> tuple[RunSummary, DailyRun | None]:
    """Run (or preview) the day for the user's company, in the request. The request's own
    transaction is committed first: the run works in transactions of its own, and on SQLite
    an open write (the token's last use) would make it wait for the request."""
    day = business_date(as_of)
    session.commit()
    started = dt.datetime.now().astimezone()  # local time: quiet hours are local, as in the CLI
    summary = run_daily(
        request.app.state.sessions, company_id=principal.company.id, as_of=day, now=started,
        actor=principal.actor(request), dry_run=dry_run, send=True,
        transports=getattr(request.app.state, "transports", None),
    )  # fmt: skip
    if dry_run:
        return summary, None
    runs, _ = queries.list_runs(session, company_id=principal.company.id, as_of=day, page=1, page_size=1)  # fmt: skip
    return summary, runs[0] if runs else None


@router.post("/collections/runs", response_model=RunOut, responses=ERROR_RESPONSES)
def create_run(request: Request, session: SessionDep, principal: Runner, body: RunIn) -> RunOut:
    """Run the day's collections now and answer its summary (``dry_run``: what it would do).
    Running a day again adds nothing already done; 409 while another run is in progress."""
    summary, run = start_run(request, session, principal, body.as_of, body.dry_run)
    return run_out(summary, principal.company.currency, run)


@router.get("/collections/runs", response_model=RunPage, responses=ERROR_RESPONSES)
def runs_list(
    session: SessionDep, principal: Reader,
    as_of: Annotated[dt.date | None, Query(description="Only runs for this business date")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1, page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunPage:  # fmt: skip
    """Recorded runs, newest first (dry runs are not recorded)."""
    runs, total = queries.list_runs(session, company_id=principal.company.id, as_of=as_of, page=page, page_size=page_size)  # fmt: skip
    currency = principal.company.currency
    items = [run_out(queries.run_summary(r), currency, r) for r in runs]
    return RunPage(items=items, page=page, page_size=page_size, total=total)


@router.get("/collections/runs/{run_id}", response_model=RunOut, responses=ERROR_RESPONSES)
def run_detail(session: SessionDep, principal: Reader, run_id: Id) -> RunOut:
    run = queries.get_run(session, company_id=principal.company.id, run_id=run_id)
    return run_out(queries.run_summary(run), principal.company.currency, run)


# --- actions ----------------------------------------------------------------------------------


class ActionOut(BaseModel):
    id: int
    as_of: dt.date
    customer: str
    customer_name: str
    step: str
    channel: str
    template: str
    invoices: list[str]
    amount: str
    currency: str
    status: str = Field(description="open, done, sent, failed or skipped")
    assignee: str
    detail: str
    created_at: Moment
    completed_at: Moment | None


class ActionPageOut(PageMeta):
    items: list[ActionOut]
    amount: str = Field(description="Amount covered by all matching actions, every page")
    currency: str


def _action_out(action: CollectionAction, customer: Customer, invoices: tuple[str, ...], currency: str) -> ActionOut:  # fmt: skip
    return ActionOut(
        id=action.id, as_of=action.as_of, customer=customer.code, customer_name=customer.name,
        step=action.step_name, channel=action.channel, template=action.template,
        invoices=list(invoices), amount=decimal_string(action.amount), currency=currency,
        status=action.status, assignee=action.assignee, detail=action.detail,
        created_at=moment(action.created_at) or "", completed_at=moment(action.completed_at),
    )  # fmt: skip


@router.get("/collections/actions", response_model=ActionPageOut, responses=ERROR_RESPONSES)
def actions_list(
    session: SessionDep, principal: Reader,
    as_of: Annotated[dt.date | None, Query(description="Only this business date; default every date")] = None,
    channel: ChannelName | None = None, status: ActionStatus | None = None,
    customer: Annotated[str | None, Query(max_length=60, description="Customer code")] = None,
    assignee: Annotated[str | None, Query(max_length=60)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1, page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActionPageOut:  # fmt: skip
    """Actions, newest day first, of the customers the user sees; ``status=open`` is the
    worklist of tasks and letters to post."""
    flt = queries.ActionFilter(as_of, channel, status, customer, assignee, principal.scope.only)
    found = queries.list_actions(session, company_id=principal.company.id, flt=flt, page=page, page_size=page_size)  # fmt: skip
    currency = principal.company.currency
    return ActionPageOut(
        items=[_action_out(r.action, r.customer, r.invoices, currency) for r in found.rows],
        page=page, page_size=page_size, total=found.total, amount=decimal_string(found.amount),
        currency=currency,
    )  # fmt: skip


class CompleteIn(BaseModel):
    outcome: str = Field(min_length=1, max_length=500, description="What came of the task")


def visible_action(session: Session, principal: Principal, action_id: int) -> tuple[CollectionAction, Customer]:  # fmt: skip
    """The action, if its customer is one the user sees; otherwise 'not found'."""
    action, customer = queries.find_action(session, company_id=principal.company.id, action_id=action_id)  # fmt: skip
    visible_customer(session, principal, customer.code)
    return action, customer


@router.post(
    "/collections/actions/{action_id}/complete", response_model=ActionOut, responses=ERROR_RESPONSES
)
def complete(
    request: Request, session: SessionDep, principal: Worker, action_id: Id, body: CompleteIn
) -> ActionOut:
    """Mark an open task done with its outcome (409 when it is not open)."""
    action, customer = visible_action(session, principal, action_id)
    actions.complete_action(session, actor=principal.actor(request), action=action, outcome=body.outcome, now=dt.datetime.now())  # fmt: skip
    invoices = queries.action_invoices(session, [action.id]).get(action.id, ())
    return _action_out(action, customer, invoices, principal.company.currency)


# --- a customer's collections and documents -----------------------------------------------------


class DeliveryOut(BaseModel):
    id: int
    channel: str
    recipient: str
    subject: str
    status: str = Field(description="pending, sending, sent, retry, bounced, failed, uncertain")
    attempts: int
    error: str
    sent_at: Moment | None


class DocumentOut(BaseModel):
    id: int
    kind: str
    filename: str
    mime_type: str
    reference: str
    created_on: dt.date
    url: str


class ActionDetailOut(ActionOut):
    deliveries: list[DeliveryOut]
    documents: list[DocumentOut]


class PositionOut(BaseModel):
    invoice: str
    due_date: dt.date
    open_amount: str
    strategy: str
    last_step: str = Field(description="The step(s) the invoice last went through; empty if none")
    last_step_on: dt.date | None
    next_step: str
    next_check_on: dt.date | None = Field(description="When the next step can fall due")


class CustomerCollectionsOut(BaseModel):
    customer: str
    strategy: CustomerStrategyOut
    currency: str
    invoices: list[PositionOut]
    actions: list[ActionDetailOut] = Field(description="Newest first")


def _delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(id=d.id, channel=d.channel, recipient=d.recipient, subject=d.subject,
                       status=d.status, attempts=d.attempts, error=d.last_error, sent_at=moment(d.sent_at))  # fmt: skip


def _document_out(d: Document) -> DocumentOut:
    return DocumentOut(id=d.id, kind=d.kind, filename=d.filename, mime_type=d.mime_type,
                       reference=d.reference, created_on=d.created_on, url=f"/api/documents/{d.id}")  # fmt: skip


@router.get(
    "/customers/{code}/collections",
    response_model=CustomerCollectionsOut,
    responses=ERROR_RESPONSES,
)
def customer_collections(
    session: SessionDep, principal: Reader, code: Code,
    as_of: Annotated[dt.date | None, Query(description="For the strategy the rules choose; default today")] = None,
) -> CustomerCollectionsOut:  # fmt: skip
    """The customer's strategy, where each open invoice stands on its ladder, and the actions
    taken with their deliveries and documents."""
    customer = visible_customer(session, principal, code)
    day = business_date(as_of)
    record = queries.customer_collections(session, customer=customer, as_of=day)
    currency = principal.company.currency
    positions = [
        PositionOut(invoice=p.invoice.number, due_date=p.invoice.due_date,
                    open_amount=decimal_string(p.invoice.open_amount), strategy=p.strategy_code,
                    last_step=p.last_step, last_step_on=p.state.last_step_on if p.state else None,
                    next_step=p.next_step, next_check_on=p.state.next_check_on if p.state else None)
        for p in record.positions
    ]  # fmt: skip
    acts = [
        ActionDetailOut(**_action_out(a.action, customer, a.invoices, currency).model_dump(),
                        deliveries=[_delivery_out(d) for d in a.deliveries],
                        documents=[_document_out(d) for d in a.documents])
        for a in record.actions
    ]  # fmt: skip
    return CustomerCollectionsOut(
        customer=customer.code, strategy=_choice_out(customer, record.choice), currency=currency,
        invoices=positions, actions=acts,
    )  # fmt: skip


def document_response(session: Session, principal: Principal, document_id: int) -> Response:
    """The kept file as sent, if the user may see its customer."""
    document = queries.get_document(session, company_id=principal.company.id, document_id=document_id)  # fmt: skip
    customer = session.get_one(Customer, document.customer_id)
    visible_customer(session, principal, customer.code)
    ascii_name = f"document-{document.id}.{document.filename.rsplit('.', 1)[-1][:5]}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(document.filename)}"  # fmt: skip
    return Response(
        document.content,
        media_type=document.mime_type,
        headers={"Content-Disposition": disposition},
    )


@router.get(
    "/documents/{document_id}",
    response_class=Response,
    responses={**ERROR_RESPONSES, 200: {"content": {"application/pdf": {}, XLSX_TYPE: {}}, "description": "The file"}},
)  # fmt: skip
def document(session: SessionDep, principal: Reader, document_id: Id) -> Response:
    """Download a letter or statement exactly as it was generated (PDF or XLSX)."""
    return document_response(session, principal, document_id)


# --- templates -------------------------------------------------------------------------------


class TemplateOut(BaseModel):
    code: str
    language: str
    channel: str
    subject: str
    own: bool = Field(description="true: the company's own wording; false: Huikuan's default")
    updated_by: str
    updated_at: Moment | None


class TemplateDetail(TemplateOut):
    body: str
    html: str
    signature: str


class TemplateIn(BaseModel):
    subject: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=50_000)
    html: str = Field(default="", max_length=50_000)
    signature: str | None = Field(
        default=None, max_length=2_000, description="Closing lines; omitted: kept as they are"
    )
    channel: Literal["email", "sms", "letter", "alert"] | None = Field(
        default=None, description="Needed only for a new code; default: the template's channel"
    )


class PreviewOut(BaseModel):
    code: str
    language: str
    customer: str
    subject: str
    text: str
    html: str


def _template_detail(session: Session, principal: Principal, code: str, language: str) -> TemplateDetail:  # fmt: skip
    template, own = queries.find_template(session, company_id=principal.company.id, code=code, language=language)  # fmt: skip
    return TemplateDetail(
        code=template.code, language=template.language, channel=template.channel,
        subject=template.subject, own=own is not None, updated_by=own.updated_by if own else "",
        updated_at=moment(own.updated_at) if own else None, body=template.body, html=template.html,
        signature=template.signature,
    )  # fmt: skip


@router.get("/templates", response_model=list[TemplateOut], responses=ERROR_RESPONSES)
def template_list(session: SessionDep, principal: Reader) -> list[TemplateOut]:
    """Every template code and language, marked when the company has its own wording."""
    return [
        TemplateOut(code=r.code, language=r.language, channel=r.channel, subject=r.subject,
                    own=r.own is not None, updated_by=r.own.updated_by if r.own else "",
                    updated_at=moment(r.own.updated_at) if r.own else None)
        for r in queries.list_templates(session, company_id=principal.company.id)
    ]  # fmt: skip


@router.get(
    "/templates/{template}/{language}", response_model=TemplateDetail, responses=ERROR_RESPONSES
)
def template_detail(
    session: SessionDep, principal: Reader, template: Code, language: Language
) -> TemplateDetail:
    """The wording in force: the company's own, else Huikuan's."""
    return _template_detail(session, principal, template, language)


@router.put(
    "/templates/{template}/{language}", response_model=TemplateDetail, responses=ERROR_RESPONSES
)
def template_save(
    request: Request, session: SessionDep, principal: Editor, template: Code, language: Language,
    body: TemplateIn,
) -> TemplateDetail:  # fmt: skip
    """Keep the company's own wording; it is rendered on a sample customer first and refused
    (422, naming the line and the cause) if it fails, e.g. on an unknown variable."""
    text = actions.TemplateText(
        body.subject, body.body, body.html, body.channel or "", body.signature
    )
    actions.save_template(session, actor=principal.actor(request), company_id=principal.company.id,
                          code=template, language=language, text=text)  # fmt: skip
    return _template_detail(session, principal, template, language)


@router.delete(
    "/templates/{template}/{language}", response_model=TemplateDetail, responses=ERROR_RESPONSES
)
def template_reset(
    request: Request, session: SessionDep, principal: Editor, template: Code, language: Language
) -> TemplateDetail:
    """Go back to Huikuan's wording (the company's own is kept in the audit trail)."""
    queries.find_template(session, company_id=principal.company.id, code=template, language=language)  # fmt: skip
    actions.reset_template(session, actor=principal.actor(request), company_id=principal.company.id,
                           code=template, language=language)  # fmt: skip
    return _template_detail(session, principal, template, language)


@router.post(
    "/templates/{template}/{language}/preview", response_model=PreviewOut, responses=ERROR_RESPONSES
)
def template_preview(
    session: SessionDep, principal: Reader, template: Code, language: Language,
    customer: Annotated[str, Query(min_length=1, max_length=60, description="Customer code")],
    as_of: Annotated[dt.date | None, Query(description="Business date; default today")] = None,
    body: TemplateIn | None = None,
) -> PreviewOut:  # fmt: skip
    """Render the template (or the draft in the body) for the customer with their real open
    invoices, as the daily run would; nothing is saved or sent."""
    found, _ = queries.find_template(session, company_id=principal.company.id, code=template, language=language)  # fmt: skip
    if body is not None:
        found = _draft(found, body)
    target = visible_customer(session, principal, customer)
    day = business_date(as_of)
    context = queries.preview_context(session, customer=target, language=language, as_of=day)
    rendered = render(found, context)
    return PreviewOut(code=template, language=language, customer=target.code,
                      subject=rendered.subject, text=rendered.text, html=rendered.html)  # fmt: skip


def _draft(template: Template, body: TemplateIn) -> Template:
    """The unsaved text of an edit form, in place of the saved wording."""
    return replace(template, subject=body.subject, body=body.body, html=body.html,
                   channel=body.channel or template.channel)  # fmt: skip
