"""Use cases for customers and contacts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput, NotFound
from huikuan.core.uscc import normalise_uscc, uscc_problem
from huikuan.customers import rules
from huikuan.customers.models import Contact, Customer, CustomerType


def create_customer(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    code: str,
    name: str,
    customer_type: str = CustomerType.OTHER.value,
    salesperson: str = "",
    collector: str = "",
    aliases: str = "",
    tags: str = "",
    uscc: str = "",
) -> Customer:
    if customer_type not in {t.value for t in CustomerType}:
        raise InvalidInput(f"未知客户类型 {customer_type} / unknown customer type {customer_type}")
    uscc = normalise_uscc(uscc)
    if uscc and (problem := uscc_problem(uscc)):
        raise InvalidInput(problem)
    if find_customer(session, company_id=company_id, code=code) is not None:
        raise InvalidInput(f"客户代码 {code} 已存在 / customer code {code} already exists")
    customer = Customer(
        company_id=company_id,
        code=code,
        name=name,
        customer_type=customer_type,
        salesperson=salesperson,
        collector=collector,
        aliases=aliases,
        tags=tags,
        uscc=uscc,
    )
    session.add(customer)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="customer", entity_id=code,
        action="create", after=customer_facts(customer),
    )  # fmt: skip
    return customer


def customer_facts(customer: Customer) -> dict[str, object]:
    """The audited facts of a customer."""
    return {
        "name": customer.name,
        "uscc": customer.uscc,
        "customer_type": customer.customer_type,
        "salesperson": customer.salesperson,
        "collector": customer.collector,
        "aliases": customer.aliases,
        "tags": customer.tags,
    }


def find_customer(session: Session, *, company_id: int, code: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.company_id == company_id, Customer.code == code)
    )


def get_customer(session: Session, *, company_id: int, code: str) -> Customer:
    customer = find_customer(session, company_id=company_id, code=code)
    if customer is None:
        raise NotFound(f"没有客户 {code} / no customer {code}")
    return customer


def change_contact(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    name: str,
    role: str,
    phone: str = "",
    email: str = "",
    is_decision_maker: bool = False,
    as_of: dt.date,
) -> Contact | None:
    """Record who the customer's contact for ``role`` is from ``as_of`` (see
    ``rules.contact_change``). Returns the new contact, or None when nothing changed."""
    current = current_contacts(session, customer_id=customer.id, as_of=as_of, role=role)
    by_id = {c.id: c for c in current}
    facts = rules.ContactFacts(name, role, phone, email, is_decision_maker)
    change = rules.contact_change([contact_facts(c) for c in current], facts)
    return apply_contact_change(
        session, actor=actor, customer=customer, change=change, contacts=by_id, as_of=as_of
    )


def apply_contact_change(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    change: rules.ContactChange,
    contacts: dict[int, Contact],
    as_of: dt.date,
) -> Contact | None:
    if change.update_id is not None:
        contacts[change.update_id].is_decision_maker = not contacts[
            change.update_id
        ].is_decision_maker
    for contact_id in change.close_ids:
        contacts[contact_id].valid_to = rules.closing_date(as_of)
    if change.add is None and change.update_id is None:
        return None
    record_change(
        session, actor=actor, company_id=customer.company_id, entity="customer",
        entity_id=customer.code, action="contact",
        before={"closed": [contacts[i].name for i in change.close_ids]},
        after={"contact": change.add and {"name": change.add.name, "role": change.add.role,
               "phone": change.add.phone, "email": change.add.email}, "from": as_of},
    )  # fmt: skip
    if change.add is None:
        return None
    contact = Contact(
        company_id=customer.company_id,
        customer_id=customer.id,
        name=change.add.name,
        role=change.add.role,
        phone=change.add.phone,
        email=change.add.email,
        is_decision_maker=change.add.is_decision_maker,
        valid_from=as_of,
    )
    session.add(contact)
    return contact


def contact_facts(contact: Contact) -> rules.CurrentContact:
    facts = rules.ContactFacts(
        contact.name, contact.role, contact.phone, contact.email, contact.is_decision_maker
    )
    return rules.CurrentContact(contact.id, facts)


def current_contacts(
    session: Session, *, customer_id: int, as_of: dt.date, role: str | None = None
) -> list[Contact]:
    query = select(Contact).where(
        Contact.customer_id == customer_id,
        Contact.valid_from <= as_of,
        (Contact.valid_to.is_(None)) | (Contact.valid_to >= as_of),
    )
    if role is not None:
        query = query.where(Contact.role == role)
    return list(session.scalars(query.order_by(Contact.valid_from, Contact.id)))
