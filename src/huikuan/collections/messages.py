"""From the ledger to what a message says: the template context for a customer and a set of
invoices, whom to write to, and which wording (the company's own template, else the default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from huikuan.channels.context import MessageContext, OpenItem, PaymentInstructions
from huikuan.channels.sms import normalise_mobile
from huikuan.channels.templates import Template, default_template
from huikuan.collections.fee_rules import estimated_fee
from huikuan.collections.late_fees import charged_fees, contract_on, fee_rate
from huikuan.collections.models import CollectionSettings, Dispute, MessageTemplate
from huikuan.collections.rules import effective_due
from huikuan.core.errors import NotFound
from huikuan.core.models import Company
from huikuan.core.workdays import WorkCalendar
from huikuan.customers.models import Contact, Contract, Customer
from huikuan.ledger.models import Invoice


@dataclass(frozen=True, slots=True)
class Recipients:
    emails: tuple[str, ...]
    mobiles: tuple[str, ...]
    addressee: str
    addressee_role: str


def recipients(session: Session, *, customer: Customer, as_of: dt.date) -> Recipients:
    """The decision maker first, then the other current contacts: the email and mobile to use
    and the name a letter is addressed to."""
    contacts = session.scalars(
        select(Contact)
        .where(
            Contact.company_id == customer.company_id,
            Contact.customer_id == customer.id,
            Contact.valid_from <= as_of,
            or_(Contact.valid_to.is_(None), Contact.valid_to > as_of),
        )
        .order_by(Contact.is_decision_maker.desc(), Contact.valid_from, Contact.id)
    ).all()
    emails = tuple(dict.fromkeys(c.email.strip() for c in contacts if "@" in c.email))
    mobiles = tuple(
        dict.fromkeys(m for c in contacts if (m := normalise_mobile(c.phone or "")) is not None)
    )
    first = contacts[0] if contacts else None
    return Recipients(
        emails=emails[:1],
        mobiles=mobiles[:1],
        addressee=first.name if first else "",
        addressee_role=first.role if first else "",
    )


def template_for(session: Session, *, company_id: int, code: str, language: str) -> Template:
    """The company's wording of a template if it has one, else Huikuan's."""
    own = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.company_id == company_id,
            MessageTemplate.code == code,
            MessageTemplate.language == language,
        )
    )
    if own is not None:
        return Template(
            code=own.code,
            language=own.language,
            channel=own.channel,
            subject=own.subject,
            body=own.body,
            html=own.html,
            signature=own.signature,
        )
    try:
        return default_template(code, language)
    except (KeyError, NotFound) as exc:
        raise NotFound(
            f"模板 {code} ({language}) 不存在 / no template {code} ({language})"
        ) from exc


def message_context(
    session: Session,
    *,
    customer: Customer,
    invoice_ids: Sequence[int],
    as_of: dt.date,
    calendar: WorkCalendar,
    settings: CollectionSettings,
    reference: str,
    step_name: str = "",
    sender_name: str = "",
) -> MessageContext:
    company = session.get_one(Company, customer.company_id)
    who = recipients(session, customer=customer, as_of=as_of)
    items = open_items(
        session, customer=customer, invoice_ids=invoice_ids, as_of=as_of, calendar=calendar
    )
    return MessageContext(
        language=settings.language or "zh",
        as_of=as_of,
        company_name=company.name,
        customer_code=customer.code,
        customer_name=customer.name,
        addressee=who.addressee,
        addressee_role=who.addressee_role,
        currency=company.currency,
        items=tuple(items),
        total_open=sum(i.open_amount for i in items),
        total_overdue=sum(i.open_amount for i in items if i.days_overdue > 0),
        total_late_fee=sum(i.late_fee for i in items),
        pay_by=calendar.add_workdays(as_of, settings.pay_within_days),
        reference=reference,
        sender_name=settings.sender_name or sender_name or company.name,
        sender_phone=settings.sender_phone,
        sender_email=settings.sender_email,
        payment=PaymentInstructions(
            bank_name=settings.bank_name,
            account_name=settings.account_name or company.name,
            account_number=settings.account_number,
            note=settings.payment_note,
        ),
        step_name=step_name,
    )


def open_items(
    session: Session,
    *,
    customer: Customer,
    invoice_ids: Sequence[int],
    as_of: dt.date,
    calendar: WorkCalendar,
) -> list[OpenItem]:
    """The invoices as the customer reads them: what is still chased on each (open amount
    less open disputes), days overdue from the effective due date, and the contract's late fee:
    an estimate, or for an invoice with charges (``late_fees``) what was charged and not waived
    plus the estimate for the days since the last charge."""
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.company_id == customer.company_id, Invoice.id.in_(list(invoice_ids)))
        .order_by(Invoice.due_date, Invoice.number)
    ).all()
    disputed = _disputed(session, [i.id for i in invoices])
    contracts = _contracts(session, customer)
    charged = charged_fees(
        session, company_id=customer.company_id, invoice_ids=[i.id for i in invoices]
    )
    items = []
    for invoice in invoices:
        chased = max(invoice.open_amount - disputed.get(invoice.id, 0), 0)
        due = effective_due(invoice.due_date, calendar)
        days = max((as_of - due).days, 0)
        contract = contract_on(contracts, invoice.issue_date)
        rate = fee_rate(contract) if contract is not None else None
        fee = (
            estimated_fee(chased, days, rate=rate, grace_days=contract.grace_days)
            if contract is not None and rate is not None
            else 0
        )
        if invoice.id in charged:
            owed, through = charged[invoice.id]
            fee = owed + (
                estimated_fee(chased, (as_of - through).days, rate=rate, grace_days=0)
                if rate is not None and as_of > through
                else 0
            )
        items.append(
            OpenItem(
                invoice_number=invoice.number,
                order_number=invoice.order_number,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                amount=invoice.amount,
                open_amount=chased,
                days_overdue=days,
                late_fee=fee,
                due_on_holiday=due != invoice.due_date,
            )
        )
    return items


def _disputed(session: Session, invoice_ids: list[int]) -> dict[int, int]:
    disputed: dict[int, int] = {}
    for invoice_id, amount in session.execute(
        select(Dispute.invoice_id, Dispute.amount).where(
            Dispute.invoice_id.in_(invoice_ids), Dispute.status == "open"
        )
    ):
        disputed[invoice_id] = disputed.get(invoice_id, 0) + amount
    return disputed


def _contracts(session: Session, customer: Customer) -> list[Contract]:
    return list(
        session.scalars(
            select(Contract)
            .where(Contract.company_id == customer.company_id, Contract.customer_id == customer.id)
            .order_by(Contract.signed_on)
        )
    )
