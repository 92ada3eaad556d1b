"""Credit holds and supply stops (暂停供货): place, release, and list the active ones.

A *credit hold* stops new credit sales: every order checked while it is active waits for an
approver with the reason ``on_hold``. A *supply stop* does that too and also stops shipping
on orders already approved. A customer has at most one active hold of each kind; a hold is
never deleted, its release records who, when and why.

These use cases are the one way to place and lift holds: people call them from the command
line and pages (``origin="manual"``), and the collections engine will call the same functions
when its escalation ladder reaches "stop supply" (``origin="collections"``), so both kinds of
hold look and behave the same and share one audit trail (entity ``credit_hold``).

The customer row is locked first (``SELECT … FOR UPDATE``), the same lock the order check
takes, so on PostgreSQL two people cannot place the same hold twice, and a hold placed while an
order is being checked is seen by the next check rather than lost between them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.credit.models import CreditHold, HoldKind
from huikuan.customers.models import Customer

ORIGINS = ("manual", "collections")
REASON_LIMIT = 1000  # CreditHold.reason


def place_on_hold(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    kind: str,
    reason: str,
    origin: str = "manual",
) -> CreditHold:
    """Put the customer on hold. Refused without a reason, or if a hold of this kind is
    already active (releasing and placing again keeps the history honest)."""
    kind, reason = _checked_kind(kind), _checked_reason(reason)
    if origin not in ORIGINS:
        raise InvalidInput(f"未知来源 {origin} / unknown origin {origin}")
    lock_customer(session, company_id=company_id, customer_id=customer.id)
    if _active(session, company_id=company_id, customer_id=customer.id, kind=kind) is not None:
        raise Conflict(
            f"客户 {customer.code} 已有生效的 {kind} / customer {customer.code} is already on {kind}"
        )
    hold = CreditHold(
        company_id=company_id, customer_id=customer.id, kind=kind, reason=reason, origin=origin,
        placed_by=actor.name, placed_at=_moment(actor),
    )  # fmt: skip
    session.add(hold)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_hold", entity_id=hold.id,
        action="place", after=hold_facts(hold, customer),
    )  # fmt: skip
    return hold


def release_hold(
    session: Session, *, actor: Actor, company_id: int, customer: Customer, kind: str, reason: str
) -> CreditHold:
    """Lift the customer's active hold of this kind, saying why. NotFound if there is none."""
    kind, reason = _checked_kind(kind), _checked_reason(reason)
    lock_customer(session, company_id=company_id, customer_id=customer.id)
    hold = _active(session, company_id=company_id, customer_id=customer.id, kind=kind)
    if hold is None:
        raise NotFound(
            f"客户 {customer.code} 没有生效的 {kind} / customer {customer.code} is not on {kind}"
        )
    before = hold_facts(hold, customer)
    hold.released_by, hold.released_at, hold.release_reason = actor.name, _moment(actor), reason
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_hold", entity_id=hold.id,
        action="release", before=before, after=hold_facts(hold, customer),
    )  # fmt: skip
    return hold


def active_holds(session: Session, *, company_id: int, customer_id: int) -> list[CreditHold]:
    """The customer's holds not yet released, oldest first."""
    return list(
        session.scalars(
            select(CreditHold)
            .where(
                CreditHold.company_id == company_id,
                CreditHold.customer_id == customer_id,
                CreditHold.released_at.is_(None),
            )
            .order_by(CreditHold.placed_at, CreditHold.id)
        )
    )


def lock_customer(session: Session, *, company_id: int, customer_id: int) -> Customer:
    """The customer row, locked for the rest of the transaction (PostgreSQL; SQLite already
    lets one writer at a time). Holds and order checks of one customer queue on this lock."""
    customer = session.scalar(
        select(Customer)
        .where(Customer.company_id == company_id, Customer.id == customer_id)
        .with_for_update()
    )
    if customer is None:
        raise NotFound(f"没有客户 {customer_id} / no customer {customer_id}")
    return customer


def hold_facts(hold: CreditHold, customer: Customer) -> dict[str, object]:
    """The audited facts of a hold."""
    return {
        "customer": customer.code, "kind": hold.kind, "reason": hold.reason,
        "origin": hold.origin, "placed_by": hold.placed_by, "placed_at": hold.placed_at,
        "released_by": hold.released_by, "released_at": hold.released_at,
        "release_reason": hold.release_reason,
    }  # fmt: skip


def _active(session: Session, *, company_id: int, customer_id: int, kind: str) -> CreditHold | None:
    holds = active_holds(session, company_id=company_id, customer_id=customer_id)
    return next((h for h in holds if h.kind == kind), None)


def _checked_kind(kind: str) -> str:
    if kind not in {k.value for k in HoldKind}:
        raise InvalidInput(
            f"未知冻结类型 {kind}（credit_hold 或 supply_stop）/ "
            f"unknown hold kind {kind} (credit_hold or supply_stop)"
        )
    return str(kind)


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("必须填写原因 / a reason is required")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(
            f"原因超过 {REASON_LIMIT} 字 / reason longer than {REASON_LIMIT} characters"
        )
    return reason


def _moment(actor: Actor) -> dt.datetime:
    """The actor's moment as a naive timestamp, as the audit trail stores it."""
    return actor.at.replace(tzinfo=None)
