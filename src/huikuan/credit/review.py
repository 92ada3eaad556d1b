"""Credit reviews: which customers need a fresh look on a date, and why.

A customer is due for review when its review date has come (or it was never assessed), or when
something happened since: its exposure exceeds its limit, its payment record alone would now
give a grade at least one step worse than the one on file, it has an invoice overdue beyond
the policy's limit for approvals, or a collector asked for it: an excuse such as "we are in
financial difficulty" or "the goods have not sold" opens a credit or limit review follow-up
(``collections.contact_log``), which this list shows from its due date and ``rescore`` closes. The whole company is checked with a few grouped queries and
the scorecard run in memory per batch; ``rescore`` records new scores and limits for those due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.credit import limits, rules, service
from huikuan.credit.models import CreditLimit, LimitSource
from huikuan.customers.models import Customer, CustomerStatus
from huikuan.ledger.models import Invoice

BATCH = 2000


@dataclass(frozen=True, slots=True)
class ReviewItem:
    customer: Customer
    # codes: never_assessed, review_date, over_limit, worse_grade, overdue, desk_credit_review,
    # desk_limit_review
    reasons: tuple[str, ...]
    grade: str | None  # on file
    grade_now: str  # what the scorecard says today
    limit: int | None
    exposure: int
    review_on: dt.date | None
    oldest_overdue_days: int | None


REASON_LABELS = {
    "never_assessed": ("从未评估", "never assessed"),
    "review_date": ("到达复评日期", "review date reached"),
    "over_limit": ("占用超过额度", "exposure over limit"),
    "worse_grade": ("付款记录变差，等级下降", "payment record worsened the grade"),
    "overdue": ("有超过政策天数的逾期", "overdue beyond policy"),
    "desk_credit_review": ("催收员要求信用复评", "a collector asked for a credit review"),
    "desk_limit_review": ("催收员要求复核额度", "a collector asked for a limit review"),
}
REVIEW_FOLLOW_UPS = {"credit_review": "desk_credit_review", "limit_review": "desk_limit_review"}


def due_for_review(
    session: Session, *, company_id: int, as_of: dt.date, only: tuple[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ReviewItem]:  # fmt: skip
    """Every active customer that needs a review on ``as_of``, with every reason."""
    from huikuan.credit.orders import order_exposure

    _, policy = limits.current_policy(session, company_id=company_id)
    query = select(Customer).where(
        Customer.company_id == company_id, Customer.status == CustomerStatus.ACTIVE.value
    )
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    customers = list(session.scalars(query.order_by(Customer.code)))
    in_force = limits_in_force(session, company_id=company_id, as_of=as_of)
    overdue = oldest_overdue(session, company_id=company_id, as_of=as_of)
    asked = requested_reviews(session, company_id=company_id, as_of=as_of)
    items: list[ReviewItem] = []
    for start in range(0, len(customers), BATCH):
        chunk = customers[start : start + BATCH]
        ids = [c.id for c in chunk]
        exposure = order_exposure(session, company_id=company_id, customer_ids=ids)
        grades = service.latest_grades(session, company_id=company_id, customer_ids=ids)
        evidence = service.gather_evidence(
            session, company_id=company_id, customer_ids=ids, as_of=as_of,
            lookback_months=policy.lookback_months,
        )  # fmt: skip
        for customer in chunk:
            item = _review_one(
                customer, in_force.get(customer.id), grades.get(customer.id),
                service.card_for(evidence[customer.id], as_of, policy).grade,
                exposure.get(customer.id, 0), overdue.get(customer.id), as_of, policy,
                asked.get(customer.id, ()),
            )  # fmt: skip
            if item.reasons:
                items.append(item)
        if progress:
            progress(min(start + BATCH, len(customers)), len(customers))
    return items


def _review_one(
    customer: Customer, limit: CreditLimit | None, grade: str | None, grade_now: str,
    exposure: int, oldest_due: dt.date | None, as_of: dt.date, policy: rules.Policy,
    asked: tuple[str, ...] = (),
) -> ReviewItem:  # fmt: skip
    reasons = []
    if grade is None and limit is None:
        reasons.append("never_assessed")
    if limit is not None and limit.review_on is not None and limit.review_on <= as_of:
        reasons.append("review_date")
    if limit is not None and exposure > limit.amount:
        reasons.append("over_limit")
    if grade is not None and rules.grade_steps_worse(grade, grade_now) >= 1:
        reasons.append("worse_grade")
    days = (as_of - oldest_due).days if oldest_due else None
    if days is not None and days > policy.max_days_overdue:
        reasons.append("overdue")
    reasons.extend(asked)
    return ReviewItem(
        customer, tuple(reasons), grade, grade_now, limit.amount if limit else None, exposure,
        limit.review_on if limit else None, days,
    )  # fmt: skip


def limits_in_force(session: Session, *, company_id: int, as_of: dt.date) -> dict[int, CreditLimit]:
    """Each customer's limit in force on ``as_of`` (override before policy), in one query."""
    rows = session.scalars(
        select(CreditLimit)
        .where(
            CreditLimit.company_id == company_id,
            CreditLimit.status == "approved",
            CreditLimit.valid_from <= as_of,
            or_(CreditLimit.expires_on.is_(None), CreditLimit.expires_on >= as_of),
        )
        .order_by(CreditLimit.valid_from, CreditLimit.id)
    )
    found: dict[int, CreditLimit] = {}
    for row in rows:  # later rows win; an override beats any policy limit
        held = found.get(row.customer_id)
        if (
            held is None
            or row.source == LimitSource.OVERRIDE.value
            or held.source != LimitSource.OVERRIDE.value
        ):
            found[row.customer_id] = row  # fmt: skip
    return found


