"""Read queries for the payment-plan, late-fee and follow-up pages and their API: plans with
their instalment counts, one plan with its schedule and invoices, the invoices a new plan may
cover, late-fee charges across customers with filters and totals, and the waiver requests.

``only`` keeps the customers a user sees (a customer column and its value, as in
``users.rules.CustomerScope.only``); the caller checks one row's customer with
``web.deps.visible_customer``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from huikuan.collections.models import (
    Dispute,
    FollowUp,
    LateFeeCharge,
    LateFeeWaiver,
    PaymentPlan,
    PaymentPlanInvoice,
    PlanInstalment,
)
from huikuan.collections.plans import HOLDING, PlanRow, list_plans
from huikuan.core.errors import NotFound
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice, InvoiceStatus

Scope = tuple[str, str] | None


def owner_code(
    session: Session,
    *,
    company_id: int,
    model: type[PaymentPlan] | type[LateFeeCharge] | type[FollowUp],
    row_id: int,
) -> str | None:
    """The code of the customer a plan, a charge or a follow-up belongs to (None: no row)."""
    return session.scalar(
        select(Customer.code)
        .join(model, model.customer_id == Customer.id)
        .where(model.company_id == company_id, model.id == row_id)
    )


# --- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanLine:
    row: PlanRow
    customer_name: str
    instalments: int
    instalments_paid: int


def plan_lines(
    session: Session,
    *,
    company_id: int,
    status: str | None = None,
    customer: str | None = None,
    only: Scope = None,
) -> list[PlanLine]:
    """``plans.list_plans`` for the customers seen (and the one asked for), with each plan's
    customer name and how many of its instalments are paid, as last checked."""
    rows = list_plans(session, company_id=company_id, status=status or None)
    codes = {r.customer for r in rows if customer is None or r.customer == customer}
    if not codes:
        return []
    query = select(Customer.code, Customer.name).where(
        Customer.company_id == company_id, Customer.code.in_(sorted(codes))
    )
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    names = dict(session.execute(query).all())
    counts = {
        plan_id: (int(total), int(paid or 0))
        for plan_id, total, paid in session.execute(
            select(
                PlanInstalment.plan_id,
                func.count(),
                func.sum(case((PlanInstalment.status == "paid", 1), else_=0)),
            )
            .where(PlanInstalment.company_id == company_id)
            .group_by(PlanInstalment.plan_id)
        )
    }
    return [
        PlanLine(r, names[r.customer], *counts.get(r.id, (0, 0)))
        for r in rows
        if r.customer in names
    ]


@dataclass(frozen=True, slots=True)
class PlanDetail:
    plan: PaymentPlan
    customer: Customer
    instalments: list[PlanInstalment]
    invoices: list[Invoice]

    @property
    def total(self) -> int:
        return sum(i.amount for i in self.instalments)

    @property
    def interest(self) -> int:
        return sum(i.interest for i in self.instalments)

    @property
    def received(self) -> int:
        return sum(i.paid for i in self.instalments)


def plan_detail(session: Session, *, company_id: int, plan_id: int) -> PlanDetail:
    """One plan with its customer, its schedule by due date and its invoices."""
    found = session.execute(
        select(PaymentPlan, Customer)
        .join(Customer, Customer.id == PaymentPlan.customer_id)
        .where(PaymentPlan.company_id == company_id, PaymentPlan.id == plan_id)
    ).first()
    if found is None:
        raise NotFound(f"没有还款计划 #{plan_id} / no payment plan #{plan_id}")
    instalments = session.scalars(
        select(PlanInstalment)
        .where(PlanInstalment.plan_id == plan_id)
        .order_by(PlanInstalment.due_on, PlanInstalment.id)
    )
    invoices = session.scalars(
        select(Invoice)
        .join(PaymentPlanInvoice, PaymentPlanInvoice.invoice_id == Invoice.id)
        .where(PaymentPlanInvoice.plan_id == plan_id)
        .order_by(Invoice.due_date, Invoice.number)
    )
    return PlanDetail(found[0], found[1], list(instalments), list(invoices))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open invoice offered to a new plan; ``blocked`` says why it cannot join one."""

    invoice: Invoice
    days_overdue: int
    blocked: str  # "", "in_plan" (a proposed or active plan has it), "disputed" (an open dispute)


