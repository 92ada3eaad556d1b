"""Invoices with aging drill-down, and entering a payment in the browser form."""

from __future__ import annotations

import datetime as dt
import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.ledger.models import Invoice, Payment
from huikuan.web.app import create_app

from .ledger_builders import customer, invoice
from .web_helpers import make_user, sign_in

D = dt.date


def shop(session: Session, company: Company) -> None:
    east = customer(session, company, "C001", "华东建材有限公司", collector="张伟")
    west = customer(session, company, "C002", "西部机械有限公司", collector="刘洋")
    invoice(session, company, east, "INV-OLD", D(2024, 1, 1), 100000, terms=30)  # 61-90 on 04-01
    invoice(session, company, east, "INV-NEW", D(2024, 3, 1), 50000, terms=30)  # 1-30 on 04-01
    invoice(session, company, west, "INV-W", D(2024, 2, 1), 70000, terms=30)  # 1-30 on 04-01
    session.commit()
    make_user(session, company, "finance", "finance")
    make_user(session, company, "collector", "collector", "张伟")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_drilling_down_from_an_aging_bucket_lists_its_invoices(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        aging = client.get("/", params={"as_of": "2024-04-01"}).text
        assert '/invoices?bucket=61-90&as_of=2024-04-01"' in aging
        assert '/invoices?customer=C001&bucket=61-90&as_of=2024-04-01"' in aging
        drilled = client.get("/invoices", params={"bucket": "61-90", "as_of": "2024-04-01"}).text
        assert "INV-OLD" in drilled and "INV-NEW" not in drilled and "INV-W" not in drilled
        assert "共 1 张发票" in drilled
        export = client.get("/invoices.xlsx", params={"bucket": "1-30", "as_of": "2024-04-01"})
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert [r[0] for r in rows[1:]] == ["INV-W", "INV-NEW"]  # by due date
        assert [r[9] for r in rows[1:]] == [30, 1]  # days overdue on 2024-04-01


def test_entering_a_payment_pays_the_oldest_invoice_and_changes_the_aging(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        form = client.get("/payments").text
        response = client.post(
            "/payments",
            data={"csrf": csrf_of(form), "customer": "C001", "received_on": "2024-04-01", "amount": "¥1,200.00",
                  "reference": "BK-1"},
        )  # fmt: skip
        assert "华东建材有限公司" in response.text  # landed on the customer's page
        assert "¥300.00" in response.text  # INV-NEW: 500.00 − 200.00 left after INV-OLD
        aging = client.get("/", params={"as_of": "2024-04-01"}).text
        totals = aging.split("<tfoot>")[1]
        assert re.search(r"bucket=61-90[^>]*>¥0\.00<", totals)  # INV-OLD paid
        assert re.search(r"bucket=1-30[^>]*>¥1,000\.00<", totals)  # 300.00 + 700.00 left
        assert "¥1,200.00" in client.get("/payments").text
        assert "¥1,200.00" not in client.get("/payments", params={"customer": "C002"}).text
        export = client.get("/payments.xlsx", params={"customer": "C001"})
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 2 and rows[1][1:4] == ("C001", "华东建材有限公司", 1200)


def test_a_bad_amount_is_explained_and_nothing_is_written(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        csrf = csrf_of(client.get("/payments").text)
        bad = client.post(
            "/payments",
            data={
                "csrf": csrf,
                "customer": "C001",
                "received_on": "2024-04-01",
                "amount": "12.345",
            },
        )
        assert bad.status_code == 422 and "超过两位小数" in bad.text
        wrong_invoice = client.post(
            "/payments",
            data={
                "csrf": csrf,
                "customer": "C001",
                "received_on": "2024-04-01",
                "amount": "10",
                "invoice_numbers": "INV-W",
            },
        )
        assert wrong_invoice.status_code == 422 and "属于其他客户" in wrong_invoice.text
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_collector_may_not_enter_payments(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "collector")
        page = client.get("/payments").text
        assert 'id="payment-form"' not in page
        refused = client.post(
            "/payments",
            data={
                "csrf": csrf_of(page),
                "customer": "C001",
                "received_on": "2024-04-01",
                "amount": "10",
            },
        )
        assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_entering_an_invoice_with_terms_and_refusing_a_duplicate_number(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        csrf = csrf_of(client.get("/invoices").text)
        entered = client.post(
            "/invoices",
            data={"csrf": csrf, "customer": "C002", "number": "INV-77", "issue_date": "2024-04-01",
                  "terms_days": "45", "amount": "８８８.８８"},
        )  # fmt: skip
        assert "西部机械有限公司" in entered.text and "¥888.88" in entered.text
        assert (
            "2024-05-16" in client.get("/invoices", params={"customer": "C002"}).text
        )  # due = +45 days
        again = client.post(
            "/invoices",
            data={
                "csrf": csrf,
                "customer": "C002",
                "number": "INV-77",
                "issue_date": "2024-04-02",
                "amount": "1",
            },
        )
        assert again.status_code == 422 and "发票号 INV-77 已存在" in again.text
    assert session.scalar(select(func.count()).where(Invoice.number == "INV-77")) == 1


def test_the_dashboard_shows_a_new_invoice_at_once(
    database_url: str, session: Session, company: Company
) -> None:
    """The dashboard keeps its figures until the ledger changes; a change shows on the next view."""
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        assert "¥2,200.00" in client.get("/", params={"as_of": "2024-04-01"}).text
        csrf = csrf_of(client.get("/invoices").text)
        client.post(
            "/invoices",
            data={"csrf": csrf, "customer": "C001", "number": "INV-9", "issue_date": "2024-03-20",
                  "terms_days": "30", "amount": "100"},
        )  # fmt: skip
        assert "¥2,300.00" in client.get("/", params={"as_of": "2024-04-01"}).text
