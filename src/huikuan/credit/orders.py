"""Sales orders on credit: create, check against credit, approve or reject, change, split,
ship, invoice, close, cancel.

Every order is checked when it is created and again whenever something that matters for
credit changes (its lines, a reopening, a split). The check either approves it on its own
(decision ``auto_approved`` by ``system``) or sends it to ``pending`` with the reasons
(``approval.approval_reasons``); a credit manager then approves or rejects it with a note.
Every decision is a new ``order_decision`` row (who, when, why, the exposure and the limit it
was judged against) and an audit record (entity ``sales_order``).

Exposure (see ``approval``) is open receivables plus the uninvoiced remainder of approved open
orders. Goods shipped but not yet invoiced stay in their order's remainder and leave it only
when ``invoice_order`` moves them into ``invoiced_amount`` — at the same moment the invoice
(``ledger.service.record_invoice``) makes them a receivable — so they are counted once.

Concurrency: the check locks the customer's group row (if any), then the customer row, before
reading exposure. Two orders of one customer (or of one group) checked at the same moment on
PostgreSQL therefore queue: the second sees the first one's approval and cannot also pass when
together they exceed the limit. Locks are always taken in the same order — group, customer,
order, audit head — so use cases that re-check take the customer lock first and cannot
deadlock with each other or with a hold being placed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select, union_all
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from huikuan.credit import approval
from huikuan.credit.approval import Reason
from huikuan.credit.holds import active_holds, lock_customer
from huikuan.credit.limits import current_limit, current_policy
from huikuan.credit.models import (
    CustomerGroup,
    CustomerGroupMember,
    HoldKind,
    OrderDecision,
    SalesOrderLine,
)
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice, OrderApproval, OrderStatus, SalesOrder
from huikuan.users.rules import Right, Role, may

SYSTEM = "system"
NUMBER_LIMIT = 60  # SalesOrder.number
ITEM_LIMIT = 200  # SalesOrderLine.item
NOTE_LIMIT = 1000  # OrderDecision.note


class Decision:
    """The values of ``order_decision.decision``."""

    AUTO_APPROVED = "auto_approved"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class OrderLineInput:
    item: str
    quantity_milli: int  # thousandths of a unit: 2.5 t is 2500
    unit_price: int  # fen per unit


@dataclass(frozen=True, slots=True)
class CreditFacts:
    """What one check judged: the reasons, the exposure including the order, the limit."""

    reasons: list[Reason]
    exposure: int
    limit: int | None


# --- creating and checking --------------------------------------------------------------------


def create_order(
    session: Session, *, actor: Actor, company_id: int, customer: Customer, number: str,
    ordered_on: dt.date, lines: Sequence[OrderLineInput], as_of: dt.date, currency: str = "CNY",
) -> SalesOrder:  # fmt: skip
    """Record an order (amount = the sum of its lines) and check it against credit at once."""
    number = _checked_number(number)
    amounts = _line_amounts(lines)
    if customer.company_id != company_id:
        raise NotFound(f"没有客户 {customer.code} / no customer {customer.code}")
    lock_credit_rows(session, company_id=company_id, customer_id=customer.id)
    _refuse_existing(session, company_id=company_id, number=number)
    order = SalesOrder(
        company_id=company_id, customer_id=customer.id, number=number, ordered_on=ordered_on,
        amount=sum(amounts), currency=currency, status=OrderStatus.OPEN.value,
        approval=OrderApproval.PENDING.value, shipped_amount=0, invoiced_amount=0,
        salesperson=customer.salesperson,
    )  # fmt: skip
    session.add(order)
    session.flush()
    _add_lines(session, order, list(zip(range(1, len(lines) + 1), lines, amounts, strict=True)))
    _audit(session, actor, order, "create", None, order_facts(session, order))
    check_order(session, actor=actor, company_id=company_id, order=order, as_of=as_of)
    return order


def check_order(
    session: Session, *, actor: Actor, company_id: int, order: SalesOrder, as_of: dt.date
) -> OrderDecision:
    """Judge an open order against the customer's credit on ``as_of``: approve it, or send it
    to pending with every reason. Locks group and customer first (module docstring)."""
    if order.company_id != company_id:
        raise NotFound(f"没有订单 {order.number} / no order {order.number}")
    _require_open(order)
    _refuse_rejected(order)
    customer, group = lock_credit_rows(
        session, company_id=company_id, customer_id=order.customer_id
    )
    facts = credit_facts(session, order=order, customer=customer, group=group, as_of=as_of)
    before = order.approval
    order.approval = (OrderApproval.PENDING if facts.reasons else OrderApproval.APPROVED).value
    decision = _write_decision(
        session, actor, order, Decision.PENDING if facts.reasons else Decision.AUTO_APPROVED,
        by=SYSTEM, facts=facts,
    )  # fmt: skip
    _audit(session, actor, order, "check", {"approval": before}, {
        "approval": order.approval, "decision": decision.decision, "as_of": as_of,
        "reasons": [r.code.value for r in facts.reasons], "exposure": facts.exposure,
        "limit": facts.limit,
    })  # fmt: skip
    return decision


def lock_credit_rows(
    session: Session, *, company_id: int, customer_id: int
) -> tuple[Customer, CustomerGroup | None]:
    """Lock the customer's group (if it has one) and then the customer, in that order."""
    group_id = session.scalar(
        select(CustomerGroupMember.group_id).where(
            CustomerGroupMember.company_id == company_id,
            CustomerGroupMember.customer_id == customer_id,
        )
    )
    group = None
    if group_id is not None:
        group = session.scalar(
            select(CustomerGroup)
            .where(CustomerGroup.company_id == company_id, CustomerGroup.id == group_id)
            .with_for_update()
        )
    return lock_customer(session, company_id=company_id, customer_id=customer_id), group