def plan_candidates(session: Session, *, customer: Customer, as_of: dt.date) -> list[Candidate]:
    """The customer's open invoices issued by ``as_of``, oldest due first."""
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.company_id == customer.company_id,
                Invoice.customer_id == customer.id,
                Invoice.status == InvoiceStatus.OPEN.value,
                Invoice.open_amount > 0,
                Invoice.issue_date <= as_of,
            )
            .order_by(Invoice.due_date, Invoice.number)
        )
    )
    ids = [i.id for i in invoices]
    planned = set(
        session.scalars(
            select(PaymentPlanInvoice.invoice_id)
            .join(PaymentPlan, PaymentPlan.id == PaymentPlanInvoice.plan_id)
            .where(
                PaymentPlanInvoice.invoice_id.in_(ids),
                PaymentPlan.status.in_(HOLDING),
            )
        )
    )
    disputed = set(
        session.scalars(
            select(Dispute.invoice_id).where(Dispute.invoice_id.in_(ids), Dispute.status == "open")
        )
    )
    return [
        Candidate(
            i,
            (as_of - i.due_date).days,
            "in_plan" if i.id in planned else "disputed" if i.id in disputed else "",
        )
        for i in invoices
    ]


# --- late fees ----------------------------------------------------------------------------------


# waived: something waived; not_waived: nothing waived; owed: something still not waived
FEE_STATES = ("waived", "not_waived", "owed")


@dataclass(frozen=True, slots=True)
class FeeFilter:
    customer: str | None = None  # code
    invoice: str | None = None  # number
    period_from: dt.date | None = None  # charges whose period ends on or after
    period_to: dt.date | None = None  # ... and on or before
    state: str | None = None  # one of FEE_STATES
    only: Scope = None


@dataclass(frozen=True, slots=True)
class FeeLine:
    charge: LateFeeCharge
    invoice: str
    customer: str
    customer_name: str

    @property
    def left(self) -> int:
        return self.charge.amount - self.charge.waived


@dataclass(frozen=True, slots=True)
class FeePage:
    rows: list[FeeLine]
    total: int  # charges matching, every page
    amount: int  # fen charged, every page
    waived: int  # fen waived, every page


def _fees(company_id: int, flt: FeeFilter) -> Select[LateFeeCharge, str, str, str]:
    query = (
        select(LateFeeCharge, Invoice.number, Customer.code, Customer.name)
        .join(Invoice, Invoice.id == LateFeeCharge.invoice_id)
        .join(Customer, Customer.id == LateFeeCharge.customer_id)
        .where(LateFeeCharge.company_id == company_id)
    )
    if flt.customer:
        query = query.where(Customer.code == flt.customer)
    if flt.invoice:
        query = query.where(Invoice.number == flt.invoice)
    if flt.period_from:
        query = query.where(LateFeeCharge.period_end >= flt.period_from)
    if flt.period_to:
        query = query.where(LateFeeCharge.period_end <= flt.period_to)
    if flt.state == "waived":
        query = query.where(LateFeeCharge.waived > 0)
    elif flt.state == "not_waived":
        query = query.where(LateFeeCharge.waived == 0)
    elif flt.state == "owed":
        query = query.where(LateFeeCharge.amount > LateFeeCharge.waived)
    if flt.only is not None:
        query = query.where(getattr(Customer, flt.only[0]) == flt.only[1])
    return query