def requested_reviews(
    session: Session, *, company_id: int, as_of: dt.date
) -> dict[int, tuple[str, ...]]:
    """The review reasons collectors opened (open follow-ups due by ``as_of``), per customer."""
    from huikuan.collections.models import FollowUp

    rows = session.execute(
        select(FollowUp.customer_id, FollowUp.kind)
        .where(
            FollowUp.company_id == company_id,
            FollowUp.status == "open",
            FollowUp.kind.in_(list(REVIEW_FOLLOW_UPS)),
            FollowUp.due_on <= as_of,
        )
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for customer_id, kind in rows:
        found.setdefault(customer_id, set()).add(REVIEW_FOLLOW_UPS[kind])
    return {customer_id: tuple(sorted(kinds)) for customer_id, kinds in found.items()}


def oldest_overdue(session: Session, *, company_id: int, as_of: dt.date) -> dict[int, dt.date]:
    """The earliest due date among each customer's open invoices that are past due."""
    rows = session.execute(
        select(Invoice.customer_id, func.min(Invoice.due_date))
        .where(
            Invoice.company_id == company_id,
            Invoice.open_amount > 0,
            Invoice.due_date < as_of,
            Invoice.issue_date <= as_of,
        )
        .group_by(Invoice.customer_id)
    )
    return {customer_id: due for customer_id, due in rows}


def rescore(
    session: Session, *, actor: Actor, company_id: int, items: list[ReviewItem], as_of: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> list[service.Scored]:  # fmt: skip
    """Score every customer in the review again and record the limits their grades earn; the
    reviews collectors asked for are then done."""
    scored = service.score_customers(
        session, actor=actor, company_id=company_id, customers=[i.customer for i in items],
        as_of=as_of, progress=progress,
    )  # fmt: skip
    asked = [i.customer.id for i in items if set(i.reasons) & set(REVIEW_FOLLOW_UPS.values())]
    _close_requested(session, actor=actor, company_id=company_id, customer_ids=asked, as_of=as_of)
    return scored


def _close_requested(
    session: Session, *, actor: Actor, company_id: int, customer_ids: list[int], as_of: dt.date
) -> None:
    from huikuan.collections.models import FollowUp

    if not customer_ids:
        return
    follow_ups = session.scalars(
        select(FollowUp).where(
            FollowUp.company_id == company_id,
            FollowUp.status == "open",
            FollowUp.kind.in_(list(REVIEW_FOLLOW_UPS)),
            FollowUp.due_on <= as_of,
            FollowUp.customer_id.in_(customer_ids),
        )
    ).all()
    for follow_up in follow_ups:
        follow_up.status = "done"
        follow_up.result = f"{as_of.isoformat()} 已重新评分 / rescored"
        record_change(
            session, actor=actor, company_id=company_id, entity="follow_up",
            entity_id=follow_up.id, action="close",
            after={"kind": follow_up.kind, "status": "done", "result": follow_up.result},
        )  # fmt: skip