def credit_facts(
    session: Session, *, order: SalesOrder, customer: Customer, group: CustomerGroup | None,
    as_of: dt.date,
) -> CreditFacts:  # fmt: skip
    """Everything the rules need, read from the database, and the rules' answer."""
    company_id = order.company_id
    limited_group = group if group is not None and group.limit_amount is not None else None
    members = _members(session, limited_group) if limited_group else [customer.id]
    exposures = _exposure_by_customer(
        session, company_id=company_id, customer_ids=members, currency=order.currency,
        exclude_order_id=order.id,
    )  # fmt: skip
    before = exposures.get(customer.id, 0)
    remainder = approval.order_remainder(order.amount, order.invoiced_amount)
    limit = current_limit(session, company_id=company_id, customer_id=customer.id, as_of=as_of)
    _, policy = current_policy(session, company_id=company_id)
    reasons = approval.approval_reasons(
        order_amount=remainder, exposure_before=before,
        limit=limit.amount if limit is not None else None,
        group=(sum(exposures.values()), limited_group.limit_amount or 0) if limited_group else None,
        oldest_overdue_days=_oldest_overdue_days(session, customer=customer, as_of=as_of),
        max_days_overdue=policy.max_days_overdue,
        holds=[h.kind for h in active_holds(session, company_id=company_id, customer_id=customer.id)],
        blacklisted=_blacklisted(session, company_id=company_id, customer=customer),
        prepayment_required=limit is not None and limit.prepayment_required,
    )  # fmt: skip
    return CreditFacts(reasons, before + remainder, limit.amount if limit is not None else None)


def order_exposure(
    session: Session, *, company_id: int, customer_ids: Sequence[int] | None = None,
    currency: str = "CNY",
) -> dict[int, int]:  # fmt: skip
    """Exposure per customer (open receivables plus approved open orders' uninvoiced
    remainder) in one grouped query; customers with none are absent. For reviews and pages."""
    return _exposure_by_customer(
        session, company_id=company_id, customer_ids=customer_ids, currency=currency
    )


def _exposure_by_customer(
    session: Session, *, company_id: int, customer_ids: Sequence[int] | None, currency: str,
    exclude_order_id: int | None = None,
) -> dict[int, int]:  # fmt: skip
    if customer_ids is not None and not customer_ids:
        return {}
    query = _exposure_query(company_id, customer_ids, currency, exclude_order_id)
    return {customer_id: int(total) for customer_id, total in session.execute(query)}


