"""Read queries for the collections pages and API: the day's actions (one page and its totals,
limited to the customers the user sees), daily runs and their summaries, one customer's
collections record (strategy, place of each invoice on its ladder, actions with what was sent),
documents, and the templates with the context a preview renders them in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, defer

from huikuan.channels.context import MessageContext
from huikuan.channels.templates import DEFAULT_CODES, LANGUAGES, Template, default_templates
from huikuan.collections import daily, rules
from huikuan.collections.messages import message_context, template_for
from huikuan.collections.models import (
    CollectionAction,
    CollectionActionItem,
    CustomerStrategy,
    DailyRun,
    Delivery,
    Document,
    DunningState,
    MessageTemplate,
    Strategy,
)
from huikuan.collections.strategies import load_assignment, load_ladders
from huikuan.core.calendar import load_calendar
from huikuan.core.errors import NotFound
from huikuan.credit.service import latest_grades
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice, InvoiceStatus

Scope = tuple[str, str] | None  # ("collector", name): only that person's customers

# --- The actions list ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionFilter:
    as_of: dt.date | None = None
    channel: str | None = None
    status: str | None = None
    customer_code: str | None = None
    assignee: str | None = None
    only: Scope = None


@dataclass(frozen=True, slots=True)
class ActionRow:
    action: CollectionAction
    customer: Customer
    invoices: tuple[str, ...]  # the invoice numbers the action covers


@dataclass(frozen=True, slots=True)
class ActionPage:
    rows: list[ActionRow]
    total: int  # actions matching the filter, all pages
    amount: int  # fen covered by them, all pages


def _scoped(query: Select, only: Scope) -> Select:
    return query if only is None else query.where(getattr(Customer, only[0]) == only[1])


def _actions(company_id: int, flt: ActionFilter) -> Select:
    query = (
        select(CollectionAction, Customer)
        .join(Customer, Customer.id == CollectionAction.customer_id)
        .where(CollectionAction.company_id == company_id)
    )
    for column, value in (
        (CollectionAction.as_of, flt.as_of),
        (CollectionAction.channel, flt.channel),
        (CollectionAction.status, flt.status),
        (Customer.code, flt.customer_code),
        (CollectionAction.assignee, flt.assignee),
    ):
        if value:
            query = query.where(column == value)
    return _scoped(query, flt.only)


def list_actions(
    session: Session, *, company_id: int, flt: ActionFilter, page: int, page_size: int
) -> ActionPage:
    """One page of actions, newest day first then by customer, with the count and amount of
    all of them: the worklist, its export and the API read the same rows."""
    query = _actions(company_id, flt)
    counted = query.with_only_columns(
        func.count(), func.coalesce(func.sum(CollectionAction.amount), 0)
    ).order_by(None)
    total, amount = session.execute(counted).one()
    found = session.execute(
        query.order_by(CollectionAction.as_of.desc(), Customer.code, CollectionAction.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    numbers = action_invoices(session, [a.id for a, _ in found])
    rows = [ActionRow(a, c, numbers.get(a.id, ())) for a, c in found]
    return ActionPage(rows, int(total or 0), int(amount or 0))


def action_invoices(session: Session, action_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The invoice numbers of each action, for one page of actions."""
    numbers: dict[int, list[str]] = {}
    if not action_ids:
        return {}
    rows = session.execute(
        select(CollectionActionItem.action_id, Invoice.number)
        .join(Invoice, Invoice.id == CollectionActionItem.invoice_id)
        .where(CollectionActionItem.action_id.in_(list(action_ids)))
        .order_by(CollectionActionItem.action_id, Invoice.due_date, Invoice.number)
    )
    for action_id, number in rows:
        numbers.setdefault(action_id, []).append(number)
    return {k: tuple(v) for k, v in numbers.items()}


def find_action(
    session: Session, *, company_id: int, action_id: int
) -> tuple[CollectionAction, Customer]:
    """The action and its customer; the caller checks the user may see the customer."""
    found = session.execute(
        select(CollectionAction, Customer)
        .join(Customer, Customer.id == CollectionAction.customer_id)
        .where(CollectionAction.company_id == company_id, CollectionAction.id == action_id)
    ).first()
    if found is None:
        raise NotFound(f"没有催收动作 {action_id} / no collection action {action_id}")
    return found[0], found[1]


# --- Daily runs ----------------------------------------------------------------------------


