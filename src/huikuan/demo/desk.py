"""The demo collector's desk over the weeks of history: calls and visits with the classic
excuses and what they start, promises kept, partly kept and broken (judged by the daily run from
the money that did or did not arrive), a quality dispute raised on a call and a payment plan
agreed with a customer in difficulty. Everything goes through the same services a collector
uses, so the timeline, follow-ups and audit trail are those of a working desk.

``desk_day`` is called for every working day of the history before that day's daily run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections import contact_log, disputes, plans, promises
from huikuan.collections.models import PromiseInvoice, PromiseToPay
from huikuan.core.audit import Actor
from huikuan.core.calendar import load_calendar
from huikuan.customers.models import Customer
from huikuan.ledger import service as ledger
from huikuan.ledger.models import Invoice

COLLECTOR = "collector"  # the demo user who logs the calls
APPROVER = "credit"  # the demo credit manager who approves the plan


@dataclass(slots=True)
class DeskCast:
    """Customers with overdue invoices, each given one part to play, and what was done."""

    customers: list[int]
    played: dict[str, int] = field(default_factory=dict)


def choose_cast(session: Session, company_id: int, as_of: dt.date, taken: set[int]) -> DeskCast:
    """Customers whose oldest invoices were overdue three weeks before ``as_of`` (so they are
    overdue on every day of the history), in a fixed order, leaving out those already used."""
    rows = session.execute(
        select(Invoice.customer_id)
        .where(
            Invoice.company_id == company_id,
            Invoice.open_amount > 0,
            Invoice.due_date < as_of - dt.timedelta(days=60),
        )
        .group_by(Invoice.customer_id)
        .order_by(Invoice.customer_id)
    ).all()
    return DeskCast([row[0] for row in rows if row[0] not in taken])


def desk_day(
    session: Session, *, company_id: int, day: dt.date, number: int | None, cast: DeskCast
) -> None:
    """What happens on ``day``: the collector's scene of the ``number``-th working day of the
    history (0-based; None on a day off), and any money a promise brings that day."""
    scenes: dict[int, Callable[[_Scene], None]] = {
        0: _already_paid,
        1: _promise_to_keep,
        2: _promise_to_break,
        3: _promise_in_two_parts,
        4: _quality_problem,
        5: _financial_difficulty,
        6: _no_answer_then_boss_away,
        7: _goods_not_sold,
        8: _missing_order_number,
    }
    scene = scenes.get(number) if number is not None else None
    if scene is not None and number is not None and len(cast.customers) > number:
        customer = session.get_one(Customer, cast.customers[number])
        scene(_Scene(session, company_id, day, customer))
        cast.played[scene.__name__.strip("_")] = customer.id
    _payments_promised(session, company_id, day, cast)


@dataclass(slots=True)
class _Scene:
    session: Session
    company_id: int
    day: dt.date
    customer: Customer

    def actor(self, hour: int = 10, name: str = COLLECTOR) -> Actor:
        return Actor(name=name, source="demo", at=dt.datetime.combine(self.day, dt.time(hour)))

    def open_invoices(self) -> list[Invoice]:
        """The customer's open invoices already issued and due on the scene's day (the demo
        ledger holds the whole history, later invoices included)."""
        return list(
            self.session.scalars(
                select(Invoice)
                .where(
                    Invoice.customer_id == self.customer.id,
                    Invoice.open_amount > 0,
                    Invoice.due_date < self.day,
                )
                .order_by(Invoice.due_date, Invoice.id)
            )
        )

    def call(
        self,
        outcome: str,
        *,
        hour: int = 10,
        channel: str = "phone",
        reached: str = "财务",
        **kw: object,
    ) -> None:
        contact_log.log_contact(
            self.session,
            actor=self.actor(hour),
            company_id=self.company_id,
            customer=self.customer,
            contacted_at=dt.datetime.combine(self.day, dt.time(hour, 20)),
            channel=channel,
            outcome=outcome,
            reached=reached if outcome != "no_answer" else "",
            calendar=load_calendar(self.session, company_id=self.company_id),
            **kw,  # type: ignore[arg-type]
        )

    def promise(self, instalments: list[tuple[int, int]], note: str) -> None:
        """Instalments as (days from today, share of the open total in percent)."""
        invoices = self.open_invoices()
        total = sum(i.open_amount for i in invoices)
        promises.record_promise(
            self.session,
            actor=self.actor(),
            company_id=self.company_id,
            customer=self.customer,
            invoice_numbers=[i.number for i in invoices],
            instalments=[
                (self.day + dt.timedelta(days=days), total * share // 100)
                for days, share in instalments
            ],
            made_on=self.day,
            made_by="财务",
            note=note,
        )


def _already_paid(scene: _Scene) -> None:
    # The customer says it paid yesterday; no such money arrives, so the check two working
    # days later flags the claim.
    total = sum(i.open_amount for i in scene.open_invoices())
    scene.call(
        "paid_claimed",
        excuse="already_paid",
        facts={
            "date": (scene.day - dt.timedelta(days=1)).isoformat(),
            "amount": f"{total / 100:.2f}",
            "reference": "HQ20261101007",
        },
        note="称昨天已通过网银付款",
    )


def _promise_to_keep(scene: _Scene) -> None:
    scene.call("promised", note="答应五天内付清")
    scene.promise([(5, 100)], "财务主管电话承诺五天内付清")


def _promise_to_break(scene: _Scene) -> None:
    scene.call("promised", excuse="customer_not_paid", facts={"expected_on": (scene.day + dt.timedelta(days=3)).isoformat()}, note="说下游回款后三天内付")  # fmt: skip
    scene.promise([(3, 100)], "下游客户回款后三天内付清")


def _promise_in_two_parts(scene: _Scene) -> None:
    scene.call("promised", channel="visit", hour=15, reached="王总", note="上门拜访，同意分两次付")
    scene.promise([(4, 50), (11, 50)], "上门拜访后同意分两期付清")


def _quality_problem(scene: _Scene) -> None:
    first = scene.open_invoices()[0]
    scene.call(
        "disputed",
        excuse="quality_problem",
        facts={"invoices": first.number, "problem": "部分批次尺寸偏差，要求退换"},
    )
    disputes.raise_dispute(
        scene.session,
        actor=scene.actor(),
        company_id=scene.company_id,
        invoice_number=first.number,
        amount=max(first.open_amount // 4, 1),
        reason="quality",
        raised_on=scene.day,
        note="客户反映部分批次尺寸偏差",
    )


def _financial_difficulty(scene: _Scene) -> None:
    # The customer admits difficulty: a debt acknowledgment to sign, reviews for the credit
    # manager, and a plan of three monthly instalments the collector proposes and the credit
    # manager approves (as themself: the proposer cannot).
    scene.call("reached", excuse="financial_difficulty", reached="李总", note="资金紧张，希望分期")
    invoices = scene.open_invoices()
    plan = plans.agree_plan(
        scene.session,
        actor=scene.actor(hour=16),
        company_id=scene.company_id,
        customer=scene.customer,
        invoice_numbers=[i.number for i in invoices],
        schedule=plans.ScheduleRequest.equal(scene.day + dt.timedelta(days=10), 3),
        waive_late_fees=True,
        agreed_on=scene.day,
        note="资金紧张，分三期按月付清，免收期间违约金",
    )
    plans.decide_plan(
        scene.session,
        actor=scene.actor(hour=17, name=APPROVER),
        company_id=scene.company_id,
        plan_id=plan.id,
        approve=True,
        note="同意分期",
        decided_on=scene.day,
    )


def _no_answer_then_boss_away(scene: _Scene) -> None:
    scene.call("no_answer", hour=9)
    scene.call(
        "reached",
        hour=14,
        excuse="boss_away",
        facts={"deputy": "陈副总", "deputy_phone": "13900000000"},
        next_step_on=scene.day + dt.timedelta(days=2),
    )


def _goods_not_sold(scene: _Scene) -> None:
    scene.call("reached", channel="wechat", excuse="goods_not_sold", note="说货还压在仓库")


def _missing_order_number(scene: _Scene) -> None:
    first = scene.open_invoices()[0]
    scene.call(
        "reached",
        excuse="missing_order_number",
        facts={"invoices": first.number, "order_number": "PO-2026-0815"},
    )


# Money that does arrive, per part: (days after the promise, percent of the promised total).
PAID = {
    "promise_to_keep": ((5, 100),),  # in full on the day: kept
    "promise_in_two_parts": ((4, 50), (11, 15)),  # the first half, then a little: partly kept
}


def _payments_promised(session: Session, company_id: int, day: dt.date, cast: DeskCast) -> None:
    for part, payments in PAID.items():
        customer_id = cast.played.get(part)
        promise = _open_promise(session, customer_id) if customer_id is not None else None
        if promise is None:
            continue
        for days, percent in payments:
            if promise.made_on + dt.timedelta(days=days) == day:
                _pay(session, company_id, day, promise, promise.amount * percent // 100)


def _pay(
    session: Session, company_id: int, day: dt.date, promise: PromiseToPay, amount: int
) -> None:
    customer = session.get_one(Customer, promise.customer_id)
    numbers = session.scalars(
        select(Invoice.number)
        .join(PromiseInvoice, PromiseInvoice.invoice_id == Invoice.id)
        .where(PromiseInvoice.promise_id == promise.id, Invoice.open_amount > 0)
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    ledger.record_payment(
        session,
        actor=Actor(name="finance", source="demo", at=dt.datetime.combine(day, dt.time(11))),
        company_id=company_id,
        customer=customer,
        received_on=day,
        amount=amount,
        reference=f"DEMO-{customer.code}-{day:%m%d}",
        payer_name=customer.name,
        invoice_numbers=list(numbers),
    )


def _open_promise(session: Session, customer_id: int) -> PromiseToPay | None:
    return session.scalar(
        select(PromiseToPay)
        .where(PromiseToPay.customer_id == customer_id)
        .order_by(PromiseToPay.id.desc())
        .limit(1)
    )