def _exposure_query(
    company_id: int, customer_ids: Sequence[int] | None, currency: str, exclude: int | None
) -> Select[int, int]:
    """One statement: open invoices (the partial open-items index) and approved open orders,
    stacked and summed per customer."""
    receivables = select(
        Invoice.customer_id.label("customer_id"), Invoice.open_amount.label("amount")
    ).where(Invoice.company_id == company_id, Invoice.currency == currency, Invoice.open_amount > 0)
    orders = select(
        SalesOrder.customer_id.label("customer_id"),
        (SalesOrder.amount - SalesOrder.invoiced_amount).label("amount"),
    ).where(
        SalesOrder.company_id == company_id,
        SalesOrder.currency == currency,
        SalesOrder.status == OrderStatus.OPEN.value,
        SalesOrder.approval == OrderApproval.APPROVED.value,
    )
    if customer_ids is not None:
        receivables = receivables.where(Invoice.customer_id.in_(customer_ids))
        orders = orders.where(SalesOrder.customer_id.in_(customer_ids))
    if exclude is not None:
        orders = orders.where(SalesOrder.id != exclude)
    both = union_all(receivables, orders).subquery()
    return select(both.c.customer_id, func.sum(both.c.amount)).group_by(both.c.customer_id)


def _members(session: Session, group: CustomerGroup) -> list[int]:
    return list(
        session.scalars(
            select(CustomerGroupMember.customer_id).where(
                CustomerGroupMember.company_id == group.company_id,
                CustomerGroupMember.group_id == group.id,
            )
        )
    )


def _oldest_overdue_days(session: Session, *, customer: Customer, as_of: dt.date) -> int | None:
    """Days the oldest open invoice is past due on ``as_of``; None if nothing is past due."""
    oldest = session.scalar(
        select(func.min(Invoice.due_date)).where(
            Invoice.company_id == customer.company_id,
            Invoice.customer_id == customer.id,
            Invoice.open_amount > 0,
        )
    )
    if oldest is None or oldest >= as_of:
        return None
    return (as_of - oldest).days


def _blacklisted(session: Session, *, company_id: int, customer: Customer) -> bool:
    # Imported here: the blacklist service is its own module, written alongside this one.
    from huikuan.credit.blacklist import blacklist_matches

    return bool(blacklist_matches(session, company_id=company_id, customer=customer))


