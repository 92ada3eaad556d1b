"""The pages of one invoice, payment or credit note: allocations, history, applying money left
unapplied, reversing a payment, and who may see and do it."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import verify_chain
from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.ledger import service
from huikuan.ledger.models import Allocation, Invoice, Payment
from huikuan.web.app import create_app
from tests.actors import ACTOR

from .ledger_builders import customer, invoice
from .web_helpers import make_user, sign_in

D = dt.date


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def shop(session: Session, company: Company) -> tuple[int, str]:
    """C001 paid 1,500.00 against one invoice of 1,000.00 (500.00 left unapplied) and has two
    more open invoices; a credit note of 80.00 for C001 was issued before the last invoice."""
    east = customer(session, company, "C001", "华东建材有限公司", collector="张伟")
    west = customer(session, company, "C002", "西部机械有限公司", collector="刘洋")
    invoice(session, company, east, "INV-1", D(2024, 1, 1), 100000)
    payment = service.record_payment(
        session, actor=ACTOR, company_id=company.id, customer=east, received_on=D(2024, 1, 20),
        amount=150000, reference="BK-77",
    )  # fmt: skip
    note = service.record_credit_note(
        session, actor=ACTOR, company_id=company.id, customer=east, number="CN/2024/1",
        issued_on=D(2024, 1, 25), amount=8000, reason="质量折让",
    )  # fmt: skip
    invoice(session, company, east, "INV-2", D(2024, 2, 1), 40000)
    invoice(session, company, east, "INV-3", D(2024, 3, 1), 30000)
    invoice(session, company, west, "INV-W", D(2024, 2, 1), 70000)
    session.commit()
    assert payment.unapplied_amount == 50000 and note.unapplied_amount == 8000
    make_user(session, company, "finance", "finance")
    make_user(session, company, "collector", "collector", "张伟")
    make_user(session, company, "other", "collector", "刘洋")
    return payment.id, note.number


def open_amounts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {n: a for n, a in session.execute(select(Invoice.number, Invoice.open_amount))}


def test_money_left_unapplied_is_applied_on_the_payment_page(
    database_url: str, session: Session, company: Company
) -> None:
    payment_id, _ = shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        page = client.get(f"/payments/{payment_id}").text
        assert 'id="unapplied">¥500.00<' in page
        assert "BK-77" in page and "INV-1" in page  # what it already paid
        assert 'name="amount_INV-2"' in page and 'name="amount_INV-W"' not in page
        refused = client.post(
            f"/payments/{payment_id}/apply",
            data={"csrf": csrf_of(page), "amount_INV-2": "400.00", "amount_INV-3": "100.01"},
        )
        assert refused.status_code == 422
        assert "分配合计 50001 分超过未核销余额 50000 分" in refused.text
        assert open_amounts(session)["INV-2"] == 40000  # nothing written
        applied = client.post(
            f"/payments/{payment_id}/apply",
            data={"csrf": csrf_of(page), "amount_INV-2": "¥400.00", "amount_INV-3": "50.00"},
        )
        assert applied.status_code == 200
        assert 'id="unapplied">¥50.00<' in applied.text
        assert "核销" in applied.text.split('id="history"')[1]  # the allocation is in its history
    amounts = open_amounts(session)
    assert amounts["INV-2"] == 0 and amounts["INV-3"] == 25000
    effective = session.scalars(
        select(Allocation.effective_on).where(Allocation.payment_id == payment_id)
    ).all()
    # Money cannot settle an invoice before it exists: effective from each invoice's issue date.
    assert sorted(effective) == [D(2024, 1, 20), D(2024, 2, 1), D(2024, 3, 1)]
    assert verify_chain(session, company_id=company.id) == []


def test_a_credit_note_with_a_slash_in_its_number_is_applied_too(
    database_url: str, session: Session, company: Company
) -> None:
    _, number = shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        customer_page = client.get("/customers/C001").text
        assert '/credit-notes/CN/2024/1"' in customer_page
        page = client.get(f"/credit-notes/{number}").text
        assert "质量折让" in page and 'id="unapplied">¥80.00<' in page
        done = client.post(
            f"/credit-notes/{number}/apply", data={"csrf": csrf_of(page), "amount_INV-3": "80"}
        )
        assert 'id="unapplied">¥0.00<' in done.text
        assert 'id="apply-form"' not in done.text  # nothing left to apply
        invoice_page = client.get("/invoices/INV-3").text
        assert 'id="invoice-open">¥220.00<' in invoice_page
        assert "贷项通知 CN/2024/1" in invoice_page
    assert open_amounts(session)["INV-3"] == 22000


def test_reversing_a_payment_opens_its_invoices_again_and_shows_it(
    database_url: str, session: Session, company: Company
) -> None:
    payment_id, _ = shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        page = client.get(f"/payments/{payment_id}").text
        early = client.post(
            f"/payments/{payment_id}/reverse",
            data={"csrf": csrf_of(page), "reversed_on": "2024-01-19"},
        )
        assert early.status_code == 422 and "冲销日期早于收款日期" in early.text
        done = client.post(
            f"/payments/{payment_id}/reverse",
            data={"csrf": csrf_of(page), "reversed_on": "2024-02-05"},
        )
        assert "2024-02-05" in done.text and 'id="reverse-form"' not in done.text
        assert 'id="apply-form"' not in done.text  # a reversed payment has nothing to apply
        timeline = client.get("/customers/C001").text.split('id="history"')[1]
        assert "冲销" in timeline and f'/payments/{payment_id}"' in timeline
        assert "新建 · 发票" in timeline  # the customer's invoices are in its timeline too
    assert open_amounts(session)["INV-1"] == 100000
    session.expire_all()
    assert session.get_one(Payment, payment_id).reversed_on == D(2024, 2, 5)


def test_entries_of_customers_out_of_view_are_not_found_and_readers_cannot_apply(
    database_url: str, session: Session, company: Company
) -> None:
    payment_id, number = shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as other:
        sign_in(other, "other")  # the collector of C002 only
        assert other.get(f"/payments/{payment_id}").status_code == 404
        assert other.get(f"/credit-notes/{number}").status_code == 404
        assert other.get("/invoices/INV-1").status_code == 404
        assert other.get("/invoices/INV-W").status_code == 200
        assert other.get("/payments/99999999999999999999").status_code == 404
    with TestClient(create_app(Settings(database_url=database_url))) as mine:
        sign_in(mine, "collector")  # sees C001 but may not move money
        page = mine.get(f"/payments/{payment_id}").text
        assert 'id="apply-form"' not in page and 'id="reverse-form"' not in page
        tried = mine.post(
            f"/payments/{payment_id}/apply", data={"csrf": csrf_of(page), "amount_INV-2": "1"}
        )
        assert tried.status_code == 403
    assert open_amounts(session)["INV-2"] == 40000