def list_runs(
    session: Session, *, company_id: int, as_of: dt.date | None, page: int, page_size: int
) -> tuple[list[DailyRun], int]:
    """Recorded runs (dry runs record nothing), newest first, and how many there are."""
    query = select(DailyRun).where(DailyRun.company_id == company_id)
    if as_of is not None:
        query = query.where(DailyRun.as_of == as_of)
    total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    runs = session.scalars(
        query.order_by(DailyRun.started_at.desc(), DailyRun.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return list(runs), int(total)


def get_run(session: Session, *, company_id: int, run_id: int) -> DailyRun:
    run = session.scalar(
        select(DailyRun).where(DailyRun.company_id == company_id, DailyRun.id == run_id)
    )
    if run is None:
        raise NotFound(f"没有日常任务记录 {run_id} / no daily run {run_id}")
    return run


def run_summary(run: DailyRun) -> daily.RunSummary:
    """The summary a run stored, read leniently: a field added or dropped since the run was
    recorded must not make old runs unreadable."""
    try:
        data = json.loads(run.summary or "{}")
    except ValueError:
        data = {}
    known = {f.name for f in dataclasses.fields(daily.RunSummary)}
    values = {k: v for k, v in data.items() if k in known} if isinstance(data, dict) else {}
    values.setdefault("as_of", run.as_of.isoformat())
    values.setdefault("dry_run", run.dry_run)
    return daily.RunSummary(**values)


# --- One customer's collections ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrategyChoice:
    """The strategy the customer follows: chosen by a person (``by_hand``), else by the rules
    (or the company's default); None when there is none."""

    strategy: Strategy | None
    by_hand: CustomerStrategy | None


@dataclass(frozen=True, slots=True)
class LadderPosition:
    """Where one open invoice stands: the last step it went through and the next one."""

    invoice: Invoice
    state: DunningState | None
    strategy_code: str
    last_step: str
    next_step: str


@dataclass(frozen=True, slots=True)
class ActionRecord:
    action: CollectionAction
    invoices: tuple[str, ...]
    deliveries: list[Delivery]
    documents: list[Document]  # content not loaded


@dataclass(frozen=True, slots=True)
class CustomerCollections:
    choice: StrategyChoice
    positions: list[LadderPosition]
    actions: list[ActionRecord]


def customer_collections(
    session: Session, *, customer: Customer, as_of: dt.date, recent: int = 100
) -> CustomerCollections:
    """What the customer page shows under 催收记录, newest actions first."""
    return CustomerCollections(
        choice=strategy_choice(session, customer=customer, as_of=as_of),
        positions=ladder_positions(session, customer=customer),
        actions=customer_actions(session, customer=customer, recent=recent),
    )


def strategy_choice(session: Session, *, customer: Customer, as_of: dt.date) -> StrategyChoice:
    """A person's choice wins; otherwise the rules decide as the daily run would on ``as_of``."""
    own = session.get(CustomerStrategy, (customer.company_id, customer.id))
    if own is not None:
        return StrategyChoice(session.get(Strategy, own.strategy_id), own)
    assignment, _, default = load_assignment(session, company_id=customer.company_id)
    chosen = rules.assign_strategy(
        _segment(session, customer, as_of), assignment, override=None, default=default
    )
    return StrategyChoice(session.get(Strategy, chosen) if chosen else None, None)


def _segment(session: Session, customer: Customer, as_of: dt.date) -> rules.Segment:
    # The run's own definitions of what is chased and what is held back, so that the page
    # never disagrees with the run about which strategy applies.
    chased = daily.chased_amount()
    overdue, oldest = session.execute(
        select(
            func.coalesce(func.sum(case((Invoice.due_date < as_of, chased), else_=0)), 0),
            func.min(case((and_(Invoice.due_date < as_of, chased > 0), Invoice.due_date))),
        ).where(daily.chaseable(customer.company_id, as_of), Invoice.customer_id == customer.id)
    ).one()
    oldest_due = daily.as_date(oldest)
    grades = latest_grades(session, company_id=customer.company_id, customer_ids=[customer.id])
    return rules.Segment(
        customer_type=customer.customer_type,
        grade=grades.get(customer.id, ""),
        overdue=int(overdue or 0),
        days_overdue=(as_of - oldest_due).days if oldest_due else 0,
    )


def ladder_positions(session: Session, *, customer: Customer) -> list[LadderPosition]:
    """Each open invoice with the step it last went through and the step that comes next."""
    rows = session.execute(
        select(Invoice, DunningState)
        .outerjoin(DunningState, DunningState.invoice_id == Invoice.id)
        .where(
            Invoice.company_id == customer.company_id,
            Invoice.customer_id == customer.id,
            Invoice.open_amount > 0,
            Invoice.status == InvoiceStatus.OPEN.value,
        )
        .order_by(Invoice.due_date, Invoice.number)
    ).all()
    ladders = load_ladders(session, company_id=customer.company_id) if rows else {}
    return [_position(invoice, state, ladders) for invoice, state in rows]


def _position(
    invoice: Invoice, state: DunningState | None, ladders: dict[int, rules.Ladder]
) -> LadderPosition:
    if state is None:
        return LadderPosition(invoice, None, "", "", "")
    ladder = ladders.get(state.strategy_id)
    if ladder is None:
        return LadderPosition(invoice, state, "", f"{state.last_trigger:+d}", "")
    groups = rules.trigger_groups(ladder.steps)
    last = next((steps for trigger, steps in groups if trigger == state.last_trigger), [])
    following = next((steps for trigger, steps in groups if trigger > state.last_trigger), [])
    return LadderPosition(
        invoice,
        state,
        ladder.code,
        "、".join(s.name for s in last) or f"{state.last_trigger:+d}",
        "、".join(s.name for s in following),
    )


def customer_actions(
    session: Session, *, customer: Customer, recent: int = 100
) -> list[ActionRecord]:
    """The customer's latest actions, each with its deliveries and documents."""
    actions = list(
        session.scalars(
            select(CollectionAction)
            .where(
                CollectionAction.company_id == customer.company_id,
                CollectionAction.customer_id == customer.id,
            )
            .order_by(CollectionAction.as_of.desc(), CollectionAction.id.desc())
            .limit(recent)
        )
    )
    ids = [a.id for a in actions]
    deliveries: dict[int, list[Delivery]] = {}
    documents: dict[int, list[Document]] = {}
    if ids:
        for delivery in session.scalars(
            select(Delivery).where(Delivery.action_id.in_(ids)).order_by(Delivery.id)
        ):
            if delivery.action_id is not None:
                deliveries.setdefault(delivery.action_id, []).append(delivery)
        for document in session.scalars(
            select(Document)
            .options(defer(Document.content))
            .where(Document.action_id.in_(ids))
            .order_by(Document.id)
        ):
            documents.setdefault(document.action_id or 0, []).append(document)
    numbers = action_invoices(session, ids)
    return [
        ActionRecord(a, numbers.get(a.id, ()), deliveries.get(a.id, []), documents.get(a.id, []))
        for a in actions
    ]


def get_document(session: Session, *, company_id: int, document_id: int) -> Document:
    """A kept letter or statement; the caller checks the user may see its customer."""
    document = session.scalar(
        select(Document).where(Document.company_id == company_id, Document.id == document_id)
    )
    if document is None:
        raise NotFound(f"没有文件 {document_id} / no document {document_id}")
    return document


# --- Templates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateRow:
    code: str
    language: str
    channel: str
    subject: str
    own: MessageTemplate | None  # the company's wording, if it has one


def list_templates(session: Session, *, company_id: int) -> list[TemplateRow]:
    """Every template code and language: Huikuan's defaults, each marked when the company has
    its own wording, then the company's own codes."""
    own = {
        (t.code, t.language): t
        for t in session.scalars(
            select(MessageTemplate).where(MessageTemplate.company_id == company_id)
        )
    }
    rows = [
        TemplateRow(t.code, t.language, t.channel, t.subject, own.pop((t.code, t.language), None))
        for t in default_templates()
    ]
    rows += [
        TemplateRow(t.code, t.language, t.channel, t.subject, t)
        for _, t in sorted(own.items(), key=lambda item: item[0])
    ]
    return rows


def find_template(
    session: Session, *, company_id: int, code: str, language: str
) -> tuple[Template, MessageTemplate | None]:
    """The template in force for the code and language (the company's, else the default) and
    the company's row if it has one; NotFound for a code or language that does not exist."""
    own = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.company_id == company_id,
            MessageTemplate.code == code,
            MessageTemplate.language == language,
        )
    )
    if language not in LANGUAGES or (own is None and code not in DEFAULT_CODES):
        raise NotFound(f"模板 {code} ({language}) 不存在 / no template {code} ({language})")
    return template_for(session, company_id=company_id, code=code, language=language), own


def preview_context(
    session: Session, *, customer: Customer, language: str, as_of: dt.date
) -> MessageContext:
    """What a message to this customer would say on ``as_of``: their real open invoices, the
    company's settings, in the template's language."""
    calendar = load_calendar(session, company_id=customer.company_id)
    settings = daily.collection_settings(session, company_id=customer.company_id)
    invoice_ids = session.scalars(
        select(Invoice.id).where(
            Invoice.company_id == customer.company_id,
            Invoice.customer_id == customer.id,
            Invoice.open_amount > 0,
            Invoice.status == InvoiceStatus.OPEN.value,
        )
    ).all()
    context = message_context(
        session,
        customer=customer,
        invoice_ids=invoice_ids,
        as_of=as_of,
        calendar=calendar,
        settings=settings,
        reference=f"HK-{as_of:%Y%m%d}-{customer.code}-PREVIEW",
        sender_name=customer.collector,
    )
    return dataclasses.replace(context, language=language)
