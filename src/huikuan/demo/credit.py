"""Credit data for the demo company: an assessment and a score for each customer (so every
grade appears), a customer on supply stop, another on credit hold, and open orders of which
some were approved at once and some wait for a credit manager. Deterministic per seed."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor
from huikuan.credit import holds, orders, rules, service
from huikuan.credit.payment_record import payment_records
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice

MAX_ASSESSED = 1000  # larger demos (benchmarks) assess the first thousand customers only
SOURCES = ("行业协会走访", "同行口碑", "销售实地拜访")


def demo_credit(
    session: Session, *, actor: Actor, company_id: int, as_of: dt.date, seed: int
) -> dict[str, int]:
    rng = random.Random(seed * 31 + 7)
    customers = list(
        session.scalars(
            select(Customer)
            .where(Customer.company_id == company_id)
            .order_by(Customer.code)
            .limit(MAX_ASSESSED)
        )
    )
    records = payment_records(session, company_id=company_id, as_of=as_of)
    # The few best payers are also the soundest companies, so that the demo shows AAA too.
    best = sorted(
        (r.weighted_days_late, cid)
        for cid, r in records.items()
        if r.invoices >= 5 and r.weighted_days_late is not None
    )
    flagship = {cid for _, cid in best[:3]}
    for index, customer in enumerate(customers):
        record = records.get(customer.id)
        # Companies that pay us well tend to be sound: half the strength comes from the ledger.
        pays = (
            0.5
            if record is None or record.weighted_days_late is None
            else max(0.0, 1 - float(record.weighted_days_late) / 45)
        )
        service.record_assessment(
            session, actor=actor, company_id=company_id, customer=customer,
            data=_assessment(rng, index, as_of, (rng.random() + pays) / 2, customer.id in flagship),
        )  # fmt: skip
    scored = service.score_customers(
        session, actor=actor, company_id=company_id, customers=customers, as_of=as_of
    )
    overdue = _most_overdue(session, company_id, as_of)
    if overdue:
        holds.place_on_hold(session, actor=actor, company_id=company_id, customer=overdue[0],
                            kind="supply_stop", reason="逾期超过90天，经理决定暂停发货直至回款")  # fmt: skip
    if len(overdue) > 1:
        holds.place_on_hold(session, actor=actor, company_id=company_id, customer=overdue[1],
                            kind="credit_hold", reason="连续两次未兑现付款承诺")  # fmt: skip
    placed = _orders(session, actor, company_id, as_of, scored, overdue[:1])
    return {"assessed": len(customers), "orders": placed, "held": min(2, len(overdue))}


def _assessment(
    rng: random.Random, index: int, as_of: dt.date, strength: float, flagship: bool = False
) -> service.AssessmentInput:
    """A spread of companies from strong (1) to weak (0); every 97th has a dishonest-debtor
    listing, every 41st a court enforcement."""
    assessed_on = as_of - dt.timedelta(days=rng.randrange(0, 60))
    if flagship:
        strength, index = 1.0, 1  # full statements, a report grade and a market share
    assets = rng.randrange(5, 500) * 1_000_000_00
    debt_ratio = 0.25 + (1 - strength) * 0.75  # 25% .. 100%
    liabilities = int(assets * debt_ratio)
    revenue = int(assets * rng.uniform(0.6, 2.5))
    margin = -0.04 + strength * 0.16
    flags = []
    if index % 97 == 13:
        flags.append(
            service.FlagInput(
                rules.FlagKind.DISHONEST_DEBTOR,
                "中国执行信息公开网",
                assessed_on - dt.timedelta(days=40),
            )
        )
    elif index % 41 == 5:
        flags.append(
            service.FlagInput(
                rules.FlagKind.ENFORCEMENT, "裁判文书网", assessed_on - dt.timedelta(days=120)
            )
        )
    statements = []
    if index % 7 != 3:  # some customers never hand over statements
        statements.append(rules.Financials(
            as_of.year - 1, assets, liabilities, int(assets * 0.5), int(liabilities * (0.9 - strength * 0.4)),
            revenue, int(revenue * margin), int(liabilities * (strength * 0.5 - 0.05)),
        ))  # fmt: skip
    return service.AssessmentInput(
        assessed_on=assessed_on, statements=statements,
        founded_on=as_of - dt.timedelta(days=int(365 * (1 + strength * 20))),
        employees=int(10 + strength * 900), revenue_band=rules.REVENUE_BANDS[min(4, int(strength * 5))],
        market_share_bp=int(strength * 800) if index % 3 else None,
        reputation_rating=1 + min(4, int(strength * 5)), reputation_source=rng.choice(SOURCES),
        report_grade=rules.REPORT_GRADES[min(9, int((1 - strength) * 8))] if index % 2 else "",
        report_source="第三方征信报告" if index % 2 else "", flags=flags,
    )  # fmt: skip


def _most_overdue(session: Session, company_id: int, as_of: dt.date) -> list[Customer]:
    overdue = func.sum(Invoice.open_amount)
    rows = session.execute(
        select(Customer, overdue)
        .join(Invoice, Invoice.customer_id == Customer.id)
        .where(Invoice.company_id == company_id, Invoice.open_amount > 0,
               Invoice.due_date < as_of - dt.timedelta(days=90))
        .group_by(Customer.id).order_by(overdue.desc(), Customer.code).limit(2)
    ).all()  # fmt: skip
    return [row[0] for row in rows]


def _orders(session: Session, actor: Actor, company_id: int, as_of: dt.date,
            scored: list[service.Scored], held: list[Customer]) -> int:  # fmt: skip
    """One order that fits its customer's limit, one that does not, one of a held customer."""
    good = next(
        (s for s in scored if s.card.grade in ("AAA", "AA", "A") and s.limit.amount > 2_000_000),
        None,
    )
    placed = 0
    wishes = []
    if good is not None:
        wishes += [(good.customer, "螺纹钢 HRB400", 20_000, 415_000), (good.customer, "盘螺 HRB400E", good.limit.amount // 400_000 * 1000 + 5000, 400_000)]  # fmt: skip
    wishes += [(customer, "镀锌板 1.0mm", 10_000, 520_000) for customer in held[:1]]
    for number, (customer, item, quantity_milli, price) in enumerate(wishes, start=1):
        orders.create_order(
            session, actor=actor, company_id=company_id, customer=customer,
            number=f"SO-DEMO-{number:03d}", ordered_on=as_of,
            lines=[orders.OrderLineInput(item, quantity_milli, price)], as_of=as_of,
        )  # fmt: skip
        placed += 1
    return placed
