"""The daily run: for one company and business date, decide what happens next for every open
invoice, record it, carry it out, and send what is to be sent.

How it stays fast and safe:

* **SQL does the reading.** One grouped statement gives each customer's chased balance (open
  amount less open disputes, leaving out invoices under a payment plan in good standing or a
  promise not yet due); the invoices are then read customer range by customer range, and only
  those with something possibly due: new invoices near their due date, and those whose
  ``dunning_state.next_check_on`` has come.
* **One transaction per range of customers.** A run that dies half-way has committed whole
  ranges and nothing else; running it again finds those invoices already moved up their ladder
  (and the day's actions in place) and finishes the rest. Nothing is done twice: an action is
  unique per customer, step and day, an invoice goes through a step once, and a message has a
  fixed ``message_id``.
* **Sending comes last** (``collections/sending.py``), from the deliveries recorded: a send
  interrupted after the message left is marked *uncertain* for a person, never repeated blindly.

Nothing here reads the clock: ``as_of`` is the business date and ``now`` the moment of the run
(for quiet hours), both given by the caller.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections import rules
from huikuan.collections.models import (
    CollectionAction,
    CollectionActionItem,
    CollectionSettings,
    DailyRun,
    Dispute,
    DoNotContact,
    DunningState,
    PaymentPlan,
    PaymentPlanInvoice,
    PromiseInvoice,
    PromiseToPay,
)
from huikuan.collections.sending import Transports
from huikuan.collections.strategies import load_assignment, load_ladders
from huikuan.core.audit import Actor
from huikuan.core.calendar import load_calendar
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict
from huikuan.core.models import Company
from huikuan.core.workdays import WorkCalendar
from huikuan.credit.service import latest_grades
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice, InvoiceStatus

CUSTOMERS_PER_BATCH = 2000
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class RunSummary:
    """What a run did (or, dry, would do): the figures the command prints and the page shows."""

    as_of: str
    dry_run: bool
    working_day: bool = True
    holiday: str = ""
    calendar_unknown_years: list[int] = field(default_factory=list)
    customers: int = 0  # customers with a chased balance
    invoices_evaluated: int = 0
    actions: dict[str, int] = field(default_factory=dict)  # channel -> count
    amounts: dict[str, int] = field(default_factory=dict)  # channel -> fen covered
    invoices_moved: int = 0
    deferred_by_cap: int = 0
    already_done_today: int = 0
    not_chased: dict[str, int] = field(default_factory=dict)  # reason -> invoices
    holds_placed: int = 0
    holds_released: int = 0
    referrals: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> count
    errors: list[str] = field(default_factory=list)
    # plans, promises, claims, late fees, customer statements
    desk: dict[str, int] = field(default_factory=dict)

    def count(self, action: rules.PlannedAction) -> None:
        channel = action.step.channel.value
        self.actions[channel] = self.actions.get(channel, 0) + 1
        self.amounts[channel] = self.amounts.get(channel, 0) + action.amount

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


Decision = tuple[int | None, tuple[rules.Step, ...], rules.LadderState | None, dt.date | None]


@dataclass(frozen=True, slots=True)
class RunContext:
    """What every batch of the run needs, loaded once."""

    company_id: int
    as_of: dt.date
    now: dt.datetime
    actor: Actor
    dry_run: bool
    calendar: WorkCalendar
    settings: CollectionSettings
    ladders: dict[int, rules.Ladder]
    assigned: dict[int, int]  # customer id -> strategy id
    grades: dict[int, str]
    balances: dict[int, int]  # customer id -> chased open balance, fen
    settlement_days: dict[int, int | None]
    do_not_contact: frozenset[int]
    # Invoices with the same ladder, due date, settlement day and place on the ladder get the
    # same decision, so it is made once per run (per customer too when a step has conditions).
    decisions: dict[tuple[object, ...], Decision] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candidate:
    invoice_id: int
    customer_id: int
    due_date: dt.date
    chased: int
    state: rules.LadderState | None
    state_strategy: int | None


def run_daily(
    factory: sessionmaker[Session],
    *,
    company_id: int,
    as_of: dt.date,
    now: dt.datetime,
    actor: Actor,
    dry_run: bool = False,
    send: bool = True,
    transports: Transports | None = None,
    progress: Progress | None = None,
    takeover: bool = False,
) -> RunSummary:
    """Run the day. ``dry_run`` decides everything and writes nothing; ``send=False`` records
    the messages without sending them (``huikuan send`` sends them later)."""
    from huikuan.collections import effects, sending  # they import this module's types

    summary = RunSummary(as_of=as_of.isoformat(), dry_run=dry_run)
    run_id = None
    if not dry_run:
        with unit_of_work(factory) as session:
            run_id = _start(session, company_id, as_of, now, actor, takeover)
    try:
        if not dry_run:
            with unit_of_work(factory) as session:
                _desk_checks(session, company_id, as_of, actor, summary)
            with unit_of_work(factory) as session:
                _statements(session, company_id, as_of, now, actor, summary)
        with unit_of_work(factory) as session:
            context = _load_context(session, company_id, as_of, now, actor, dry_run, summary)
        if summary.working_day:
            _evaluate_all(factory, context, run_id, summary, progress, effects.carry_out)
            if not dry_run:
                with unit_of_work(factory) as session:
                    summary.holds_released = effects.release_cleared_holds(
                        session, company_id=company_id, as_of=as_of, actor=actor
                    )
        if send and not dry_run and summary.working_day:
            sent = sending.send_due(factory, company_id=company_id, now=now, transports=transports)
            summary.deliveries = sent
    except BaseException:
        if run_id is not None:
            _finish(factory, run_id, summary, now, status="failed")
        raise
    if run_id is not None:
        _finish(factory, run_id, summary, now, status="finished")
    return summary


def _load_context(
    session: Session,
    company_id: int,
    as_of: dt.date,
    now: dt.datetime,
    actor: Actor,
    dry_run: bool,
    summary: RunSummary,
) -> RunContext:
    calendar = load_calendar(session, company_id=company_id)
    summary.calendar_unknown_years = calendar.unknown_years([as_of])
    summary.working_day = calendar.is_workday(as_of)
    summary.holiday = calendar.holiday_name(as_of)
    settings = collection_settings(session, company_id=company_id)
    balances, oldest = _chased_balances(session, company_id, as_of)
    summary.customers = len(balances)
    customers = _customer_facts(session, company_id, list(balances))
    grades = _grades(session, company_id, list(balances))
    summary.not_chased.update(_held_back(session, company_id, as_of))
    assigned = _assign(session, company_id, as_of, balances, oldest, customers, grades)
    return RunContext(
        company_id=company_id,
        as_of=as_of,
        now=now,
        actor=actor,
        dry_run=dry_run,
        calendar=calendar,
        settings=settings,
        ladders=load_ladders(session, company_id=company_id),
        assigned=assigned,
        grades=grades,
        balances={c: b for c, (b, _) in balances.items()},
        settlement_days={c: facts[1] for c, facts in customers.items()},
        do_not_contact=_do_not_contact(session, company_id, as_of),
    )


def _grades(session: Session, company_id: int, customer_ids: list[int]) -> dict[int, str]:
    grades: dict[int, str] = {}
    for chunk in _chunks(sorted(customer_ids), 5000):  # SQLite takes 32,766 parameters at most
        grades.update(latest_grades(session, company_id=company_id, customer_ids=chunk))
    return grades


def _held_back(session: Session, company_id: int, as_of: dt.date) -> dict[str, int]:
    """How many open invoices are left alone today, and why (for the summary)."""
    open_invoice = and_(
        Invoice.company_id == company_id,
        Invoice.open_amount > 0,
        Invoice.status == InvoiceStatus.OPEN.value,
    )
    reasons = {
        "dispute": select(func.count(func.distinct(Dispute.invoice_id)))
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .where(open_invoice, Dispute.status == "open"),
        "payment_plan": select(func.count(func.distinct(PaymentPlanInvoice.invoice_id)))
        .join(PaymentPlan, PaymentPlan.id == PaymentPlanInvoice.plan_id)
        .join(Invoice, Invoice.id == PaymentPlanInvoice.invoice_id)
        .where(open_invoice, PaymentPlan.status == "active"),
        "promise": select(func.count(func.distinct(PromiseInvoice.invoice_id)))
        .join(PromiseToPay, PromiseToPay.id == PromiseInvoice.promise_id)
        .join(Invoice, Invoice.id == PromiseInvoice.invoice_id)
        .where(open_invoice, PromiseToPay.status == "open"),
    }
    counted = {reason: int(session.scalar(query) or 0) for reason, query in reasons.items()}
    return {reason: n for reason, n in counted.items() if n}


def collection_settings(session: Session, *, company_id: int) -> CollectionSettings:
    found = session.get(CollectionSettings, company_id)
    if found is None:
        found = CollectionSettings(company_id=company_id)
        session.add(found)
        session.flush()
    return found


def chased_amount() -> ColumnElement[int]:
    """The open amount we may chase on an invoice: open amount less open disputes."""
    disputed = (
        select(func.coalesce(func.sum(Dispute.amount), 0))
        .where(Dispute.invoice_id == Invoice.id, Dispute.status == "open")
        .scalar_subquery()
    )
    remaining = Invoice.open_amount - disputed
    return case((remaining > 0, remaining), else_=0)


def chaseable(company_id: int, as_of: dt.date) -> ColumnElement[bool]:
    """Invoices under a payment plan in good standing or a promise not yet due are left alone."""
    in_plan = exists().where(
        PaymentPlanInvoice.invoice_id == Invoice.id,
        PaymentPlan.id == PaymentPlanInvoice.plan_id,
        PaymentPlan.status == "active",
    )
    promised = exists().where(
        PromiseInvoice.invoice_id == Invoice.id,
        PromiseToPay.id == PromiseInvoice.promise_id,
        # Open until judged at the start of the run, grace included (promises.check_promises).
        PromiseToPay.status == "open",
    )
    return and_(
        Invoice.company_id == company_id,
        Invoice.open_amount > 0,
        Invoice.status == InvoiceStatus.OPEN.value,
        ~in_plan,
        ~promised,
    )


def _chased_balances(
    session: Session, company_id: int, as_of: dt.date
) -> tuple[dict[int, tuple[int, int]], dict[int, dt.date | None]]:
    """Per customer: (chased open balance, chased overdue balance) and the oldest overdue
    due date, in one grouped statement."""
    chased = chased_amount()
    overdue = case((Invoice.due_date < as_of, chased), else_=0)
    oldest = func.min(case((and_(Invoice.due_date < as_of, chased > 0), Invoice.due_date)))
    rows = session.execute(
        select(Invoice.customer_id, func.sum(chased), func.sum(overdue), oldest)
        .where(chaseable(company_id, as_of))
        .group_by(Invoice.customer_id)
        .having(func.sum(chased) > 0)
    ).all()
    balances = {row[0]: (int(row[1]), int(row[2])) for row in rows}
    oldest_due = {row[0]: as_date(row[3]) for row in rows}
    return balances, oldest_due


def as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))  # SQLite returns MIN() over dates as text


def _customer_facts(
    session: Session, company_id: int, customer_ids: Sequence[int]
) -> dict[int, tuple[str, int | None]]:
    facts: dict[int, tuple[str, int | None]] = {}
    for chunk in _chunks(sorted(customer_ids), 5000):
        rows = session.execute(
            select(Customer.id, Customer.customer_type, Customer.settlement_day).where(
                Customer.company_id == company_id, Customer.id.in_(chunk)
            )
        )
        facts.update({cid: (kind, day) for cid, kind, day in rows})
    return facts


def _assign(
    session: Session,
    company_id: int,
    as_of: dt.date,
    balances: dict[int, tuple[int, int]],
    oldest: dict[int, dt.date | None],
    customers: dict[int, tuple[str, int | None]],
    grades: dict[int, str],
) -> dict[int, int]:
    assignment_rules, overrides, default = load_assignment(session, company_id=company_id)
    assigned: dict[int, int] = {}
    for customer_id, (_, overdue) in balances.items():
        due = oldest.get(customer_id)
        segment = rules.Segment(
            customer_type=customers.get(customer_id, ("other", None))[0],
            grade=grades.get(customer_id, ""),
            overdue=overdue,
            days_overdue=(as_of - due).days if due else 0,
        )
        chosen = rules.assign_strategy(
            segment, assignment_rules, override=overrides.get(customer_id), default=default
        )
        if chosen is not None:
            assigned[customer_id] = chosen
    return assigned


def _do_not_contact(session: Session, company_id: int, as_of: dt.date) -> frozenset[int]:
    return frozenset(
        session.scalars(
            select(DoNotContact.customer_id).where(
                DoNotContact.company_id == company_id,
                DoNotContact.starts_on <= as_of,
                or_(DoNotContact.ends_on.is_(None), DoNotContact.ends_on >= as_of),
                DoNotContact.lifted_on.is_(None),
            )
        )
    )


def _desk_checks(
    session: Session, company_id: int, as_of: dt.date, actor: Actor, summary: RunSummary
) -> None:
    """What the collector's desk decides from the money received, before the ladder is read:
    plans kept or defaulted, promises kept or broken (both escalate their invoices), claimed
    payments verified, and the late fees of the months closed since the last run. Each is
    idempotent, so a second run of the day finds nothing more to do."""
    from huikuan.collections.contact_log import check_follow_ups
    from huikuan.collections.late_fees import charge_late_fees
    from huikuan.collections.plans import check_plans
    from huikuan.collections.promises import check_promises

    plans = check_plans(session, company_id=company_id, as_of=as_of, actor=actor)
    promises = check_promises(session, company_id=company_id, as_of=as_of, actor=actor)
    claims = check_follow_ups(session, company_id=company_id, as_of=as_of, actor=actor)
    fees = charge_late_fees(session, company_id=company_id, as_of=as_of, actor=actor)
    summary.desk = {
        "plans_defaulted": plans.defaulted,
        "plans_completed": plans.completed,
        "promises_kept": promises.judged.get("kept", 0),
        "promises_partly": promises.judged.get("partly", 0),
        "promises_broken": promises.judged.get("broken", 0),
        "payment_claims_not_held": sum(1 for c in claims if not c.held),
        "late_fee_charges": fees.charges,
        "late_fee_amount": fees.amount,
    }


def _statements(
    session: Session,
    company_id: int,
    as_of: dt.date,
    now: dt.datetime,
    actor: Actor,
    summary: RunSummary,
) -> None:
    """Customer statements whose scheduled day has come: issued and queued for the sending
    pass of this run (idempotent: one per customer and period)."""
    from huikuan.reconciliation.statements import send_scheduled  # reconciliation reads us

    run = send_scheduled(session, actor=actor, company_id=company_id, as_of=as_of, now=now)
    summary.desk["statements_issued"] = run.issued
    summary.desk["statements_queued"] = run.queued
    summary.desk["statements_without_email"] = len(run.no_email or [])


def _start(
    session: Session,
    company_id: int,
    as_of: dt.date,
    now: dt.datetime,
    actor: Actor,
    takeover: bool,
) -> int:
    """Record the run; refuse while another run of the company is in progress. The company
    row is locked first, so two runs starting at the same moment queue here on PostgreSQL and
    the second sees the first. A run killed outright (power cut) stays "running": a person who
    knows it is dead takes over (``takeover``), which marks it abandoned; nothing it committed
    is lost or repeated."""
    session.scalar(select(Company.id).where(Company.id == company_id).with_for_update())
    running = session.scalar(
        select(DailyRun)
        .where(DailyRun.company_id == company_id, DailyRun.status == "running")
        .with_for_update()
    )
    if running is not None and takeover:
        running.status = "abandoned"
    elif running is not None:
        raise Conflict(
            f"另一次日常任务（{running.as_of.isoformat()}，{running.started_at:%H:%M} 开始）仍在运行；"
            "如确认它已中止，请加 --takeover / "
            f"another daily run ({running.as_of.isoformat()}, started {running.started_at:%H:%M}) is still running; "
            "if you know it died, add --takeover"
        )
    run = DailyRun(
        company_id=company_id,
        as_of=as_of,
        dry_run=False,
        status="running",
        started_at=now.replace(tzinfo=None),
        started_by=actor.name,
    )
    session.add(run)
    session.flush()
    return run.id


def _finish(
    factory: sessionmaker[Session],
    run_id: int,
    summary: RunSummary,
    now: dt.datetime,
    *,
    status: str,
) -> None:
    with unit_of_work(factory) as session:
        run = session.get_one(DailyRun, run_id)
        run.status, run.summary = status, summary.to_json()
        run.finished_at = now.replace(tzinfo=None)


# --- Evaluating the invoices ----------------------------------------------------------------


CarryOut = Callable[[Session, RunContext, int | None, rules.PlannedAction, RunSummary], None]


def _evaluate_all(
    factory: sessionmaker[Session],
    context: RunContext,
    run_id: int | None,
    summary: RunSummary,
    progress: Progress | None,
    carry_out: CarryOut,
) -> None:
    customers = sorted(context.assigned)
    changed = _strategy_changed(factory, context)
    done = 0
    for chunk in _chunks(customers, CUSTOMERS_PER_BATCH):
        with unit_of_work(factory) as session:
            candidates = _candidates(session, context, chunk[0], chunk[-1], changed)
            _evaluate_batch(session, context, run_id, candidates, summary, carry_out)
            if context.dry_run:
                session.rollback()
        done += len(chunk)
        if progress:
            progress(done, len(customers))


def _strategy_changed(factory: sessionmaker[Session], context: RunContext) -> frozenset[int]:
    """Customers with invoices on a ladder other than the one they follow today: their
    invoices are all looked at again, whatever their next check date."""
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(Invoice.customer_id, DunningState.strategy_id)
            .join(DunningState, DunningState.invoice_id == Invoice.id)
            .where(Invoice.company_id == context.company_id, Invoice.open_amount > 0)
            .group_by(Invoice.customer_id, DunningState.strategy_id)
        ).all()
    return frozenset(c for c, s in rows if context.assigned.get(c, s) != s)


def _horizon(context: RunContext) -> dt.date:
    """New invoices due after this date cannot have a step today: the earliest pre-due step
    (in working days, so allow for a week of holidays) plus a settlement month."""
    lead = 0
    for ladder in context.ladders.values():
        for step in ladder.steps:
            days = -step.trigger_days * (2 if step.working_days else 1) + (
                10 if step.working_days else 0
            )
            if step.anchor is rules.Anchor.SETTLEMENT:
                days += 31
            lead = max(lead, days)
    return context.as_of + dt.timedelta(days=lead)


def _candidates(
    session: Session, context: RunContext, first: int, last: int, changed: frozenset[int]
) -> list[Candidate]:
    chased = chased_amount()
    in_range = [c for c in changed if first <= c <= last]
    due_now = or_(
        and_(DunningState.invoice_id.is_(None), Invoice.due_date <= _horizon(context)),
        DunningState.next_check_on <= context.as_of,
        Invoice.customer_id.in_(in_range),
    )
    rows = session.execute(
        select(
            Invoice.id,
            Invoice.customer_id,
            Invoice.due_date,
            chased,
            DunningState.last_trigger,
            DunningState.not_before,
            DunningState.strategy_id,
        )
        .outerjoin(DunningState, DunningState.invoice_id == Invoice.id)
        .where(
            chaseable(context.company_id, context.as_of),
            Invoice.customer_id.between(first, last),
            due_now,
        )
        .order_by(Invoice.customer_id, Invoice.id)
    ).all()
    return [
        Candidate(
            invoice_id=row[0],
            customer_id=row[1],
            due_date=as_date(row[2]) or context.as_of,
            chased=int(row[3]),
            state=rules.LadderState(row[4], as_date(row[5]) or context.as_of)
            if row[4] is not None
            else None,
            state_strategy=row[6],
        )
        for row in rows
    ]


def _evaluate_batch(
    session: Session,
    context: RunContext,
    run_id: int | None,
    candidates: list[Candidate],
    summary: RunSummary,
    carry_out: CarryOut,
) -> None:
    done_today = _actions_today(session, context, {c.customer_id for c in candidates})
    contacts = _contacts_this_week(session, context, {c.customer_id for c in candidates})
    for customer_id, group in _by_customer(candidates):
        summary.invoices_evaluated += len(group)
        if customer_id in context.do_not_contact:
            _not_chased(summary, "do_not_contact", len(group))
            continue
        moves = _plan_customer(context, customer_id, group)
        items = [item for move in moves for item in move.items]
        planned = rules.group_by_customer_step(items)
        repeated = [a for a in planned if (customer_id, a.step.id) in done_today]
        summary.already_done_today += sum(len(a.invoice_ids) for a in repeated)
        planned = [a for a in planned if (customer_id, a.step.id) not in done_today]
        taken, deferred = rules.within_cap(
            planned,
            contacts_this_week=contacts.get(customer_id, 0),
            cap=context.settings.contacts_per_week,
        )
        held = {i for a in deferred + repeated for i in a.invoice_ids}
        summary.deferred_by_cap += len({i for a in deferred for i in a.invoice_ids})
        for action in taken:
            summary.count(action)
            carry_out(session, context, run_id, action, summary)
        _save_states(session, context, [m for m in moves if m.invoice_id not in held], summary)


@dataclass(frozen=True, slots=True)
class Move:
    """An invoice's move up its ladder today (``items`` empty when a step is passed over, or
    when only its next check date changes)."""

    invoice_id: int
    strategy_id: int
    new_state: rules.LadderState | None
    next_check_on: dt.date | None
    items: tuple[rules.DueItem, ...]
    is_new: bool
    stepped: bool = False  # moved up its ladder (or passed a group over) today


def _plan_customer(context: RunContext, customer_id: int, group: list[Candidate]) -> list[Move]:
    strategy_id = context.assigned[customer_id]
    ladder = context.ladders.get(strategy_id)
    if ladder is None:
        return []
    facts_day = context.settlement_days.get(customer_id)
    balance = context.balances.get(customer_id, 0)
    grade = context.grades.get(customer_id, "")
    personal = (balance, grade) if _conditional(ladder) else None
    moves = []
    for candidate in group:
        facts = rules.InvoiceFacts(candidate.due_date, facts_day)
        key = (strategy_id, facts, candidate.state, personal)
        decision = context.decisions.get(key)
        if decision is None:
            found = rules.due_group(
                ladder,
                facts,
                candidate.state,
                as_of=context.as_of,
                calendar=context.calendar,
                chased_balance=balance,
                grade=grade,
            )
            decision = context.decisions[key] = _decide(context, ladder, facts, candidate, found)
        moves.append(_move(ladder, candidate, decision))
    return moves


def _conditional(ladder: rules.Ladder) -> bool:
    return any(
        s.min_amount is not None or s.max_amount is not None or s.grades for s in ladder.steps
    )


def _decide(
    context: RunContext,
    ladder: rules.Ladder,
    facts: rules.InvoiceFacts,
    candidate: Candidate,
    found: tuple[int, list[rules.Step]] | None,
) -> Decision:
    state = candidate.state
    trigger: int | None = None
    steps: tuple[rules.Step, ...] = ()
    if found is not None:
        trigger, steps = found[0], tuple(found[1])
        wait = max((s.wait_days for s in steps), default=0)
        state = rules.LadderState(trigger, context.as_of + dt.timedelta(days=wait))
    check = rules.next_check(ladder, facts, state, context.calendar) if state else None
    return trigger, steps, state, check


def _move(ladder: rules.Ladder, candidate: Candidate, decision: Decision) -> Move:
    trigger, steps, state, check = decision
    return Move(
        invoice_id=candidate.invoice_id,
        strategy_id=ladder.strategy_id,
        new_state=state,
        next_check_on=check,
        items=tuple(
            rules.DueItem(candidate.customer_id, candidate.invoice_id, s, candidate.chased)
            for s in steps
        ),
        is_new=candidate.state is None,
        stepped=trigger is not None,
    )


def _save_states(
    session: Session, context: RunContext, moves: list[Move], summary: RunSummary
) -> None:
    """In three statements per batch, not one per invoice: the candidates already say which
    invoices have a state row."""
    new: list[dict[str, object]] = []
    stepped: list[dict[str, object]] = []
    checked: list[dict[str, object]] = []
    for move in moves:
        if move.new_state is None:
            continue  # a new invoice with nothing due yet: looked at again near its due date
        if move.items:
            summary.invoices_moved += 1
        if context.dry_run:
            continue
        row: dict[str, object] = {
            "invoice_id": move.invoice_id,
            "strategy_id": move.strategy_id,
            "last_trigger": move.new_state.last_trigger,
            "not_before": move.new_state.not_before,
            "next_check_on": move.next_check_on,
        }
        if move.is_new:
            new.append(row | {"company_id": context.company_id, "last_step_on": context.as_of})
        elif move.stepped:
            stepped.append(row | {"last_step_on": context.as_of})
        else:
            checked.append(row)
    session.flush()
    if new:
        session.execute(insert(DunningState), new)
    for rows in (stepped, checked):
        if rows:
            session.execute(update(DunningState), rows)


def _by_customer(candidates: list[Candidate]) -> Iterator[tuple[int, list[Candidate]]]:
    group: list[Candidate] = []
    for candidate in candidates:
        if group and group[0].customer_id != candidate.customer_id:
            yield group[0].customer_id, group
            group = []
        group.append(candidate)
    if group:
        yield group[0].customer_id, group


def _actions_today(
    session: Session, context: RunContext, customer_ids: set[int]
) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(customer_ids), 5000):
        found.update(
            session.execute(
                select(CollectionAction.customer_id, CollectionAction.step_id).where(
                    CollectionAction.company_id == context.company_id,
                    CollectionAction.as_of == context.as_of,
                    CollectionAction.customer_id.in_(chunk),
                )
            ).all()
        )
    return found


def _contacts_this_week(
    session: Session, context: RunContext, customer_ids: set[int]
) -> dict[int, int]:
    """Customer contacts already made this calendar week (before today's run)."""
    counted: dict[int, int] = {}
    channels = [c.value for c in rules.CUSTOMER_CONTACT]
    for chunk in _chunks(sorted(customer_ids), 5000):
        rows = session.execute(
            select(CollectionAction.customer_id, func.count())
            .where(
                CollectionAction.company_id == context.company_id,
                CollectionAction.as_of >= rules.week_start(context.as_of),
                CollectionAction.as_of <= context.as_of,
                CollectionAction.channel.in_(channels),
                CollectionAction.status != "skipped",
                CollectionAction.customer_id.in_(chunk),
            )
            .group_by(CollectionAction.customer_id)
        )
        counted.update({cid: int(n) for cid, n in rows})
    return counted


def _not_chased(summary: RunSummary, reason: str, count: int) -> None:
    summary.not_chased[reason] = summary.not_chased.get(reason, 0) + count


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def record_items(
    session: Session, context: RunContext, action: CollectionAction, planned: rules.PlannedAction
) -> None:
    """The invoices an action covers, with their open amounts today."""
    amounts: dict[int, int] = dict(
        session.execute(
            select(Invoice.id, chased_amount()).where(Invoice.id.in_(planned.invoice_ids))
        ).all()
    )
    session.add_all(
        CollectionActionItem(
            company_id=context.company_id,
            action_id=action.id,
            invoice_id=invoice_id,
            step_id=planned.step.id,
            open_amount=int(amounts.get(invoice_id, 0)),
        )
        for invoice_id in planned.invoice_ids
    )
