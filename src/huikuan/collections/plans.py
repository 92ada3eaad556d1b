"""Payment plans: instalments agreed for a customer's overdue invoices.

A plan is recorded as ``proposed`` (``agree_plan``) and takes effect only when another person
who may manage credit approves it (``decide_plan``: ``active``, or ``rejected``); the one who
recorded it cannot. Until then its invoices stay on the ladder and it waives no late fee.
While a plan is ``active`` its invoices are left out of the daily run (``daily.chaseable``).
``check_plans`` judges the instalments from the money that reduced the plan's invoices since
the agreement (live allocations of payments and credit notes, oldest instalment first; see
``plan_rules``). A missed instalment defaults the plan and sends its invoices back to the
ladder **escalated**: their dunning state is set so the next daily run takes the next step
that has come due at once, without waiting out the wait of the last step taken. A plan paid in
full is completed. Cancelling a plan returns its invoices to the ladder where they stood.

Decisions: an invoice with an open dispute cannot join a plan (resolve the dispute first, or
leave the invoice out), so the plan's balance is simply the invoices' open amount; nor can an
invoice in another proposed or active plan. An approved plan keeps the agreement date and the
schedule as proposed: an instalment already past is judged by ``check_plans`` as any other. Interest
is shown on the schedule; instalments are judged on principal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from huikuan.collections import plan_rules as rules
from huikuan.collections.models import (
    Dispute,
    DunningState,
    PaymentPlan,
    PaymentPlanInvoice,
    PlanInstalment,
)
from huikuan.collections.promises import promise_grace
from huikuan.core.audit import Actor, record_change
from huikuan.core.calendar import load_calendar
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.customers.models import Customer
from huikuan.ledger.models import Allocation, Invoice, InvoiceStatus


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """Either dates with explicit amounts, or dates alone (equal shares; see plan_rules)."""

    dates: tuple[dt.date, ...]
    amounts: tuple[int, ...] | None = None

    @classmethod
    def equal(cls, first: dt.date, count: int, frequency: str = "monthly") -> ScheduleRequest:
        return cls(rules.equal_dates(first, count, rules.Frequency(frequency)))


# The plans that hold their invoices: another plan cannot take them.
HOLDING = (rules.PlanStatus.PROPOSED.value, rules.PlanStatus.ACTIVE.value)


def agree_plan(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    invoice_numbers: Sequence[str],
    schedule: ScheduleRequest,
    annual_interest_bp: int = 0,
    waive_late_fees: bool = False,
    agreed_on: dt.date,
    note: str = "",
) -> PaymentPlan:
    """Record instalments agreed for open invoices of one customer, as ``proposed``: they hold
    nothing back until another person who may manage credit approves them (``decide_plan``)."""
    if not invoice_numbers:
        raise InvalidInput("请至少选择一张发票 / name at least one invoice")
    if len(set(invoice_numbers)) != len(invoice_numbers):
        raise InvalidInput("同一发票填写了两次 / the same invoice twice")
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.company_id == company_id, Invoice.number.in_(list(invoice_numbers)))
            .order_by(Invoice.id)
            .with_for_update()
        )
    )
    found = {i.number for i in invoices}
    missing = [n for n in invoice_numbers if n not in found]
    if missing:
        raise NotFound(f"没有发票 {', '.join(missing)} / no invoice {', '.join(missing)}")
    for invoice in invoices:
        if invoice.customer_id != customer.id:
            raise InvalidInput(
                f"发票 {invoice.number} 不属于客户 {customer.code} / "
                f"invoice {invoice.number} is not {customer.code}'s"
            )
        if invoice.status != InvoiceStatus.OPEN.value or invoice.open_amount <= 0:
            raise Conflict(f"发票 {invoice.number} 已结清 / invoice {invoice.number} is settled")
    ids = [i.id for i in invoices]
    planned = session.scalars(
        select(Invoice.number)
        .join(PaymentPlanInvoice, PaymentPlanInvoice.invoice_id == Invoice.id)
        .join(PaymentPlan, PaymentPlan.id == PaymentPlanInvoice.plan_id)
        .where(Invoice.id.in_(ids), PaymentPlan.status.in_(HOLDING))
    ).all()
    if planned:
        raise Conflict(
            f"发票 {', '.join(planned)} 已在另一个待审批或履行中的还款计划中 / "
            "already in a proposed or active plan"
        )
    disputed = session.scalars(
        select(Invoice.number)
        .join(Dispute, Dispute.invoice_id == Invoice.id)
        .where(Invoice.id.in_(ids), Dispute.status == "open")
        .distinct()
    ).all()
    if disputed:
        raise Conflict(
            f"发票 {', '.join(disputed)} 有未决争议，请先处理 / "
            "has an open dispute: resolve it first or leave the invoice out"
        )
    balance = sum(i.open_amount for i in invoices)
    try:
        instalments = rules.build_schedule(
            balance,
            agreed_on=agreed_on,
            dates=schedule.dates,
            amounts=schedule.amounts,
            annual_interest_bp=annual_interest_bp,
        )
    except rules.ScheduleError as exc:
        raise InvalidInput(exc.message) from None
    plan = PaymentPlan(
        company_id=company_id,
        customer_id=customer.id,
        agreed_on=agreed_on,
        status=rules.PlanStatus.PROPOSED.value,
        note=note,
        annual_interest_bp=annual_interest_bp,
        waive_late_fees=waive_late_fees,
        recorded_by=actor.name,
    )
    session.add(plan)
    session.flush()
    session.add_all(
        PaymentPlanInvoice(plan_id=plan.id, invoice_id=i, company_id=company_id) for i in ids
    )
    session.add_all(
        PlanInstalment(
            company_id=company_id,
            plan_id=plan.id,
            due_on=x.due_on,
            amount=x.amount,
            interest=x.interest,
        )
        for x in instalments
    )
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="payment_plan", entity_id=plan.id,
        action="create", after={
            "customer": customer.code, "invoices": list(invoice_numbers), "balance": balance,
            "agreed_on": agreed_on, "status": plan.status,
            "annual_interest_bp": annual_interest_bp, "waive_late_fees": waive_late_fees,
            "instalments": [[x.due_on, x.amount, x.interest] for x in instalments],
            "note": note,
        },
    )  # fmt: skip
    return plan


def decide_plan(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    plan_id: int,
    approve: bool,
    note: str = "",
    decided_on: dt.date,
) -> PaymentPlan:
    """Approve a proposed plan (it becomes ``active``, approved by the actor) or reject it.
    The person who recorded the plan cannot decide it; a plan is decided once."""
    plan = session.scalar(
        select(PaymentPlan)
        .where(PaymentPlan.company_id == company_id, PaymentPlan.id == plan_id)
        .with_for_update()
    )
    if plan is None:
        raise NotFound(f"没有还款计划 #{plan_id} / no payment plan #{plan_id}")
    if plan.status != rules.PlanStatus.PROPOSED.value:
        raise Conflict(
            f"还款计划 #{plan_id} 状态为 {plan.status}，不是待审批 / "
            f"plan #{plan_id} is {plan.status}, not waiting for approval"
        )
    if actor.same_person(plan.recorded_by):
        raise Conflict(
            "不能审批自己录入的还款计划，请另一位信用经理审批 / "
            "you cannot approve a plan you recorded: another credit manager must"
        )
    before = {"status": plan.status, "approved_by": plan.approved_by}
    if approve:
        plan.status = rules.PlanStatus.ACTIVE.value
        plan.approved_by = actor.name
    else:
        plan.status = rules.PlanStatus.REJECTED.value
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="payment_plan", entity_id=plan.id,
        action="approve" if approve else "reject", before=before,
        after={"status": plan.status, "approved_by": plan.approved_by, "decided_on": decided_on,
               "note": note.strip()},
    )  # fmt: skip
    return plan


@dataclass(frozen=True, slots=True)
class PlanCheck:
    checked: int
    kept: int
    completed: int
    defaulted: int
    invoices_escalated: int


def _received(session: Session, company_id: int, plan_ids: list[int], as_of: dt.date) -> dict[int, int]:  # fmt: skip
    """Per plan, what reduced its invoices since the agreement and by ``as_of`` (one query)."""
    live = or_(Allocation.reversed_on.is_(None), Allocation.reversed_on > as_of)
    rows = session.execute(
        select(PaymentPlan.id, func.coalesce(func.sum(Allocation.amount), 0))
        .join(PaymentPlanInvoice, PaymentPlanInvoice.plan_id == PaymentPlan.id)
        .join(
            Allocation,
            and_(
                Allocation.invoice_id == PaymentPlanInvoice.invoice_id,
                Allocation.effective_on >= PaymentPlan.agreed_on,
                Allocation.effective_on <= as_of,
                live,
            ),
        )
        .where(PaymentPlan.company_id == company_id, PaymentPlan.id.in_(plan_ids))
        .group_by(PaymentPlan.id)
    ).all()
    return {row[0]: int(row[1]) for row in rows}


def check_plans(
    session: Session,
    *,
    company_id: int,
    as_of: dt.date,
    actor: Actor,
    grace_workdays: int | None = None,
) -> PlanCheck:
    """Judge every active plan on ``as_of`` (see the module text); returns the counts. The grace
    is the company's promise grace unless given."""
    if grace_workdays is None:
        grace_workdays = promise_grace(session, company_id=company_id)
    if grace_workdays < 0:
        raise InvalidInput("宽限工作日不能为负 / grace working days cannot be negative")
    plans = list(
        session.scalars(
            select(PaymentPlan)
            .where(
                PaymentPlan.company_id == company_id,
                PaymentPlan.status == rules.PlanStatus.ACTIVE.value,
                PaymentPlan.agreed_on <= as_of,
            )
            .order_by(PaymentPlan.id)
            .with_for_update()
        )
    )
    if not plans:
        return PlanCheck(0, 0, 0, 0, 0)
    ids = [p.id for p in plans]
    instalments: dict[int, list[PlanInstalment]] = {i: [] for i in ids}
    for row in session.scalars(
        select(PlanInstalment)
        .where(PlanInstalment.plan_id.in_(ids))
        .order_by(PlanInstalment.plan_id, PlanInstalment.due_on)
    ):
        instalments[row.plan_id].append(row)
    received = _received(session, company_id, ids, as_of)
    calendar = load_calendar(session, company_id=company_id)
    counts = {s: 0 for s in rules.PlanStatus}
    escalated = 0
    for plan in plans:
        rows = instalments[plan.id]
        judged = rules.judge(
            [rules.Instalment(r.due_on, r.amount, r.interest) for r in rows],
            received.get(plan.id, 0),
            as_of=as_of,
            calendar=calendar,
            grace_workdays=grace_workdays,
        )
        for row, verdict in zip(rows, judged, strict=True):
            row.paid, row.status = verdict.paid, verdict.status.value
        status = rules.plan_status(judged)
        counts[status] += 1
        if status is rules.PlanStatus.ACTIVE:
            continue
        plan.status = status.value
        if status is rules.PlanStatus.DEFAULTED:
            plan.defaulted_on = as_of
            escalated += _back_to_ladder(session, plan, as_of, escalate=True)
        record_change(
            session, actor=actor, company_id=company_id, entity="payment_plan",
            entity_id=plan.id, action=status.value,
            before={"status": rules.PlanStatus.ACTIVE.value},
            after={
                "status": status.value, "as_of": as_of, "received": received.get(plan.id, 0),
                "missed": [
                    r.due_on for r, j in zip(rows, judged, strict=True)
                    if j.status is rules.InstalmentStatus.MISSED
                ],
            },
        )  # fmt: skip
    session.flush()
    return PlanCheck(
        checked=len(plans),
        kept=counts[rules.PlanStatus.ACTIVE],
        completed=counts[rules.PlanStatus.COMPLETED],
        defaulted=counts[rules.PlanStatus.DEFAULTED],
        invoices_escalated=escalated,
    )


