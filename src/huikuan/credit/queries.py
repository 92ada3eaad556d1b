"""Read queries for credit pages and the API: a customer's credit file, orders waiting for
approval, limit requests waiting, active holds. Each is a handful of statements."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.credit import limits, service
from huikuan.credit.blacklist import blacklist_matches
from huikuan.credit.blacklist_rules import BlacklistMatch
from huikuan.credit.holds import active_holds
from huikuan.credit.models import (
    CreditAssessment,
    CreditHold,
    CreditLimit,
    CreditScore,
    FinancialStatement,
    LimitSource,
    OrderDecision,
    PublicRecordFlag,
)
from huikuan.credit.orders import order_exposure
from huikuan.customers.models import Customer
from huikuan.ledger.models import OrderApproval, OrderStatus, SalesOrder


@dataclass(frozen=True, slots=True)
class CreditFile:
    """Everything the customer page shows about credit."""

    score: CreditScore | None
    explanation: dict[str, Any] | None
    limit: CreditLimit | None
    exposure: int
    holds: list[CreditHold]
    blacklisted: list[BlacklistMatch]
    assessment: CreditAssessment | None
    statements: list[FinancialStatement]
    flags: list[PublicRecordFlag]
    pending_requests: list[CreditLimit]

    @property
    def available(self) -> int | None:
        return None if self.limit is None else self.limit.amount - self.exposure


def credit_file(session: Session, *, customer: Customer, as_of: dt.date) -> CreditFile:
    company_id = customer.company_id
    score = service.latest_score(session, company_id=company_id, customer_id=customer.id)
    assessment = service.latest_assessment(session, company_id=company_id, customer_id=customer.id)
    statements = flags = []
    if assessment is not None:
        statements = list(session.scalars(
            select(FinancialStatement).where(FinancialStatement.assessment_id == assessment.id)
            .order_by(FinancialStatement.year.desc())
        ))  # fmt: skip
        flags = list(session.scalars(
            select(PublicRecordFlag).where(PublicRecordFlag.assessment_id == assessment.id)
        ))  # fmt: skip
    pending = list(session.scalars(
        select(CreditLimit).where(
            CreditLimit.company_id == company_id, CreditLimit.customer_id == customer.id,
            CreditLimit.status == "pending",
        ).order_by(CreditLimit.id)
    ))  # fmt: skip
    return CreditFile(
        score, json.loads(score.explanation) if score else None,
        limits.current_limit(session, company_id=company_id, customer_id=customer.id, as_of=as_of),
        order_exposure(session, company_id=company_id, customer_ids=[customer.id]).get(customer.id, 0),
        active_holds(session, company_id=company_id, customer_id=customer.id),
        blacklist_matches(session, company_id=company_id, customer=customer),
        assessment, statements, flags, pending,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class WaitingOrder:
    order: SalesOrder
    customer: Customer
    decision: OrderDecision | None

    @property
    def reasons(self) -> list[dict[str, Any]]:
        return json.loads(self.decision.reasons) if self.decision else []


def waiting_orders(
    session: Session, *, company_id: int, only: tuple[str, str] | None = None, limit: int = 200
) -> tuple[list[WaitingOrder], int]:
    """Open orders waiting for a credit decision, oldest first, with their latest reasons."""
    query = (
        select(SalesOrder, Customer)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .where(
            SalesOrder.company_id == company_id,
            SalesOrder.approval == OrderApproval.PENDING.value,
            SalesOrder.status == OrderStatus.OPEN.value,
        )
    )
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(SalesOrder.ordered_on, SalesOrder.id).limit(limit)).all()
    latest = _latest_decisions(session, [o.id for o, _ in rows])
    return [WaitingOrder(o, c, latest.get(o.id)) for o, c in rows], total


def _latest_decisions(session: Session, order_ids: list[int]) -> dict[int, OrderDecision]:
    if not order_ids:
        return {}
    newest = (
        select(func.max(OrderDecision.id))
        .where(OrderDecision.order_id.in_(order_ids))
        .group_by(OrderDecision.order_id)
    )
    return {
        d.order_id: d
        for d in session.scalars(select(OrderDecision).where(OrderDecision.id.in_(newest)))
    }


def waiting_limit_requests(
    session: Session, *, company_id: int
) -> list[tuple[CreditLimit, Customer]]:
    rows = session.execute(
        select(CreditLimit, Customer)
        .join(Customer, Customer.id == CreditLimit.customer_id)
        .where(
            CreditLimit.company_id == company_id,
            CreditLimit.status == "pending",
            CreditLimit.source == LimitSource.OVERRIDE.value,
        )
        .order_by(CreditLimit.id)
    )
    return [(limit, customer) for limit, customer in rows]


def holds_in_force(
    session: Session, *, company_id: int, only: tuple[str, str] | None = None
) -> list[tuple[CreditHold, Customer]]:
    query = (
        select(CreditHold, Customer)
        .join(Customer, Customer.id == CreditHold.customer_id)
        .where(CreditHold.company_id == company_id, CreditHold.released_at.is_(None))
        .order_by(CreditHold.placed_at.desc())
    )
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    return [(h, c) for h, c in session.execute(query)]


def list_orders(
    session: Session, *, company_id: int, only: tuple[str, str] | None, customer_code: str | None,
    approval: str | None, page: int, page_size: int,
) -> tuple[list[tuple[SalesOrder, Customer]], int]:  # fmt: skip
    """Orders newest first, one page, with the count of all; ``approval="pending"`` is the
    approvals queue (open orders waiting for a decision). Used by the pages, API and CLI."""
    query = (
        select(SalesOrder, Customer)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .where(SalesOrder.company_id == company_id)
    )
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    if customer_code:
        query = query.where(Customer.code == customer_code)
    if approval:
        query = query.where(SalesOrder.approval == approval)
    if approval == OrderApproval.PENDING.value:  # waiting: a cancelled order waits for nobody
        query = query.where(SalesOrder.status == OrderStatus.OPEN.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(SalesOrder.ordered_on.desc(), SalesOrder.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).all()  # fmt: skip
    return [(o, c) for o, c in rows], total
