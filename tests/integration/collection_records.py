"""A collections record written directly (no daily run): the default strategies, a finished
run, an open phone task covering one invoice, an email delivery and a kept PDF. For tests of
pages and rights that need one of each to exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections.daily import RunSummary
from huikuan.collections.models import (
    CollectionAction,
    CollectionActionItem,
    DailyRun,
    Delivery,
    Document,
    StrategyStep,
)
from huikuan.collections.strategies import install_defaults
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice
from tests.actors import ACTOR

PDF = b"%PDF-1.4\n% a letter kept as evidence\n"


@dataclass(frozen=True, slots=True)
class Record:
    run_id: int
    action_id: int
    document_id: int


def record_action(
    session: Session, company: Company, customer: Customer, invoice: Invoice, day: dt.date
) -> Record:
    install_defaults(session, actor=ACTOR, company_id=company.id)  # when it has none yet
    step = session.scalars(
        select(StrategyStep)
        .where(StrategyStep.company_id == company.id, StrategyStep.channel == "phone_task")
        .order_by(StrategyStep.id)
    ).first()
    assert step is not None
    at = dt.datetime.combine(day, dt.time(9, 0))
    summary = RunSummary(as_of=day.isoformat(), dry_run=False, customers=1, invoices_evaluated=1,
                         actions={"phone_task": 1}, amounts={"phone_task": invoice.open_amount})  # fmt: skip
    run = DailyRun(company_id=company.id, as_of=day, dry_run=False, status="finished",
                   started_at=at, finished_at=at, started_by="test", summary=summary.to_json())  # fmt: skip
    session.add(run)
    session.flush()
    action = CollectionAction(
        company_id=company.id, customer_id=customer.id, run_id=run.id, as_of=day,
        strategy_id=step.strategy_id, step_id=step.id, step_name=step.name, channel="phone_task",
        amount=invoice.open_amount, invoice_count=1, status="open", assignee=customer.collector,
        detail="电话催收", created_at=at,
    )  # fmt: skip
    session.add(action)
    session.flush()
    session.add(CollectionActionItem(company_id=company.id, action_id=action.id, invoice_id=invoice.id,
                                     step_id=step.id, open_amount=invoice.open_amount))  # fmt: skip
    session.add(Delivery(company_id=company.id, action_id=action.id, customer_id=customer.id, channel="email",
                         recipient="ap@example.com", subject="催款", message_id=f"hk-test-{action.id}",
                         status="failed", send_after=at, last_error="550 mailbox unavailable"))  # fmt: skip
    document = Document(company_id=company.id, customer_id=customer.id, action_id=action.id,
                        kind="dunning_letter", filename=f"催款函-{customer.code}.pdf",
                        mime_type="application/pdf", content=PDF, reference="HK-TEST", created_on=day)  # fmt: skip
    session.add(document)
    session.flush()
    return Record(run.id, action.id, document.id)
