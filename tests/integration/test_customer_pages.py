"""The customer list and the customer's page, as people see them."""

from __future__ import annotations

import datetime as dt
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.customers.service import change_contact
from huikuan.ledger import service
from huikuan.web.app import create_app
from tests.actors import ACTOR

from .ledger_builders import customer, invoice
from .web_helpers import make_user, sign_in

D = dt.date


def shop(session: Session, company: Company) -> None:
    east = customer(
        session, company, "C001", "华东建材有限公司", customer_type="dealer", collector="张伟"
    )
    customer(
        session,
        company,
        "C002",
        "华南超市连锁有限公司",
        customer_type="retail_chain",
        collector="刘洋",
    )
    for n in range(3, 63):
        customer(session, company, f"C{n:03d}", f"客户{n}", collector="刘洋")
    invoice(session, company, east, "INV-1", D(2024, 1, 1), 123456789, terms=30)
    invoice(session, company, east, "INV-2", D(2024, 3, 1), 5000, terms=30)
    service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=east,
        received_on=D(2024, 3, 10),
        amount=456789,
    )
    change_contact(
        session,
        actor=ACTOR,
        customer=east,
        name="李明",
        role="财务",
        phone="13800000001",
        as_of=D(2023, 1, 1),
    )
    change_contact(
        session,
        actor=ACTOR,
        customer=east,
        name="赵云",
        role="财务",
        phone="13900000002",
        as_of=D(2024, 2, 1),
    )
    session.commit()
    make_user(session, company, "finance", "finance")
    make_user(session, company, "collector", "collector", "张伟")


def test_the_list_searches_filters_pages_and_exports(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        first = client.get("/customers", params={"as_of": "2024-03-15"}).text
        assert "第 1 / 2 页，共 62 个客户" in first
        assert "¥1,230,050.00" in first and "¥1,230,000.00" in first  # open and overdue of C001
        second = client.get("/customers", params={"page": 2}).text
        assert "C062" in second and "C001" not in second
        found = client.get("/customers", params={"q": "超市"}).text
        assert "华南超市连锁有限公司" in found and "华东建材" not in found
        assert "共 1 个客户" in client.get("/customers", params={"customer_type": "dealer"}).text
        export = client.get("/customers.xlsx", params={"collector": "张伟", "as_of": "2024-03-15"})
        assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:2] == ("客户编码", "客户名称")
        assert rows[1][:3] == ("C001", "华东建材有限公司", "厂商型")
        assert float(rows[1][5]) == 1230050.0
        assert len(rows) == 2


def test_the_customer_page_shows_contacts_history_invoices_payments_and_timeline(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        page = client.get("/customers/C001", params={"as_of": "2024-03-15"}).text
        assert "华东建材有限公司" in page and "厂商型" in page
        assert "李明" in page and "2023-01-01 – 2024-01-31" in page  # the replaced contact, kept
        assert "赵云" in page and "2024-02-01 –" in page
        assert "INV-1" in page and "¥1,230,000.00" in page and ">44<" in page  # 44 days late
        assert "INV-2" in page and ">current<" not in page
        assert "¥4,567.89" in page  # the payment
        assert "contact" in page and "test" in page  # the timeline: who changed the contacts


def test_a_collector_gets_not_found_for_another_collectors_customer(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "collector")
        assert client.get("/customers/C001").status_code == 200
        other = client.get("/customers/C002")
        assert other.status_code == 404
        assert "没有客户 C002" in other.text and "华南超市" not in other.text
        assert "共 1 个客户" in client.get("/customers").text
