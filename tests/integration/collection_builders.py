"""Builders for collections tests: a company with strategies, customers with contacts, and
invoices due on chosen dates; and a way to run the daily run over a range of days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections import strategies
from huikuan.collections.daily import RunSummary, collection_settings, run_daily
from huikuan.collections.models import CollectionAction
from huikuan.collections.sending import Transports
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.customers.service import change_contact, create_customer
from huikuan.ledger import service
from huikuan.ledger.models import Invoice
from tests.actors import ACTOR

SIMPLE_LADDER = """
strategies:
  - code: simple
    name: 测试阶梯
    steps:
      - {name: 到期前提醒, trigger: -3, working_days: true, channel: email, template: pre_due_reminder}
      - {name: 到期通知, trigger: 0, channel: email, template: due_notice}
      - {name: 到期短信, trigger: 0, channel: sms, template: sms_reminder, wait: 3}
      - {name: 电话催收, trigger: 10, channel: phone_task, wait: 5}
      - {name: 暂停供货, trigger: 20, channel: stop_supply, wait: 5}
      - {name: 转法务, trigger: 40, channel: litigation}
rules: []
default: simple
"""


def with_strategies(
    factory: sessionmaker[Session], company: Company, text: str = SIMPLE_LADDER, **settings: object
) -> None:
    """The company's strategies from ``text`` and its collection settings (no statement
    attached unless asked: PDFs and workbooks are tested where they matter)."""
    with unit_of_work(factory) as session:
        strategies.import_strategies(session, actor=ACTOR, company_id=company.id, text=text)
        found = collection_settings(session, company_id=company.id)
        found.statement_format = "none"
        found.contacts_per_week = 10
        for name, value in settings.items():
            setattr(found, name, value)


def debtor(
    session: Session,
    company: Company,
    code: str,
    *,
    kind: str = "other",
    email: str | None = None,
    phone: str = "13800138000",
    collector: str = "王芳",
    name: str | None = None,
) -> Customer:
    customer = create_customer(
        session,
        actor=ACTOR,
        company_id=company.id,
        code=code,
        name=name or f"{code} 贸易有限公司",
        customer_type=kind,
        collector=collector,
        salesperson="李强",
    )
    change_contact(
        session,
        actor=ACTOR,
        customer=customer,
        name="张总",
        role="总经理",
        phone=phone,
        email=email if email is not None else f"{code.lower()}@example.com",
        is_decision_maker=True,
        as_of=dt.date(2020, 1, 1),
    )
    return customer


def bill(
    session: Session,
    company: Company,
    customer: Customer,
    number: str,
    due: dt.date,
    amount: int,
    *,
    issued: dt.date | None = None,
) -> Invoice:
    return service.record_invoice(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=customer,
        number=number,
        issue_date=issued or due - dt.timedelta(days=30),
        due_date=due,
        amount=amount,
    )


def run(
    factory: sessionmaker[Session],
    company: Company,
    day: dt.date,
    *,
    at: dt.time = dt.time(9, 0),
    transports: Transports | None = None,
    dry_run: bool = False,
    send: bool = True,
) -> RunSummary:
    return run_daily(
        factory,
        company_id=company.id,
        as_of=day,
        now=dt.datetime.combine(day, at),
        actor=ACTOR,
        dry_run=dry_run,
        send=send,
        transports=transports or Transports(),
    )


def run_days(
    factory: sessionmaker[Session], company: Company, first: dt.date, last: dt.date, **kw: object
) -> list[RunSummary]:
    summaries = []
    day = first
    while day <= last:
        summaries.append(run(factory, company, day, **kw))  # type: ignore[arg-type]
        day += dt.timedelta(days=1)
    return summaries


def actions_of(
    session: Session, company: Company, codes: Iterable[str] | None = None
) -> list[tuple[str, dt.date, str, str]]:
    """(customer code, day, step name, status) of every action, in order."""
    query = (
        select(
            Customer.code,
            CollectionAction.as_of,
            CollectionAction.step_name,
            CollectionAction.status,
        )
        .join(Customer, Customer.id == CollectionAction.customer_id)
        .where(CollectionAction.company_id == company.id)
        .order_by(Customer.code, CollectionAction.as_of, CollectionAction.step_id)
    )
    if codes is not None:
        query = query.where(Customer.code.in_(list(codes)))
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]
