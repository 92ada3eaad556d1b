"""Recording invoices, payments and credit notes keeps every balance exact, on both databases."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.company import create_company
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger import service
from huikuan.ledger.models import Allocation, Invoice, Payment
from huikuan.models import metadata
from tests.actors import ACTOR

from .ledger_builders import customer, invoice

D = dt.date


def test_a_payment_without_invoice_numbers_pays_the_oldest_invoices(
    session: Session, company: Company
) -> None:
    cust = customer(session, company)
    newer = invoice(session, company, cust, "INV-2", D(2024, 2, 1), 50000)
    older = invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    payment = service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 3, 5),
        amount=60000,
    )
    session.commit()
    assert (older.open_amount, older.status, older.settled_on) == (0, "paid", D(2024, 3, 5))
    assert (newer.open_amount, newer.status, newer.settled_on) == (20000, "open", None)
    assert payment.unapplied_amount == 0


def test_an_overpayment_is_kept_as_unapplied_credit(session: Session, company: Company) -> None:
    cust = customer(session, company)
    inv = invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    payment = service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 1, 20),
        amount=45055,
    )
    session.commit()
    assert inv.open_amount == 0
    assert payment.unapplied_amount == 15055


def test_a_payment_naming_invoices_pays_those_only(session: Session, company: Company) -> None:
    cust = customer(session, company)
    older = invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    newer = invoice(session, company, cust, "INV-2", D(2024, 2, 1), 50000)
    service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 3, 1),
        amount=50000,
        invoice_numbers=["INV-2"],
    )
    assert (older.open_amount, newer.open_amount) == (30000, 0)


def test_explicit_allocation_above_the_open_balance_is_refused_and_changes_nothing(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        cust = customer(session, company)
        invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
        payment = service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=cust,
            received_on=D(2024, 1, 5),
            amount=50000,
            invoice_numbers=["INV-1"],
        )
        payment_id = payment.id
    with pytest.raises(Conflict, match="over-allocation"), unit_of_work(factory) as session:
        payment = session.get_one(Payment, payment_id)
        service.allocate_to_invoices(
            session, actor=ACTOR, payment=payment, invoice_numbers=["INV-1"], amounts=[1]
        )
    with factory() as session:
        assert session.get_one(Payment, payment_id).unapplied_amount == 20000
        assert session.scalar(select(func.count()).select_from(Allocation)) == 1


def test_a_payment_cannot_pay_another_customers_invoice(session: Session, company: Company) -> None:
    first = customer(session, company, "C001")
    second = customer(session, company, "C002", "华南五金商行")
    invoice(session, company, second, "INV-9", D(2024, 1, 1), 30000)
    with pytest.raises(InvalidInput, match="another customer"):
        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=first,
            received_on=D(2024, 1, 5),
            amount=100,
            invoice_numbers=["INV-9"],
        )
    with pytest.raises(NotFound, match="INV-404"):
        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=first,
            received_on=D(2024, 1, 5),
            amount=100,
            invoice_numbers=["INV-404"],
        )


def test_reversing_a_payment_reopens_the_invoices_it_paid(
    session: Session, company: Company
) -> None:
    cust = customer(session, company)
    first = invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    second = invoice(session, company, cust, "INV-2", D(2024, 2, 1), 50000)
    payment = service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 3, 1),
        amount=70000,
    )
    service.reverse_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        payment_id=payment.id,
        reversed_on=D(2024, 3, 4),
    )
    session.commit()
    assert (first.open_amount, first.status, first.settled_on) == (30000, "open", None)
    assert second.open_amount == 50000
    assert payment.reversed_on == D(2024, 3, 4)
    assert service.ledger_discrepancies(session, company_id=company.id) == []
    with pytest.raises(Conflict, match="already reversed"):
        service.reverse_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            payment_id=payment.id,
            reversed_on=D(2024, 3, 5),
        )


def test_a_credit_note_reduces_the_invoice_it_names(session: Session, company: Company) -> None:
    cust = customer(session, company)
    inv = invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    note = service.record_credit_note(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        number="CN-1",
        issued_on=D(2024, 1, 10),
        amount=5000,
        reason="退货 3 箱",
        invoice_numbers=["INV-1"],
    )
    assert inv.open_amount == 25000
    assert note.unapplied_amount == 0


def test_invoice_numbers_are_unique_per_company_and_amounts_positive(
    session: Session, company: Company
) -> None:
    cust = customer(session, company)
    invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    with pytest.raises(Conflict, match="INV-1"):
        invoice(session, company, cust, "INV-1", D(2024, 1, 2), 100)
    with pytest.raises(InvalidInput, match="positive"):
        invoice(session, company, cust, "INV-2", D(2024, 1, 2), 0)


def test_only_an_untouched_invoice_can_be_voided(session: Session, company: Company) -> None:
    cust = customer(session, company)
    invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    paid = invoice(session, company, cust, "INV-2", D(2024, 1, 2), 100)
    service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 2, 1),
        amount=100,
        invoice_numbers=["INV-2"],
    )
    voided = service.void_invoice(session, actor=ACTOR, company_id=company.id, number="INV-1")
    assert (voided.status, voided.open_amount) == ("void", 0)
    with pytest.raises(Conflict, match="credit note"):
        service.void_invoice(session, actor=ACTOR, company_id=company.id, number=paid.number)


def test_two_clerks_paying_the_same_invoice_at_once_never_overpay_it(
    postgres_url: str | None,
) -> None:
    """Real concurrent sessions on PostgreSQL: the invoice row lock makes the second clerk wait
    and then find nothing open, so the second payment stays unapplied instead of paying twice.
    (SQLite has one writer at a time, so the race cannot happen there.)"""
    if postgres_url is None:
        pytest.skip("needs PostgreSQL (HUIKUAN_TEST_DATABASE_URL); CI always sets it")
    engine = make_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        company = create_company(session, code="acme", name="示例贸易有限公司")
        customer_id = customer(session, company).id
        invoice(
            session, company, session.get_one(Customer, customer_id), "INV-1", D(2024, 1, 1), 30000
        )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def pay() -> None:
        try:
            with unit_of_work(factory) as session:
                cust = session.get_one(Customer, customer_id)
                barrier.wait(timeout=10)
                service.record_payment(
                    session,
                    actor=ACTOR,
                    company_id=cust.company_id,
                    customer=cust,
                    received_on=D(2024, 2, 1),
                    amount=30000,
                    invoice_numbers=["INV-1"],
                )
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with factory() as session:
        inv = session.scalars(select(Invoice)).one()
        applied = session.scalar(select(func.sum(Allocation.amount)))
        unapplied = session.scalar(select(func.sum(Payment.unapplied_amount)))
    engine.dispose()
    assert errors == []
    assert (inv.open_amount, applied, unapplied) == (0, 30000, 30000)
