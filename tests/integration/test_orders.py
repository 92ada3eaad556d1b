"""Sales orders on credit: the check and each of its reasons, decisions by people, changes
that re-run the check, shipping and invoicing, holds, and two checks racing on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.audit import Actor, history
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from huikuan.core.models import Company
from huikuan.credit import holds, orders
from huikuan.credit.approval import ReasonCode
from huikuan.credit.models import (
    BlacklistEntry,
    CreditLimit,
    CustomerGroup,
    CustomerGroupMember,
)
from huikuan.credit.orders import OrderLineInput
from huikuan.customers.models import Customer
from huikuan.ledger import service
from huikuan.ledger.models import SalesOrder
from tests.actors import ACTOR
from tests.integration import ledger_builders as build

D = dt.date
AS_OF = D(2026, 3, 31)
MANAGER = {"approver_name": "李经理", "approver_role": "credit_manager"}


def set_limit(
    session: Session, company: Company, cust: Customer, amount: int, *, prepayment: bool = False
) -> CreditLimit:
    row = CreditLimit(
        company_id=company.id, customer_id=cust.id, source="policy", status="approved",
        amount=amount, terms_days=30, valid_from=D(2026, 1, 1), prepayment_required=prepayment,
        created_at=ACTOR.at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def line(amount: int, item: str = "螺纹钢") -> OrderLineInput:
    """One unit at ``amount`` fen."""
    return OrderLineInput(item, 1000, amount)


def new_order(
    session: Session, company: Company, cust: Customer, number: str, *amounts: int
) -> SalesOrder:
    return orders.create_order(
        session, actor=ACTOR, company_id=company.id, customer=cust, number=number,
        ordered_on=AS_OF, lines=[line(a) for a in amounts], as_of=AS_OF,
    )  # fmt: skip


def reason_codes(session: Session, order: SalesOrder) -> list[str]:
    return [r.code.value for r in orders.decision_reasons(orders.latest_decision(session, order))]


def exposure_of(session: Session, company: Company, cust: Customer) -> int:
    return orders.order_exposure(session, company_id=company.id, customer_ids=[cust.id]).get(
        cust.id, 0
    )


@pytest.fixture
def cust(session: Session, company: Company) -> Customer:
    customer = build.customer(session, company, salesperson="王销售")
    set_limit(session, company, customer, 1000_00)
    return customer


# --- the check ---------------------------------------------------------------------------------


def test_an_order_within_the_limit_is_approved_by_the_system(
    session: Session, company: Company, cust: Customer
) -> None:
    order = new_order(session, company, cust, "SO-1", 300_00, 200_50)
    assert order.amount == 500_50
    assert order.approval == "approved" and order.status == "open"
    assert order.salesperson == "王销售"
    [decision] = orders.order_decisions(session, order)
    assert (decision.decision, decision.decided_by) == ("auto_approved", "system")
    assert (decision.exposure, decision.limit_amount) == (500_50, 1000_00)
    assert json.loads(decision.reasons) == []
    actions = [r.action for r in history(session, company_id=company.id, entity="sales_order",
                                         entity_id="SO-1")]  # fmt: skip
    assert actions == ["create", "check"]


def test_line_amounts_are_quantity_times_price_rounded_half_up(
    session: Session, company: Company, cust: Customer
) -> None:
    order = orders.create_order(
        session, actor=ACTOR, company_id=company.id, customer=cust, number="SO-1",
        ordered_on=AS_OF, lines=[OrderLineInput("水泥", 2500, 1_01), OrderLineInput("砂", 1500, 3)],
        as_of=AS_OF,
    )  # fmt: skip
    assert [x.amount for x in orders.order_lines(session, order)] == [253, 5]  # 252.5 and 4.5
    assert order.amount == 258


def test_a_customer_without_a_limit_waits_for_a_person(session: Session, company: Company) -> None:
    other = build.customer(session, company, code="C002", name="无额度客户")
    order = new_order(session, company, other, "SO-1", 1_00)
    assert order.approval == "pending"
    assert reason_codes(session, order) == ["no_limit"]
    assert orders.latest_decision(session, order).limit_amount is None  # type: ignore[union-attr]


def test_the_limit_holds_to_the_fen_counting_receivables_and_approved_orders(
    session: Session, company: Company, cust: Customer
) -> None:
    build.invoice(session, company, cust, "INV-1", D(2026, 3, 20), 600_00)
    assert new_order(session, company, cust, "SO-1", 300_00).approval == "approved"
    exactly = new_order(session, company, cust, "SO-2", 100_00)
    assert exactly.approval == "approved"
    assert orders.latest_decision(session, exactly).exposure == 1000_00  # type: ignore[union-attr]
    one_fen = new_order(session, company, cust, "SO-3", 1)
    assert one_fen.approval == "pending"
    [reason] = orders.decision_reasons(orders.latest_decision(session, one_fen))
    assert reason.code is ReasonCode.OVER_LIMIT
    assert dict(reason.amounts) == {"exposure": 1000_00, "order": 1, "limit": 1000_00, "excess": 1}
    assert "¥0.01" in reason.message
    # A pending order is not exposure: the next small order is judged without it.
    assert exposure_of(session, company, cust) == 1000_00


@pytest.mark.parametrize(("days", "waits"), [(30, False), (31, True)])
def test_an_invoice_more_than_the_policy_days_overdue_makes_orders_wait(
    session: Session, company: Company, cust: Customer, days: int, waits: bool
) -> None:
    due = AS_OF - dt.timedelta(days=days)
    service.record_invoice(
        session, actor=ACTOR, company_id=company.id, customer=cust, number="INV-1",
        issue_date=due - dt.timedelta(days=30), due_date=due, amount=10_00,
    )  # fmt: skip
    order = new_order(session, company, cust, "SO-1", 10_00)
    assert reason_codes(session, order) == (["overdue"] if waits else [])


def test_a_paid_overdue_invoice_no_longer_counts(
    session: Session, company: Company, cust: Customer
) -> None:
    build.invoice(session, company, cust, "INV-1", D(2025, 12, 1), 10_00)
    service.record_payment(
        session, actor=ACTOR, company_id=company.id, customer=cust, received_on=D(2026, 3, 1),
        amount=10_00,
    )  # fmt: skip
    assert new_order(session, company, cust, "SO-1", 10_00).approval == "approved"


def test_holds_make_orders_wait_until_released(
    session: Session, company: Company, cust: Customer
) -> None:
    hold = holds.place_on_hold(
        session, actor=ACTOR, company_id=company.id, customer=cust, kind="supply_stop",
        reason="逾期未付 / overdue",
    )  # fmt: skip
    assert (hold.origin, hold.placed_by) == ("manual", "test")
    order = new_order(session, company, cust, "SO-1", 10_00)
    assert reason_codes(session, order) == ["on_hold"]
    released = holds.release_hold(
        session, actor=ACTOR, company_id=company.id, customer=cust, kind="supply_stop",
        reason="已付清 / paid",
    )  # fmt: skip
    assert (released.released_by, released.release_reason) == ("test", "已付清 / paid")
    assert holds.active_holds(session, company_id=company.id, customer_id=cust.id) == []
    assert new_order(session, company, cust, "SO-2", 10_00).approval == "approved"


def test_a_hold_needs_a_reason_and_only_one_of_a_kind_is_active(
    session: Session, company: Company, cust: Customer
) -> None:
    def place(kind: str, reason: str = "原因") -> object:
        return holds.place_on_hold(
            session, actor=ACTOR, company_id=company.id, customer=cust, kind=kind, reason=reason,
            origin="collections",
        )  # fmt: skip

    with pytest.raises(InvalidInput):
        place("credit_hold", "  ")
    with pytest.raises(InvalidInput):
        place("freeze")
    place("credit_hold")
    with pytest.raises(Conflict):
        place("credit_hold")
    place("supply_stop")
    kinds = [
        h.kind for h in holds.active_holds(session, company_id=company.id, customer_id=cust.id)
    ]
    assert kinds == ["credit_hold", "supply_stop"]
    with pytest.raises(NotFound):
        other = build.customer(session, company, code="C002", name="别家")
        holds.release_hold(
            session, actor=ACTOR, company_id=company.id, customer=other, kind="credit_hold",
            reason="x",
        )  # fmt: skip
    audit = history(session, company_id=company.id, entity="credit_hold", entity_id=1)
    assert [r.action for r in audit] == ["place"]


def blacklist(session: Session, company: Company, name: str) -> None:
    session.add(
        BlacklistEntry(company_id=company.id, name=name, reason="拖欠货款", listed_on=D(2026, 1, 5))
    )
    session.flush()


def test_a_blacklisted_customer_waits_and_is_approved_only_with_a_note(
    session: Session, company: Company, cust: Customer
) -> None:
    blacklist(session, company, cust.name)
    order = new_order(session, company, cust, "SO-1", 10_00)
    assert reason_codes(session, order) == ["blacklisted"]
    with pytest.raises(InvalidInput, match="note"):
        orders.approve_order(
            session, actor=ACTOR, company_id=company.id, number="SO-1", note=" ", **MANAGER
        )
    decision = orders.approve_order(
        session, actor=ACTOR, company_id=company.id, number="SO-1", note="预付 50% 已到账",
        **MANAGER,
    )  # fmt: skip
    assert (decision.decision, decision.decided_by, decision.note) == (
        "approved", "李经理", "预付 50% 已到账",
    )  # fmt: skip
    assert [r.code for r in orders.decision_reasons(decision)] == [ReasonCode.BLACKLISTED]


def test_a_hold_placed_after_the_check_still_needs_a_note_to_approve(
    session: Session, company: Company
) -> None:
    other = build.customer(session, company, code="C002", name="无额度客户")
    new_order(session, company, other, "SO-1", 10_00)
    holds.place_on_hold(
        session, actor=ACTOR, company_id=company.id, customer=other, kind="credit_hold",
        reason="争议",
    )  # fmt: skip
    with pytest.raises(InvalidInput):
        orders.approve_order(session, actor=ACTOR, company_id=company.id, number="SO-1", **MANAGER)


def group_of(session: Session, company: Company, limit: int, *members: Customer) -> None:
    group = CustomerGroup(company_id=company.id, code="G1", name="华东集团", limit_amount=limit)
    session.add(group)
    session.flush()
    session.add_all(
        CustomerGroupMember(company_id=company.id, customer_id=m.id, group_id=group.id)
        for m in members
    )
    session.flush()


def test_the_group_limit_counts_every_member(
    session: Session, company: Company, cust: Customer
) -> None:
    sister = build.customer(session, company, code="C002", name="华东建材（苏州）有限公司")
    set_limit(session, company, sister, 1000_00)
    group_of(session, company, 1000_00, cust, sister)
    build.invoice(session, company, cust, "INV-1", D(2026, 3, 20), 700_00)
    assert new_order(session, company, sister, "SO-1", 300_00).approval == "approved"
    order = new_order(session, company, sister, "SO-2", 1)
    assert reason_codes(session, order) == ["over_group_limit"]
    [reason] = orders.decision_reasons(orders.latest_decision(session, order))
    assert dict(reason.amounts)["exposure"] == 1000_00
    assert orders.latest_decision(session, order).exposure == 300_01  # type: ignore[union-attr]


def test_a_group_without_a_limit_checks_only_the_customer(
    session: Session, company: Company, cust: Customer
) -> None:
    sister = build.customer(session, company, code="C002", name="姊妹公司")
    group = CustomerGroup(company_id=company.id, code="G1", name="无额度集团", limit_amount=None)
    session.add(group)
    session.flush()
    session.add(CustomerGroupMember(company_id=company.id, customer_id=cust.id, group_id=group.id))
    build.invoice(session, company, sister, "INV-1", D(2026, 3, 20), 5000_00)
    assert new_order(session, company, cust, "SO-1", 1000_00).approval == "approved"


def test_terms_requiring_prepayment_make_orders_wait(session: Session, company: Company) -> None:
    other = build.customer(session, company, code="C002", name="先款后货客户")
    set_limit(session, company, other, 1000_00, prepayment=True)
    order = new_order(session, company, other, "SO-1", 1_00)
    assert reason_codes(session, order) == ["prepayment_required"]


# --- decisions by people -----------------------------------------------------------------------


def test_a_credit_manager_approves_or_rejects_with_who_and_why(
    session: Session, company: Company, cust: Customer
) -> None:
    new_order(session, company, cust, "SO-1", 1200_00)
    new_order(session, company, cust, "SO-2", 1500_00)
    approved = orders.approve_order(
        session, actor=ACTOR, company_id=company.id, number="SO-1", note="临时放宽", **MANAGER
    )
    assert (approved.decision, approved.decided_by, approved.note) == (
        "approved", "李经理", "临时放宽",
    )  # fmt: skip
    assert approved.exposure == 1200_00 and approved.limit_amount == 1000_00
    assert exposure_of(session, company, cust) == 1200_00
    with pytest.raises(InvalidInput):
        orders.reject_order(session, actor=ACTOR, company_id=company.id, number="SO-2", **MANAGER)
    rejected = orders.reject_order(
        session, actor=ACTOR, company_id=company.id, number="SO-2", note="超额太多", **MANAGER
    )
    assert rejected.decision == "rejected"
    so2 = orders.get_order(session, company_id=company.id, number="SO-2")
    assert so2.approval == "rejected"
    assert exposure_of(session, company, cust) == 1200_00  # rejected orders are not exposure
    decisions = [d.decision for d in orders.order_decisions(session, so2)]
    assert decisions == ["pending", "rejected"]
    with pytest.raises(Conflict):
        orders.approve_order(session, actor=ACTOR, company_id=company.id, number="SO-2", **MANAGER)
    with pytest.raises(Conflict):
        orders.check_order(session, actor=ACTOR, company_id=company.id, order=so2, as_of=AS_OF)
    audit = history(session, company_id=company.id, entity="sales_order", entity_id="SO-2")
    assert audit[-1].action == "reject" and "超额太多" in audit[-1].after


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("赵销售", "sales", "salespeople"),
        ("王销售", "credit_manager", "salesperson of customer"),
        ("钱财务", "finance", "may not approve"),
        ("孙催收", "collector", "may not approve"),
    ],
)
def test_who_may_not_decide_on_an_order(
    session: Session, company: Company, cust: Customer, name: str, role: str, message: str
) -> None:
    new_order(session, company, cust, "SO-1", 2000_00)
    for decide in (orders.approve_order, orders.reject_order):
        with pytest.raises(Forbidden, match=message):
            decide(
                session, actor=ACTOR, company_id=company.id, number="SO-1", note="n",
                approver_name=name, approver_role=role,
            )  # fmt: skip
    assert orders.get_order(session, company_id=company.id, number="SO-1").approval == "pending"


# --- changes re-run the check -----------------------------------------------------------------


def test_raising_an_approved_order_beyond_the_limit_sends_it_back_to_pending(
    session: Session, company: Company, cust: Customer
) -> None:
    new_order(session, company, cust, "SO-1", 400_00, 400_00)

    def change(*amounts: int) -> SalesOrder:
        return orders.change_order_lines(
            session, actor=ACTOR, company_id=company.id, number="SO-1",
            lines=[line(a) for a in amounts], as_of=AS_OF,
        )  # fmt: skip

    order = change(400_00, 600_01)
    assert order.amount == 1000_01 and order.approval == "pending"
    assert reason_codes(session, order) == ["over_limit"]
    order = change(400_00, 600_00)
    assert order.approval == "approved"
    decisions = [d.decision for d in orders.order_decisions(session, order)]
    assert decisions == ["auto_approved", "pending", "auto_approved"]
    actions = [r.action for r in history(session, company_id=company.id, entity="sales_order",
                                         entity_id="SO-1")]  # fmt: skip
    assert actions.count("change_lines") == 2


def test_an_order_cannot_be_changed_below_what_was_shipped(
    session: Session, company: Company, cust: Customer
) -> None:
    new_order(session, company, cust, "SO-1", 500_00)
    orders.ship_order(session, actor=ACTOR, company_id=company.id, number="SO-1", amount=300_00)
    with pytest.raises(Conflict):
        orders.change_order_lines(
            session, actor=ACTOR, company_id=company.id, number="SO-1",
            lines=[line(299_99)], as_of=AS_OF,
        )  # fmt: skip


def test_reopening_a_closed_order_checks_it_again(
    session: Session, company: Company, cust: Customer
) -> None:
    new_order(session, company, cust, "SO-1", 500_00)
    orders.close_order(session, actor=ACTOR, company_id=company.id, number="SO-1", reason="暂缓")
    assert exposure_of(session, company, cust) == 0
    build.invoice(session, company, cust, "INV-1", D(2026, 3, 20), 600_00)
    order = orders.reopen_order(
        session, actor=ACTOR, company_id=company.id, number="SO-1", as_of=AS_OF
    )
    assert (order.status, order.approval) == ("open", "pending")
    assert reason_codes(session, order) == ["over_limit"]
    with pytest.raises(Conflict):
        orders.reopen_order(session, actor=ACTOR, company_id=company.id, number="SO-1", as_of=AS_OF)


def test_splitting_moves_lines_and_checks_both_orders(
    session: Session, company: Company, cust: Customer
) -> None:
    order = new_order(session, company, cust, "SO-1", 700_00, 500_00)
    assert order.approval == "pending"
    new = orders.split_order(
        session, actor=ACTOR, company_id=company.id, number="SO-1", new_number="SO-1B",
        line_numbers=[2], as_of=AS_OF,
    )  # fmt: skip
    assert (order.amount, order.approval) == (700_00, "approved")
    assert (new.amount, new.approval, new.split_from_id) == (500_00, "pending", order.id)
    assert reason_codes(session, new) == ["over_limit"]
    assert [x.line_no for x in orders.order_lines(session, new)] == [2]
    assert [x.line_no for x in orders.order_lines(session, order)] == [1]
    for bad in ([], [1, 2], [3]):
        with pytest.raises(InvalidInput):
            orders.split_order(
                session, actor=ACTOR, company_id=company.id, number="SO-1", new_number="SO-1C",
                line_numbers=bad, as_of=AS_OF,
            )  # fmt: skip


# --- shipping and invoicing --------------------------------------------------------------------


def test_shipped_goods_are_counted_once_and_move_to_receivables_when_invoiced(
    session: Session, company: Company, cust: Customer
) -> None:
    new_order(session, company, cust, "SO-1", 500_00)
    orders.ship_order(session, actor=ACTOR, company_id=company.id, number="SO-1", amount=300_00)
    assert exposure_of(session, company, cust) == 500_00
    service.record_invoice(
        session, actor=ACTOR, company_id=company.id, customer=cust, number="INV-1",
        issue_date=AS_OF, due_date=AS_OF + dt.timedelta(days=30), amount=300_00,
        order_number="SO-1",
    )  # fmt: skip
    order = orders.invoice_order(
        session, actor=ACTOR, company_id=company.id, number="SO-1", amount=300_00
    )
    assert exposure_of(session, company, cust) == 500_00
    assert (order.shipped_amount, order.invoiced_amount, order.status) == (300_00, 300_00, "open")
    with pytest.raises(Conflict):
        orders.invoice_order(
            session, actor=ACTOR, company_id=company.id, number="SO-1", amount=200_01
        )
    build.invoice(session, company, cust, "INV-2", AS_OF, 200_00)
    order = orders.invoice_order(
        session, actor=ACTOR, company_id=company.id, number="SO-1", amount=200_00
    )
    assert order.status == "closed"
    assert exposure_of(session, company, cust) == 500_00
    # The next order sees the receivables, not the closed order, and fits what is left.
    assert new_order(session, company, cust, "SO-2", 500_00).approval == "approved"


def test_only_approved_orders_ship_never_beyond_their_amount_nor_under_a_supply_stop(
    session: Session, company: Company, cust: Customer
) -> None:
    def ship(number: str, amount: int) -> SalesOrder:
        return orders.ship_order(
            session, actor=ACTOR, company_id=company.id, number=number, amount=amount
        )

    new_order(session, company, cust, "SO-1", 500_00)
    new_order(session, company, cust, "SO-2", 900_00)  # pending: over the limit together
    with pytest.raises(Conflict, match="not credit-approved"):
        ship("SO-2", 1_00)
    with pytest.raises(Conflict):
        ship("SO-1", 500_01)
    with pytest.raises(InvalidInput):
        ship("SO-1", 0)
    for kind in ("credit_hold", "supply_stop"):
        holds.place_on_hold(
            session, actor=ACTOR, company_id=company.id, customer=cust, kind=kind, reason="逾期"
        )
    with pytest.raises(Conflict, match="supply"):
        ship("SO-1", 1_00)
    holds.release_hold(
        session, actor=ACTOR, company_id=company.id, customer=cust, kind="supply_stop",
        reason="已付",
    )  # fmt: skip
    assert ship("SO-1", 500_00).shipped_amount == 500_00  # a credit hold alone lets it ship


def test_closing_and_cancelling(session: Session, company: Company, cust: Customer) -> None:
    new_order(session, company, cust, "SO-1", 500_00)
    new_order(session, company, cust, "SO-2", 100_00)
    orders.ship_order(session, actor=ACTOR, company_id=company.id, number="SO-1", amount=1_00)
    with pytest.raises(Conflict, match="close it"):
        orders.cancel_order(session, actor=ACTOR, company_id=company.id, number="SO-1")
    cancelled = orders.cancel_order(
        session, actor=ACTOR, company_id=company.id, number="SO-2", reason="客户取消"
    )
    assert cancelled.status == "cancelled"
    assert exposure_of(session, company, cust) == 500_00
    with pytest.raises(Conflict):
        orders.reopen_order(session, actor=ACTOR, company_id=company.id, number="SO-2", as_of=AS_OF)
    with pytest.raises(NotFound):
        orders.close_order(session, actor=ACTOR, company_id=company.id, number="SO-9")


def test_bad_orders_are_refused_with_every_problem(
    session: Session, company: Company, cust: Customer
) -> None:
    with pytest.raises(InvalidInput) as refused:
        orders.create_order(
            session, actor=ACTOR, company_id=company.id, customer=cust, number="SO-1",
            ordered_on=AS_OF, lines=[OrderLineInput("", 0, -1)], as_of=AS_OF,
        )  # fmt: skip
    assert all(word in refused.value.message for word in ("item", "quantity", "price"))
    with pytest.raises(InvalidInput):
        orders.create_order(
            session, actor=ACTOR, company_id=company.id, customer=cust, number="SO-1",
            ordered_on=AS_OF, lines=[], as_of=AS_OF,
        )  # fmt: skip
    new_order(session, company, cust, "SO-1", 1_00)
    with pytest.raises(Conflict):
        new_order(session, company, cust, "SO-1", 1_00)


def test_order_exposure_is_per_customer_and_currency(
    session: Session, company: Company, cust: Customer
) -> None:
    other = build.customer(session, company, code="C002", name="别家")
    set_limit(session, company, other, 10_000_00)
    build.invoice(session, company, cust, "INV-1", AS_OF, 100_00)
    new_order(session, company, cust, "SO-1", 200_00)
    new_order(session, company, other, "SO-2", 300_00)
    service.record_invoice(
        session, actor=ACTOR, company_id=company.id, customer=other, number="INV-USD",
        issue_date=AS_OF, due_date=AS_OF, amount=5_00, currency="USD",
    )  # fmt: skip
    assert orders.order_exposure(session, company_id=company.id) == {
        cust.id: 300_00,
        other.id: 300_00,
    }
    assert orders.order_exposure(session, company_id=company.id, currency="USD") == {other.id: 5_00}
    assert orders.order_exposure(session, company_id=company.id, customer_ids=[]) == {}


# --- two checks at once ------------------------------------------------------------------------


def run_together(work: list[Callable[[], object]]) -> None:
    """Run each callable in its own thread, released together by a barrier; re-raise errors."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            job()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []


def assert_one_approved_one_over_limit(factory: sessionmaker[Session], company: Company) -> None:
    with factory() as s:
        placed = [orders.get_order(s, company_id=company.id, number=n) for n in ("SO-A", "SO-B")]
        assert sorted(o.approval for o in placed) == ["approved", "pending"]
        [waiting] = [o for o in placed if o.approval == "pending"]
        assert "over_limit" in reason_codes(s, waiting)


@pytest.fixture
def limited(backend: str, session: Session, company: Company) -> Customer:
    """A customer with a limit of ¥1,000.00, committed, on PostgreSQL only."""
    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite lets one writer at a time anyway")
    customer = build.customer(session, company)
    set_limit(session, company, customer, 1000_00)
    session.commit()
    return customer


def test_two_orders_created_at_once_cannot_both_pass_when_together_over_the_limit(
    limited: Customer, company: Company, factory: sessionmaker[Session]
) -> None:
    def create(number: str) -> None:
        with unit_of_work(factory) as s:
            orders.create_order(
                s, actor=Actor(f"clerk-{number}", "pytest", ACTOR.at), company_id=company.id,
                customer=s.get_one(Customer, limited.id), number=number, ordered_on=AS_OF,
                lines=[line(600_00)], as_of=AS_OF,
            )  # fmt: skip

    run_together([lambda: create("SO-A"), lambda: create("SO-B")])
    assert_one_approved_one_over_limit(factory, company)


def test_two_waiting_orders_checked_again_at_once_cannot_both_pass(
    limited: Customer, session: Session, company: Company, factory: sessionmaker[Session]
) -> None:
    # Both orders wait on a hold; once it is lifted, two people re-check them at the same
    # moment. Only the customer lock keeps the second check from reading stale exposure.
    holds.place_on_hold(
        session, actor=ACTOR, company_id=company.id, customer=limited, kind="credit_hold",
        reason="核查中",
    )  # fmt: skip
    for number in ("SO-A", "SO-B"):
        assert new_order(session, company, limited, number, 600_00).approval == "pending"
    holds.release_hold(
        session, actor=ACTOR, company_id=company.id, customer=limited, kind="credit_hold",
        reason="核查完毕",
    )  # fmt: skip
    session.commit()

    def check(number: str) -> None:
        with unit_of_work(factory) as s:
            order = orders.get_order(s, company_id=company.id, number=number)
            orders.check_order(s, actor=ACTOR, company_id=company.id, order=order, as_of=AS_OF)

    run_together([lambda: check("SO-A"), lambda: check("SO-B")])
    assert_one_approved_one_over_limit(factory, company)