def _back_to_ladder(session: Session, plan: PaymentPlan, day: dt.date, *, escalate: bool) -> int:
    """Let the next daily run look at the plan's invoices on ``day``; escalated, it may also
    step at once (the wait of the last step is cut short). Invoices never dunned have no state
    and enter the ladder at the right rung by themselves (catch-up)."""
    invoice_ids = select(PaymentPlanInvoice.invoice_id).where(PaymentPlanInvoice.plan_id == plan.id)
    values: dict[str, object] = {"next_check_on": day}
    if escalate:
        values["not_before"] = day
    result = session.execute(
        update(DunningState)
        .where(DunningState.company_id == plan.company_id, DunningState.invoice_id.in_(invoice_ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cancel_plan(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    plan_id: int,
    reason: str,
    cancelled_on: dt.date,
) -> PaymentPlan:
    """Cancel an active plan: its invoices return to the ladder where they stood."""
    if not reason.strip():
        raise InvalidInput("请填写取消原因 / give a reason")
    plan = session.scalar(
        select(PaymentPlan)
        .where(PaymentPlan.company_id == company_id, PaymentPlan.id == plan_id)
        .with_for_update()
    )
    if plan is None:
        raise NotFound(f"没有还款计划 #{plan_id} / no payment plan #{plan_id}")
    if plan.status != rules.PlanStatus.ACTIVE.value:
        raise Conflict(
            f"还款计划 #{plan_id} 状态为 {plan.status}，不能取消 / plan #{plan_id} is {plan.status}"
        )
    plan.status = rules.PlanStatus.CANCELLED.value
    _back_to_ladder(session, plan, cancelled_on, escalate=False)
    record_change(
        session, actor=actor, company_id=company_id, entity="payment_plan", entity_id=plan.id,
        action="cancel", before={"status": rules.PlanStatus.ACTIVE.value},
        after={"status": plan.status, "cancelled_on": cancelled_on, "reason": reason},
    )  # fmt: skip
    return plan


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: int
    customer: str
    agreed_on: dt.date
    status: str
    approved_by: str
    recorded_by: str
    invoices: int
    total: int
    paid: int
    next_due_on: dt.date | None


def list_plans(session: Session, *, company_id: int, status: str | None = None) -> list[PlanRow]:
    """Plans with their totals, in two grouped statements."""
    totals = (
        select(
            PlanInstalment.plan_id.label("plan_id"),
            func.sum(PlanInstalment.amount).label("total"),
            func.sum(PlanInstalment.paid).label("paid"),
        )
        .where(PlanInstalment.company_id == company_id)
        .group_by(PlanInstalment.plan_id)
        .subquery()
    )
    next_due = (
        select(PlanInstalment.plan_id, func.min(PlanInstalment.due_on).label("next_due"))
        .where(PlanInstalment.company_id == company_id, PlanInstalment.status != "paid")
        .group_by(PlanInstalment.plan_id)
        .subquery()
    )
    counted = (
        select(PaymentPlanInvoice.plan_id, func.count().label("invoices"))
        .where(PaymentPlanInvoice.company_id == company_id)
        .group_by(PaymentPlanInvoice.plan_id)
        .subquery()
    )
    query = (
        select(
            PaymentPlan,
            Customer.code,
            counted.c.invoices,
            totals.c.total,
            totals.c.paid,
            next_due.c.next_due,
        )
        .join(Customer, Customer.id == PaymentPlan.customer_id)
        .outerjoin(counted, counted.c.plan_id == PaymentPlan.id)
        .outerjoin(totals, totals.c.plan_id == PaymentPlan.id)
        .outerjoin(next_due, next_due.c.plan_id == PaymentPlan.id)
        .where(PaymentPlan.company_id == company_id)
        .order_by(PaymentPlan.id)
    )
    if status:
        query = query.where(PaymentPlan.status == status)
    return [
        PlanRow(
            p.id,
            code,
            p.agreed_on,
            p.status,
            p.approved_by,
            p.recorded_by,
            int(n or 0),
            int(t or 0),
            int(paid or 0),
            _as_date(nd),
        )
        for p, code, n, t, paid, nd in session.execute(query)
    ]


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
