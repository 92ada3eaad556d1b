"""The demo company's collections: the default strategies, sender and bank details, a few
customers in dispute, on a promise, on a payment plan or not to be contacted, and the daily
run over the last weeks with the collector's calls, promises, a dispute and a plan on the way
(``demo/desk.py``), so that the timeline and today's actions look like a working desk.

Messages of past days are marked sent with the provider id ``demo``: the demo has no mail
server; nothing left the machine. Today's run is left for the user to press.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections.daily import collection_settings, run_daily
from huikuan.collections.excuses import install_default_excuses
from huikuan.collections.models import (
    CollectionAction,
    Delivery,
    Dispute,
    DoNotContact,
    PaymentPlan,
    PaymentPlanInvoice,
    PlanInstalment,
    PromiseInstalment,
    PromiseInvoice,
    PromiseToPay,
)
from huikuan.collections.sending import Transports
from huikuan.collections.strategies import install_defaults
from huikuan.core.audit import Actor
from huikuan.core.calendar import load_calendar
from huikuan.core.db import unit_of_work
from huikuan.customers.models import Customer
from huikuan.demo.desk import choose_cast, desk_day
from huikuan.ledger.models import Invoice

HISTORY_DAYS = 21
RETAIL_SETTLEMENT_DAY = 25  # the generator's retail chains pay on the 25th


def demo_collections(
    factory: sessionmaker[Session], *, actor: Actor, company_id: int, as_of: dt.date, seed: int
) -> dict[str, int]:
    with unit_of_work(factory) as session:
        install_defaults(session, actor=actor, company_id=company_id)
        install_default_excuses(session, actor=actor, company_id=company_id)
        _settings(session, company_id)
        _settlement_days(session, company_id)
        held, taken = _exceptions(session, company_id, as_of, random.Random(seed * 17 + 3))
        cast = choose_cast(session, company_id, as_of, taken)
    calendar_day = as_of - dt.timedelta(days=HISTORY_DAYS)
    with unit_of_work(factory) as session:
        calendar = load_calendar(session, company_id=company_id)
    runs = 0
    while calendar_day < as_of:
        workday = calendar.is_workday(calendar_day)
        with unit_of_work(factory) as session:
            desk_day(
                session,
                company_id=company_id,
                day=calendar_day,
                number=runs if workday else None,
                cast=cast,
            )
        if workday:
            run_daily(
                factory,
                company_id=company_id,
                as_of=calendar_day,
                now=dt.datetime.combine(calendar_day, dt.time(9, 0)),
                actor=actor,
                send=False,
                transports=Transports(),
            )
            runs += 1
        calendar_day += dt.timedelta(days=1)
    with unit_of_work(factory) as session:
        sent = _mark_past_messages_sent(session, company_id)
    return {"runs": runs, "messages": sent, "desk_scenes": len(cast.played), **held}


def _settings(session: Session, company_id: int) -> None:
    settings = collection_settings(session, company_id=company_id)
    settings.sender_name = "应收账款部 王芳"
    settings.sender_phone = "0571-8888 6666"
    settings.sender_email = "ar@example.com"
    settings.bank_name = "中国工商银行杭州分行营业部"
    settings.account_name = "示例贸易有限公司"
    settings.account_number = "1202 0210 0900 1234 567"
    settings.payment_note = "请在附言中注明发票号"


def _settlement_days(session: Session, company_id: int) -> None:
    for customer in session.scalars(
        select(Customer).where(
            Customer.company_id == company_id, Customer.customer_type == "retail_chain"
        )
    ):
        customer.settlement_day = RETAIL_SETTLEMENT_DAY


def _exceptions(
    session: Session, company_id: int, as_of: dt.date, rng: random.Random
) -> tuple[dict[str, int], set[int]]:
    """A quality dispute, a promise to pay next week, a payment plan and a customer not to be
    contacted, on customers with overdue invoices."""
    overdue = session.execute(
        select(Invoice.id, Invoice.customer_id, Invoice.open_amount)
        .where(
            Invoice.company_id == company_id,
            Invoice.open_amount > 0,
            Invoice.due_date < as_of - dt.timedelta(days=20),
        )
        .order_by(Invoice.id)
    ).all()
    by_customer: dict[int, list[tuple[int, int]]] = {}
    for invoice_id, customer_id, open_amount in overdue:
        by_customer.setdefault(customer_id, []).append((invoice_id, open_amount))
    chosen = rng.sample(sorted(by_customer), k=min(4, len(by_customer)))
    if len(chosen) < 4:
        return {}, set(chosen)
    disputed, promised, planned, quiet = chosen
    invoice_id, amount = by_customer[disputed][0]
    session.add(
        Dispute(
            company_id=company_id,
            customer_id=disputed,
            invoice_id=invoice_id,
            amount=max(amount // 3, 1),
            reason="quality",
            raised_on=as_of - dt.timedelta(days=9),
            note="客户反映部分批次规格不符，待质检复核",
        )
    )
    promise = PromiseToPay(
        company_id=company_id,
        customer_id=promised,
        promised_on=as_of + dt.timedelta(days=6),
        amount=sum(a for _, a in by_customer[promised]),
        made_on=as_of - dt.timedelta(days=3),
        note="财务经理电话承诺下周付清",
    )
    plan = PaymentPlan(
        company_id=company_id,
        customer_id=planned,
        agreed_on=as_of - dt.timedelta(days=14),
        status="active",
        approved_by="credit",
        note="分三期付清，按月",
    )
    session.add_all([promise, plan])
    session.flush()
    session.add_all(
        PromiseInvoice(promise_id=promise.id, invoice_id=i, company_id=company_id)
        for i, _ in by_customer[promised]
    )
    session.add(
        PromiseInstalment(
            company_id=company_id,
            promise_id=promise.id,
            due_on=promise.promised_on,
            amount=promise.amount,
        )
    )
    _plan_instalments(session, company_id, plan, sum(a for _, a in by_customer[planned]))
    session.add_all(
        PaymentPlanInvoice(plan_id=plan.id, invoice_id=i, company_id=company_id)
        for i, _ in by_customer[planned]
    )
    session.add(
        DoNotContact(
            company_id=company_id,
            customer_id=quiet,
            reason="总经理正与对方老板协商，暂停催收",
            starts_on=as_of - dt.timedelta(days=5),
            placed_by="credit",
        )
    )
    return {"disputes": 1, "promises": 1, "plans": 1, "do_not_contact": 1}, set(chosen)


def _plan_instalments(session: Session, company_id: int, plan: PaymentPlan, total: int) -> None:
    """Three monthly instalments, the remainder fen on the last, the first a month after
    the plan was agreed."""
    share = total // 3
    for n in range(3):
        amount = share if n < 2 else total - 2 * share
        session.add(
            PlanInstalment(
                company_id=company_id,
                plan_id=plan.id,
                due_on=plan.agreed_on + dt.timedelta(days=30 * (n + 1)),
                amount=amount,
            )
        )


def _mark_past_messages_sent(session: Session, company_id: int) -> int:
    rows = session.execute(
        select(Delivery, CollectionAction.as_of)
        .join(CollectionAction, CollectionAction.id == Delivery.action_id)
        .where(Delivery.company_id == company_id, Delivery.status == "pending")
    ).all()
    for delivery, day in rows:
        delivery.status, delivery.provider_id = "sent", "demo"
        delivery.sent_at = dt.datetime.combine(day, dt.time(9, 5))
        delivery.attempts = 1
    return len(rows)