def _write_decision(
    session: Session, actor: Actor, order: SalesOrder, decision: str, *, by: str,
    facts: CreditFacts, note: str = "",
) -> OrderDecision:  # fmt: skip
    row = OrderDecision(
        company_id=order.company_id, order_id=order.id, decision=decision,
        reasons=json.dumps([r.to_json() for r in facts.reasons], ensure_ascii=False),
        exposure=facts.exposure, limit_amount=facts.limit, decided_by=by,
        decided_at=_moment(actor), note=note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


# --- decisions by people ---------------------------------------------------------------------


def approve_order(
    session: Session, *, actor: Actor, approver_name: str, approver_role: str, company_id: int,
    number: str, note: str = "",
) -> OrderDecision:  # fmt: skip
    """A person approves a pending order. Over a hold or the blacklist only with a note."""
    return _decide_by_person(
        session, actor=actor, approver_name=approver_name, approver_role=approver_role,
        company_id=company_id, number=number, note=note, approve=True,
    )  # fmt: skip


def reject_order(
    session: Session, *, actor: Actor, approver_name: str, approver_role: str, company_id: int,
    number: str, note: str = "",
) -> OrderDecision:  # fmt: skip
    """A person rejects a pending order; the note (why) is required so sales can tell the
    customer. A rejected order no longer counts in exposure and is never re-checked."""
    return _decide_by_person(
        session, actor=actor, approver_name=approver_name, approver_role=approver_role,
        company_id=company_id, number=number, note=note, approve=False,
    )  # fmt: skip


def _decide_by_person(
    session: Session, *, actor: Actor, approver_name: str, approver_role: str, company_id: int,
    number: str, note: str, approve: bool,
) -> OrderDecision:  # fmt: skip
    order = get_order(session, company_id=company_id, number=number, lock=True)
    customer = session.get_one(Customer, order.customer_id)
    check_approver(order, customer, approver_name=approver_name, approver_role=approver_role)
    if order.status != OrderStatus.OPEN or order.approval != OrderApproval.PENDING:
        raise Conflict(
            f"订单 {order.number} 不在待审批状态 / order {order.number} is not waiting for approval"
        )
    note = _checked_note(note)
    last = latest_decision(session, order)
    facts = CreditFacts(
        decision_reasons(last), last.exposure if last else 0, last.limit_amount if last else None
    )
    if approve:
        _require_note_over_stops(session, customer, facts.reasons, note)
    elif not note:
        raise InvalidInput("驳回须填写原因 / a rejection needs a note saying why")
    order.approval = (OrderApproval.APPROVED if approve else OrderApproval.REJECTED).value
    decision = _write_decision(
        session, actor, order, Decision.APPROVED if approve else Decision.REJECTED,
        by=approver_name.strip(), facts=facts, note=note,
    )  # fmt: skip
    _audit(session, actor, order, "approve" if approve else "reject", {"approval": "pending"},
           {"approval": order.approval, "approver": decision.decided_by, "note": note})  # fmt: skip
    return decision


def check_approver(
    order: SalesOrder, customer: Customer, *, approver_name: str, approver_role: str
) -> None:
    """Salespeople never decide on credit, nobody decides on their own customer's order, and
    only roles with the right to approve orders decide at all."""
    name = approver_name.strip()
    if not name:
        raise InvalidInput("须填写审批人 / the approver is required")
    if approver_role == Role.SALES:
        raise Forbidden("销售人员不能审批订单 / salespeople cannot approve or reject orders")
    if not may(approver_role, Right.APPROVE_ORDERS):
        raise Forbidden(
            f"角色 {approver_role} 无权审批订单 / role {approver_role} may not approve orders"
        )
    if name in {customer.salesperson.strip(), order.salesperson.strip()}:
        raise Forbidden(
            f"{name} 是客户 {customer.code} 的销售，不能审批其订单 / "
            f"{name} is the salesperson of customer {customer.code} and cannot decide its orders"
        )


def _require_note_over_stops(
    session: Session, customer: Customer, reasons: list[Reason], note: str
) -> None:
    """Approving over a hold or the blacklist overrides a deliberate stop: say why. Holds and
    the blacklist are read again, as one may have been placed since the order was checked."""
    codes = {r.code for r in reasons}
    if active_holds(session, company_id=customer.company_id, customer_id=customer.id):
        codes.add(approval.ReasonCode.ON_HOLD)
    if _blacklisted(session, company_id=customer.company_id, customer=customer):
        codes.add(approval.ReasonCode.BLACKLISTED)
    if codes & approval.NEEDS_NOTE and not note:
        raise InvalidInput(
            "客户被冻结或在黑名单中，批准须填写说明 / "
            "the customer is on hold or blacklisted: approving needs a note saying why"
        )


# --- changes that re-run the check -----------------------------------------------------------


def change_order_lines(
    session: Session, *, actor: Actor, company_id: int, number: str,
    lines: Sequence[OrderLineInput], as_of: dt.date,
) -> SalesOrder:  # fmt: skip
    """Replace the lines of a pending or approved open order (new quantities and prices) and
    check it again: a change that takes the customer over the limit sends it back to pending,
    even if a person had approved it before."""
    amounts = _line_amounts(lines)
    order = _lock_with_customer(session, company_id=company_id, number=number)
    _require_open(order)
    _refuse_rejected(order)
    _refuse_below_progress(order, sum(amounts))
    before = order_facts(session, order)
    session.execute(delete(SalesOrderLine).where(SalesOrderLine.order_id == order.id))
    _add_lines(session, order, list(zip(range(1, len(lines) + 1), lines, amounts, strict=True)))
    order.amount = sum(amounts)
    _audit(session, actor, order, "change_lines", before, order_facts(session, order))
    check_order(session, actor=actor, company_id=company_id, order=order, as_of=as_of)
    return order


def reopen_order(
    session: Session, *, actor: Actor, company_id: int, number: str, as_of: dt.date
) -> SalesOrder:
    """A closed order with something left to invoice is opened again and checked again: its
    remainder comes back into exposure, so it must fit the customer's credit as it is now."""
    order = _lock_with_customer(session, company_id=company_id, number=number)
    if order.status != OrderStatus.CLOSED:
        raise Conflict(f"只能重开已关闭的订单 / only a closed order can be reopened: {number}")
    _refuse_rejected(order)
    if order.invoiced_amount >= order.amount:
        raise Conflict(f"订单 {number} 已全部开票 / order {number} is fully invoiced")
    before = {"status": order.status}
    order.status = OrderStatus.OPEN.value
    _audit(session, actor, order, "reopen", before, {"status": order.status})
    check_order(session, actor=actor, company_id=company_id, order=order, as_of=as_of)
    return order


def split_order(
    session: Session, *, actor: Actor, company_id: int, number: str, new_number: str,
    line_numbers: Sequence[int], as_of: dt.date,
) -> SalesOrder:  # fmt: skip
    """Move some lines to a new order (``split_from_id`` points back) and check both: the
    original first (it only shrinks), then the new one. Returns the new order."""
    new_number = _checked_number(new_number)
    order = _lock_with_customer(session, company_id=company_id, number=number)
    _require_open(order)
    _refuse_rejected(order)
    moving = _lines_to_move(session, order, line_numbers)
    moved = sum(line.amount for line in moving)
    _refuse_below_progress(order, order.amount - moved)
    _refuse_existing(session, company_id=company_id, number=new_number)
    before = order_facts(session, order)
    new = SalesOrder(
        company_id=company_id, customer_id=order.customer_id, number=new_number,
        ordered_on=order.ordered_on, amount=moved, currency=order.currency,
        status=OrderStatus.OPEN.value, approval=OrderApproval.PENDING.value, shipped_amount=0,
        invoiced_amount=0, salesperson=order.salesperson, split_from_id=order.id,
    )  # fmt: skip
    session.add(new)
    session.flush()
    for line in moving:
        line.order_id = new.id
    order.amount -= moved
    session.flush()
    _audit(session, actor, order, "split", before, order_facts(session, order))
    _audit(session, actor, new, "create", None, order_facts(session, new))
    check_order(session, actor=actor, company_id=company_id, order=order, as_of=as_of)
    check_order(session, actor=actor, company_id=company_id, order=new, as_of=as_of)
    return new


def _lines_to_move(
    session: Session, order: SalesOrder, line_numbers: Sequence[int]
) -> list[SalesOrderLine]:
    lines = order_lines(session, order)
    chosen = set(line_numbers)
    unknown = sorted(chosen - {line.line_no for line in lines})
    if unknown:
        raise InvalidInput(
            f"订单 {order.number} 没有第 {unknown} 行 / order {order.number} has no line {unknown}"
        )
    if not chosen or len(chosen) == len(lines):
        raise InvalidInput(
            "拆分须移走部分行、至少保留一行 / a split moves some lines and keeps at least one"
        )
    return [line for line in lines if line.line_no in chosen]


def _lock_with_customer(session: Session, *, company_id: int, number: str) -> SalesOrder:
    """Group and customer locks first, then the order row (the module's lock order): for
    changes that re-run the check, and for shipping, which must see a supply stop placed
    at the same moment."""
    customer_id = session.scalar(
        select(SalesOrder.customer_id).where(
            SalesOrder.company_id == company_id, SalesOrder.number == number
        )
    )
    if customer_id is None:
        raise NotFound(f"没有订单 {number} / no order {number}")
    lock_credit_rows(session, company_id=company_id, customer_id=customer_id)
    return get_order(session, company_id=company_id, number=number, lock=True)


# --- shipping, invoicing, closing -------------------------------------------------------------


def ship_order(
    session: Session, *, actor: Actor, company_id: int, number: str, amount: int
) -> SalesOrder:
    """Record goods shipped (value in fen). Only approved open orders ship, never more than
    the order, and not while the customer's supply is stopped. Shipping does not change
    exposure: the goods stay in the order's remainder until invoiced."""
    _require_positive(amount)
    order = _lock_with_customer(session, company_id=company_id, number=number)
    _require_open(order)
    _require_approved(order, zh="发货", en="shipped")
    holds = active_holds(session, company_id=company_id, customer_id=order.customer_id)
    if any(h.kind == HoldKind.SUPPLY_STOP for h in holds):
        raise Conflict(
            f"客户已暂停供货，订单 {number} 不能发货 / supply to the customer is stopped: "
            f"order {number} cannot ship"
        )
    if order.shipped_amount + amount > order.amount:
        raise Conflict(
            f"发货超过订单金额 / shipping more than order {number}: "
            f"{order.shipped_amount} + {amount} > {order.amount} fen"
        )
    before = {"shipped_amount": order.shipped_amount}
    order.shipped_amount += amount
    _audit(session, actor, order, "ship", before, {"shipped_amount": order.shipped_amount})
    return order


def invoice_order(
    session: Session, *, actor: Actor, company_id: int, number: str, amount: int
) -> SalesOrder:
    """Record that ``amount`` of the order was invoiced (the invoice itself is recorded in the
    ledger): it leaves the order's remainder as it becomes a receivable. Fully invoiced,
    the order closes. Only approved open orders are invoiced, never beyond their amount."""
    _require_positive(amount)
    order = get_order(session, company_id=company_id, number=number, lock=True)
    _require_open(order)
    _require_approved(order, zh="开票", en="invoiced")
    if order.invoiced_amount + amount > order.amount:
        raise Conflict(
            f"开票超过订单金额 / invoicing more than order {number}: "
            f"{order.invoiced_amount} + {amount} > {order.amount} fen"
        )
    before = {"invoiced_amount": order.invoiced_amount, "status": order.status}
    order.invoiced_amount += amount
    if order.invoiced_amount == order.amount:
        order.status = OrderStatus.CLOSED.value
    after = {"invoiced_amount": order.invoiced_amount, "status": order.status}
    _audit(session, actor, order, "invoice", before, after)
    return order


def close_order(
    session: Session, *, actor: Actor, company_id: int, number: str, reason: str = ""
) -> SalesOrder:
    """Close an open order by hand: what was not invoiced leaves exposure."""
    order = get_order(session, company_id=company_id, number=number, lock=True)
    _require_open(order)
    order.status = OrderStatus.CLOSED.value
    _audit(session, actor, order, "close", {"status": "open"},
           {"status": order.status, "reason": reason.strip()})  # fmt: skip
    return order


def cancel_order(
    session: Session, *, actor: Actor, company_id: int, number: str, reason: str = ""
) -> SalesOrder:
    """Cancel an open order that nothing was shipped or invoiced on (else close it)."""
    order = get_order(session, company_id=company_id, number=number, lock=True)
    _require_open(order)
    if order.shipped_amount or order.invoiced_amount:
        raise Conflict(
            f"订单 {number} 已发货或开票，请关闭而非取消 / order {number} has shipments or "
            "invoices: close it instead of cancelling"
        )
    order.status = OrderStatus.CANCELLED.value
    _audit(session, actor, order, "cancel", {"status": "open"},
           {"status": order.status, "reason": reason.strip()})  # fmt: skip
    return order


# --- reading ---------------------------------------------------------------------------------


def get_order(session: Session, *, company_id: int, number: str, lock: bool = False) -> SalesOrder:
    """The company's order by number; locked (and re-read) when asked."""
    query = select(SalesOrder).where(
        SalesOrder.company_id == company_id, SalesOrder.number == number
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"没有订单 {number} / no order {number}")
    return order


def order_lines(session: Session, order: SalesOrder) -> list[SalesOrderLine]:
    return list(
        session.scalars(
            select(SalesOrderLine)
            .where(SalesOrderLine.order_id == order.id)
            .order_by(SalesOrderLine.line_no)
        )
    )


def order_decisions(session: Session, order: SalesOrder) -> list[OrderDecision]:
    """Every credit decision on the order, oldest first."""
    return list(
        session.scalars(
            select(OrderDecision)
            .where(OrderDecision.order_id == order.id)
            .order_by(OrderDecision.id)
        )
    )


def latest_decision(session: Session, order: SalesOrder) -> OrderDecision | None:
    return session.scalar(
        select(OrderDecision)
        .where(OrderDecision.order_id == order.id)
        .order_by(OrderDecision.id.desc())
        .limit(1)
    )


def decision_reasons(decision: OrderDecision | None) -> list[Reason]:
    if decision is None:
        return []
    return [Reason.from_json(item) for item in json.loads(decision.reasons)]


def order_facts(session: Session, order: SalesOrder) -> dict[str, object]:
    """The audited facts of an order, with its lines."""
    return {
        "customer": session.get_one(Customer, order.customer_id).code, "ordered_on": order.ordered_on, "amount": order.amount,
        "currency": order.currency, "status": order.status, "approval": order.approval,
        "shipped_amount": order.shipped_amount, "invoiced_amount": order.invoiced_amount,
        "salesperson": order.salesperson, "split_from_id": order.split_from_id,
        "lines": [
            [line.line_no, line.item, line.quantity_milli, line.unit_price, line.amount]
            for line in order_lines(session, order)
        ],
    }  # fmt: skip


# --- small checks ----------------------------------------------------------------------------


def _line_amounts(lines: Sequence[OrderLineInput]) -> list[int]:
    """Each line checked and priced; every problem named by its line number."""
    if not lines:
        raise InvalidInput("订单至少需要一行 / an order needs at least one line")
    problems = []
    for no, line in enumerate(lines, start=1):
        if not line.item.strip() or len(line.item.strip()) > ITEM_LIMIT:
            problems.append(f"第 {no} 行品名为空或过长 / line {no}: item empty or too long")
        if line.quantity_milli <= 0:
            problems.append(f"第 {no} 行数量须大于零 / line {no}: quantity must be positive")
        if line.unit_price < 0:
            problems.append(f"第 {no} 行单价为负 / line {no}: negative unit price")
    if problems:
        raise InvalidInput("; ".join(problems))
    return [approval.line_amount(line.quantity_milli, line.unit_price) for line in lines]


def _add_lines(
    session: Session, order: SalesOrder, lines: list[tuple[int, OrderLineInput, int]]
) -> None:
    rows = [
        SalesOrderLine(
            company_id=order.company_id, order_id=order.id, line_no=line_no,
            item=line.item.strip(), quantity_milli=line.quantity_milli,
            unit_price=line.unit_price, amount=amount,
        )
        for line_no, line, amount in lines
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()


def _checked_number(number: str) -> str:
    number = number.strip()
    if not number or len(number) > NUMBER_LIMIT:
        raise InvalidInput(
            f"订单号为空或超过 {NUMBER_LIMIT} 字 / order number empty or longer than {NUMBER_LIMIT}"
        )
    return number


def _checked_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"说明超过 {NOTE_LIMIT} 字 / note longer than {NOTE_LIMIT} characters")
    return note


def _refuse_existing(session: Session, *, company_id: int, number: str) -> None:
    exists = session.scalar(
        select(SalesOrder.id).where(
            SalesOrder.company_id == company_id, SalesOrder.number == number
        )
    )
    if exists is not None:
        raise Conflict(f"订单号 {number} 已存在 / order number {number} already exists")


def _refuse_below_progress(order: SalesOrder, amount: int) -> None:
    floor = max(order.shipped_amount, order.invoiced_amount)
    if amount < floor:
        raise Conflict(
            f"订单 {order.number} 金额不能低于已发货或已开票金额 {floor} 分 / order "
            f"{order.number} cannot drop below what was shipped or invoiced ({floor} fen)"
        )


def _require_open(order: SalesOrder) -> None:
    if order.status != OrderStatus.OPEN:
        raise Conflict(
            f"订单 {order.number} 状态为 {order.status} / order {order.number} is {order.status}"
        )


def _refuse_rejected(order: SalesOrder) -> None:
    if order.approval == OrderApproval.REJECTED:
        raise Conflict(
            f"订单 {order.number} 已被驳回，请新建订单 / order {order.number} was rejected: "
            "enter a new order instead"
        )


def _require_approved(order: SalesOrder, *, zh: str, en: str) -> None:
    if order.approval != OrderApproval.APPROVED:
        raise Conflict(
            f"订单 {order.number} 未获信用审批，不能{zh} / order {order.number} is not "
            f"credit-approved and cannot be {en}"
        )


def _require_positive(amount: int) -> None:
    if amount <= 0:
        raise InvalidInput("金额必须大于零 / the amount must be positive")


def _audit(
    session: Session, actor: Actor, order: SalesOrder, action: str,
    before: Mapping[str, object] | None, after: Mapping[str, object] | None,
) -> None:  # fmt: skip
    record_change(
        session, actor=actor, company_id=order.company_id, entity="sales_order",
        entity_id=order.number, action=action, before=dict(before) if before else None,
        after=dict(after) if after else None,
    )  # fmt: skip


def _moment(actor: Actor) -> dt.datetime:
    """The actor's moment as a naive timestamp, as the audit trail stores it."""
    return actor.at.replace(tzinfo=None)