def list_fee_charges(
    session: Session, *, company_id: int, flt: FeeFilter, page: int, page_size: int
) -> FeePage:
    """One page of charges by customer, invoice and period, with the count and sums of all
    of them: the page, its export and the API read the same rows."""
    query = _fees(company_id, flt)
    counted = query.with_only_columns(
        func.count(),
        func.coalesce(func.sum(LateFeeCharge.amount), 0),
        func.coalesce(func.sum(LateFeeCharge.waived), 0),
    ).order_by(None)
    total, amount, waived = session.execute(counted).one()
    found = session.execute(
        query.order_by(Customer.code, Invoice.number, LateFeeCharge.period_end)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = [FeeLine(charge, number, code, name) for charge, number, code, name in found]
    return FeePage(rows, int(total or 0), int(amount or 0), int(waived or 0))


def owed_charges(session: Session, *, customer: Customer, limit: int) -> FeePage:
    """The customer's charges with something not waived (the first ``limit`` of them) and
    their totals, for the customer page."""
    return list_fee_charges(
        session,
        company_id=customer.company_id,
        flt=FeeFilter(customer=customer.code, state="owed"),
        page=1,
        page_size=limit,
    )


# --- waiver requests ----------------------------------------------------------------------------

WAIVER_STATES = ("pending", "approved", "rejected")


@dataclass(frozen=True, slots=True)
class WaiverLine:
    waiver: LateFeeWaiver
    charge: LateFeeCharge
    invoice: str
    customer: str
    customer_name: str


def waiver_owner(session: Session, *, company_id: int, waiver_id: int) -> str | None:
    """The code of the customer a waiver request's charge belongs to (None: no request)."""
    return session.scalar(
        select(Customer.code)
        .join(LateFeeCharge, LateFeeCharge.customer_id == Customer.id)
        .join(LateFeeWaiver, LateFeeWaiver.charge_id == LateFeeCharge.id)
        .where(LateFeeWaiver.company_id == company_id, LateFeeWaiver.id == waiver_id)
    )


def _waivers(company_id: int, status: str | None, customer: str | None, only: Scope) -> Select[LateFeeWaiver, LateFeeCharge, str, str, str]:  # fmt: skip
    query = (
        select(LateFeeWaiver, LateFeeCharge, Invoice.number, Customer.code, Customer.name)
        .join(LateFeeCharge, LateFeeCharge.id == LateFeeWaiver.charge_id)
        .join(Invoice, Invoice.id == LateFeeCharge.invoice_id)
        .join(Customer, Customer.id == LateFeeCharge.customer_id)
        .where(LateFeeWaiver.company_id == company_id)
    )
    if status:
        query = query.where(LateFeeWaiver.status == status)
    if customer:
        query = query.where(Customer.code == customer)
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    return query


def list_waivers(
    session: Session,
    *,
    company_id: int,
    status: str | None = None,
    customer: str | None = None,
    only: Scope = None,
    page: int = 1,
    page_size: int = 200,
) -> tuple[list[WaiverLine], int]:
    """Waiver requests of the customers seen, oldest first (one page), and how many match."""
    query = _waivers(company_id, status, customer, only)
    total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    found = session.execute(
        query.order_by(LateFeeWaiver.requested_at, LateFeeWaiver.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return [WaiverLine(*row) for row in found], int(total)


def waiver_line(session: Session, *, company_id: int, waiver_id: int) -> WaiverLine | None:
    found = session.execute(
        _waivers(company_id, None, None, None).where(LateFeeWaiver.id == waiver_id)
    ).first()
    return None if found is None else WaiverLine(*found)


def pending_by_charge(
    session: Session, *, company_id: int, charge_ids: list[int]
) -> dict[int, int]:
    """Per charge with waiver requests waiting, the fen asked for."""
    if not charge_ids:
        return {}
    rows = session.execute(
        select(LateFeeWaiver.charge_id, func.sum(LateFeeWaiver.amount))
        .where(
            LateFeeWaiver.company_id == company_id,
            LateFeeWaiver.charge_id.in_(charge_ids),
            LateFeeWaiver.status == "pending",
        )
        .group_by(LateFeeWaiver.charge_id)
    )
    return {charge_id: int(total or 0) for charge_id, total in rows}
