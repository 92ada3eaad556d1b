"""Small builders for ledger tests: a customer and invoices in one line each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.customers.service import create_customer
from huikuan.ledger import service
from huikuan.ledger.models import Invoice
from tests.actors import ACTOR


def customer(
    session: Session,
    company: Company,
    code: str = "C001",
    name: str = "华东建材有限公司",
    **kw: str,
) -> Customer:
    return create_customer(session, actor=ACTOR, company_id=company.id, code=code, name=name, **kw)


def invoice(
    session: Session,
    company: Company,
    cust: Customer,
    number: str,
    issued: dt.date,
    amount: int,
    *,
    terms: int = 30,
) -> Invoice:
    return service.record_invoice(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        number=number,
        issue_date=issued,
        due_date=issued + dt.timedelta(days=terms),
        amount=amount,
    )
