"""Credit policies (versioned) and limits (from policy, or overridden with a reason and an
approver): which policy is in force and what a customer's limit is on a date."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.credit import rules
from huikuan.credit.models import CreditLimit, CreditPolicy, LimitSource
from huikuan.customers.models import Customer


def current_policy(
    session: Session, *, company_id: int
) -> tuple[CreditPolicy | None, rules.Policy]:
    """The latest policy version, or the built-in defaults (and None) if none was saved yet."""
    row = session.scalar(
        select(CreditPolicy)
        .where(CreditPolicy.company_id == company_id)
        .order_by(CreditPolicy.version.desc())
        .limit(1)
    )
    if row is None:
        return None, rules.Policy()
    return row, rules.policy_from_json(json.loads(row.body))


def ensure_policy(session: Session, *, actor: Actor, company_id: int) -> CreditPolicy:
    """The policy row in force; version 1 (the defaults) is saved the first time one is needed,
    so that every score and limit can point at the policy that produced it."""
    row, _ = current_policy(session, company_id=company_id)
    if row is not None:
        return row
    return save_policy(
        session, actor=actor, company_id=company_id,
        body=rules.policy_to_json(rules.Policy()), name="默认政策 / default policy",
    )  # fmt: skip


def save_policy(
    session: Session, *, actor: Actor, company_id: int, body: dict, name: str = ""
) -> CreditPolicy:
    """Save a new policy version. The old versions stay: limits point at them."""
    try:
        policy = rules.policy_from_json(body)
    except rules.PolicyError as exc:
        raise InvalidInput(str(exc)) from exc
    latest, _ = current_policy(session, company_id=company_id)
    row = CreditPolicy(
        company_id=company_id, version=(latest.version + 1) if latest else 1, name=name,
        body=json.dumps(rules.policy_to_json(policy), ensure_ascii=False, sort_keys=True),
        created_by=actor.name, created_at=actor.at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_policy",
        entity_id=row.version, action="create", after={"name": name, "body": json.loads(row.body)},
    )  # fmt: skip
    return row


def current_limit(
    session: Session, *, company_id: int, customer_id: int, as_of: dt.date
) -> CreditLimit | None:
    """The limit in force on ``as_of``: the latest approved override valid that day (not yet
    expired), else the latest limit from the policy. None: the customer has no limit yet."""
    in_force = (
        select(CreditLimit)
        .where(
            CreditLimit.company_id == company_id,
            CreditLimit.customer_id == customer_id,
            CreditLimit.status == "approved",
            CreditLimit.valid_from <= as_of,
            or_(CreditLimit.expires_on.is_(None), CreditLimit.expires_on >= as_of),
        )
        .order_by(CreditLimit.valid_from.desc(), CreditLimit.id.desc())
        .limit(1)
    )
    override = session.scalar(in_force.where(CreditLimit.source == LimitSource.OVERRIDE.value))
    if override is not None:
        return override
    return session.scalar(in_force.where(CreditLimit.source == LimitSource.POLICY.value))


@dataclass(frozen=True, slots=True)
class OverrideRequest:
    amount: int  # fen
    terms_days: int
    reason: str
    valid_from: dt.date
    expires_on: dt.date | None = None
    guarantee_required: bool = False
    prepayment_required: bool = False


def request_override(
    session: Session, *, actor: Actor, company_id: int, customer: Customer, request: OverrideRequest
) -> CreditLimit:
    """Ask for a limit or terms set by hand. It takes effect only once another person with the
    right approves it (``decide_override``)."""
    if not request.reason.strip():
        raise InvalidInput("手工调整额度必须填写原因 / a manual limit needs a reason")
    if request.amount < 0:
        raise InvalidInput("额度不能为负数 / a limit cannot be negative")
    if not 0 <= request.terms_days <= 365:
        raise InvalidInput("账期须在 0–365 天 / terms must be 0–365 days")
    if request.expires_on is not None and request.expires_on < request.valid_from:
        raise InvalidInput("到期日早于生效日 / expiry before the start date")
    row = CreditLimit(
        company_id=company_id, customer_id=customer.id, source=LimitSource.OVERRIDE.value,
        amount=request.amount, terms_days=request.terms_days,
        guarantee_required=request.guarantee_required,
        prepayment_required=request.prepayment_required, valid_from=request.valid_from,
        expires_on=request.expires_on, reason=request.reason.strip(), requested_by=actor.name,
        status="pending", created_at=actor.at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_limit", entity_id=row.id,
        action="request", after=_limit_facts(row, customer),
    )  # fmt: skip
    return row


def decide_override(
    session: Session, *, actor: Actor, company_id: int, limit_id: int, approve: bool, note: str = ""
) -> CreditLimit:
    """Approve or reject a requested override. The requester cannot approve their own."""
    row = session.scalar(
        select(CreditLimit)
        .where(CreditLimit.company_id == company_id, CreditLimit.id == limit_id)
        .with_for_update()
    )
    if row is None or row.source != LimitSource.OVERRIDE.value:
        raise NotFound(f"没有额度调整申请 {limit_id} / no limit request {limit_id}")
    if row.status != "pending":
        raise Conflict(f"申请 {limit_id} 已处理 / request {limit_id} was already decided")
    if row.requested_by == actor.name:
        raise Conflict("不能审批自己提出的额度调整 / you cannot approve your own limit request")
    customer = session.get_one(Customer, row.customer_id)
    before = _limit_facts(row, customer)
    row.status = "approved" if approve else "rejected"
    row.approved_by = actor.name
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_limit", entity_id=row.id,
        action="approve" if approve else "reject", before=before,
        after={**_limit_facts(row, customer), "note": note},
    )  # fmt: skip
    return row


def _limit_facts(row: CreditLimit, customer: Customer) -> dict[str, object]:
    return {
        "customer": customer.code, "source": row.source, "amount": row.amount,
        "terms_days": row.terms_days, "valid_from": row.valid_from, "expires_on": row.expires_on,
        "status": row.status, "reason": row.reason, "requested_by": row.requested_by,
        "approved_by": row.approved_by,
    }  # fmt: skip


def record_policy_limit(
    session: Session, *, actor: Actor, company_id: int, customer: Customer, policy_id: int,
    score_id: int, decision: rules.LimitDecision, as_of: dt.date,
) -> CreditLimit:  # fmt: skip
    """The limit a new score earns under the policy, in force from ``as_of``."""
    row = CreditLimit(
        company_id=company_id, customer_id=customer.id, source=LimitSource.POLICY.value,
        amount=decision.amount, terms_days=decision.terms_days,
        guarantee_required=decision.guarantee_required,
        prepayment_required=decision.prepayment_required, review_on=decision.review_on,
        valid_from=as_of, policy_id=policy_id, score_id=score_id, reason=decision.basis,
        requested_by=actor.name, approved_by="policy", status="approved", created_at=actor.at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_limit", entity_id=row.id,
        action="create", after=_limit_facts(row, customer),
    )  # fmt: skip
    return row
