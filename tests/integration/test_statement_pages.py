"""Statements of account on the pages and the API, on SQLite and PostgreSQL: issued from the
customer page and listed to the fen, the PDF as issued, confirmed with an uploaded signed copy,
disputed line by line and resolved, refused forms that write nothing, the schedule, a
collector's view, the API round trip and the Excel exports."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from decimal import Decimal

import pypdfium2
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.audit import AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.customers.models import Customer
from huikuan.ledger import service as ledger
from huikuan.reconciliation.models import (
    CustomerStatement,
    StatementDifference,
    StatementSchedule,
)
from huikuan.reconciliation.statements import issue_statements
from huikuan.web.app import create_app
from tests.actors import ACTOR

from .collection_builders import bill, debtor
from .web_helpers import make_user, sign_in, token_client

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
AS_OF = {"as_of": "2026-12-01"}


def books(factory: sessionmaker[Session], company: Company) -> None:
    """C001 (张伟's) owes 30,000.55 from October, is invoiced 20,000.37 and pays 12,000.00 in
    November: its November statement opens at 30,000.55 and closes at 38,000.92. C002 is
    刘洋's customer."""
    with unit_of_work(factory) as session:
        east = debtor(session, company, "C001", name="杭州顺达建材有限公司", collector="张伟")
        bill(session, company, east, "INV-10", D(2026, 11, 10), 30_000_55, issued=D(2026, 10, 10))  # fmt: skip
        bill(session, company, east, "INV-11", D(2026, 12, 15), 20_000_37, issued=D(2026, 11, 15))  # fmt: skip
        ledger.record_payment(
            session, actor=ACTOR, company_id=company.id, customer=east,
            received_on=D(2026, 11, 20), amount=12_000_00, reference="HQ1120",
        )  # fmt: skip
        west = debtor(session, company, "C002", name="成都西南五金有限公司", collector="刘洋")
        bill(session, company, west, "INV-20", D(2026, 11, 30), 5_000_00, issued=D(2026, 10, 31))  # fmt: skip
    with factory() as session:
        for username, role, name in (("finance", "finance", "财务"), ("collector", "collector", "张伟")):  # fmt: skip
            make_user(session, company, username, role, name)


def issue(factory: sessionmaker[Session], code: str = "C001") -> int:
    with unit_of_work(factory) as session:
        customer = session.scalars(select(Customer).where(Customer.code == code)).one()
        [statement] = issue_statements(
            session, actor=ACTOR, customer=customer, start=D(2026, 11, 1), end=D(2026, 11, 30),
            issued_on=D(2026, 12, 1),
        )  # fmt: skip
        return statement.id


def browser(database_url: str, username: str) -> TestClient:
    client = TestClient(create_app(Settings(database_url=database_url)))
    sign_in(client, username)
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def row_of(page: str, attribute: str, value: int) -> str:
    """The text of one table row (tags removed, whitespace collapsed)."""
    found = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row {attribute}={value}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def pdf_text(content: bytes) -> str:
    pdf = pypdfium2.PdfDocument(content)
    try:
        return "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def test_a_statement_issued_from_the_customer_page_is_listed_to_the_fen(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    with browser(database_url, "finance") as client:
        page = client.get("/customers/C001", params={"as_of": "2026-12-05"}).text
        assert 'name="from" value="2026-11-01"' in page and 'name="to" value="2026-11-30"' in page
        landed = client.post(
            "/customers/C001/statements", params=AS_OF,
            data={"csrf": csrf_of(page), "from": "2026-11-01", "to": "2026-11-30", "language": "zh"},
        )  # fmt: skip
        assert landed.status_code == 200
        statement_id = int(landed.url.path.rsplit("/", 1)[1])
        shown = text_of(landed.text)
        assert "DZ-20261130-C001" in shown and "杭州顺达建材有限公司" in shown
        assert "期初余额 ¥30,000.55" in shown and "期末余额 ¥38,000.92" in shown
        assert "现在的账与出具时一致" in shown and "HQ1120" in shown
        assert 'value="c001@example.com"' in landed.text  # the email form is prefilled

        listed = client.get("/statements").text
        assert row_of(listed, "data-statement", statement_id) == (
            f"{statement_id} C001 杭州顺达建材有限公司 2026-11-01 – 2026-11-30 CNY ¥30,000.55 "
            "¥38,000.92 已出具"
        )
        customer_page = client.get("/customers/C001", params=AS_OF).text
        assert "¥38,000.92 已出具" in row_of(customer_page, "data-statement", statement_id)

        pdf = client.get(f"/statements/{statement_id}.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        text = pdf_text(pdf.content)
        assert "杭州顺达建材有限公司" in text and "¥38,000.92" in text

        sent = client.post(
            f"/statements/{statement_id}/send", params=AS_OF,
            data={"csrf": csrf_of(landed.text), "recipient": "c001@example.com"},
        )  # fmt: skip
        assert "已于 2026-" in sent.text and "c001@example.com" in sent.text
        row = row_of(client.get("/statements").text, "data-statement", statement_id)
        assert "已发送 c001@example.com" in row and "待发送" in row


def test_the_lists_and_the_statement_open_in_excel(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    first, second = issue(factory), issue(factory, "C002")
    with browser(database_url, "finance") as client:
        export = client.get("/statements.xlsx", params={"end_from": "2026-11-30"})
        sheet = load_workbook(io.BytesIO(export.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:8] == ("编号", "客户编码", "客户名称", "期间起", "期间止", "币种", "期初余额", "期末余额")  # fmt: skip
        assert [r[:2] for r in rows[1:]] == [(first, "C001"), (second, "C002")]
        assert rows[1][3] == dt.datetime(2026, 11, 1) and rows[1][8] == "已出具"
        assert Decimal(str(rows[1][6])) == Decimal("30000.55")
        assert Decimal(str(rows[1][7])) == Decimal("38000.92")
        only_c002 = client.get("/statements.xlsx", params={"customer": "C002"})
        assert load_workbook(io.BytesIO(only_c002.content)).active.max_row == 2
        none_yet = client.get("/statements.xlsx", params={"end_to": "2026-10-31"})
        assert load_workbook(io.BytesIO(none_yet.content)).active.max_row == 1

        one = client.get(f"/statements/{first}.xlsx")
        assert one.headers["content-disposition"] == 'attachment; filename="DZ-20261130-C001.xlsx"'
        values = [
            v for row in load_workbook(io.BytesIO(one.content)).active.iter_rows(values_only=True)
            for v in row if v is not None
        ]  # fmt: skip
        assert "杭州顺达建材有限公司" in values and "HQ1120" in values


def test_the_page_says_when_the_books_changed_after_the_statement_was_issued(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    statement_id = issue(factory)
    with unit_of_work(factory) as session:
        customer = session.scalars(select(Customer).where(Customer.code == "C001")).one()
        ledger.record_payment(
            session, actor=ACTOR, company_id=company.id, customer=customer,
            received_on=D(2026, 11, 28), amount=1_000_00, reference="HQ1128",
        )  # fmt: skip
    with browser(database_url, "finance") as client:
        page = text_of(client.get(f"/statements/{statement_id}").text)
        assert "出具后账目有变化：按现在的账，期初余额 ¥30,000.55、期末余额 ¥37,000.92" in page
        assert "（出具时为 ¥30,000.55、¥38,000.92）" in page and "HQ1128" in page
        # The PDF is the one issued.
        assert "¥38,000.92" in pdf_text(client.get(f"/statements/{statement_id}.pdf").content)


def test_a_confirmation_with_an_uploaded_signed_copy(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    statement_id = issue(factory)
    with browser(database_url, "collector") as client:
        page = client.get(f"/statements/{statement_id}").text
        confirmed = client.post(
            f"/statements/{statement_id}/confirm", params=AS_OF,
            data={"csrf": csrf_of(page), "confirmed_by": "王会计", "confirmed_on": "2026-12-08",
                  "note": "盖财务章"},
            files={"signed_copy": ("回执.jpg", b"\xff\xd8 signed photo", "image/jpeg")},
        )  # fmt: skip
        assert confirmed.status_code == 200
        shown = text_of(confirmed.text)
        assert "已确认" in shown and "王会计 · 2026-12-08" in shown and "盖财务章" in shown
        assert "客户确认" in shown  # the history
        copy = client.get(f"/statements/{statement_id}/signed-copy")
        assert copy.content == b"\xff\xd8 signed photo"
        assert copy.headers["content-type"] == "image/jpeg"
        row = row_of(client.get("/statements").text, "data-statement", statement_id)
        assert row.endswith("已确认 王会计 2026-12-08")
        assert 'id="confirm-statement-form"' not in confirmed.text


def test_refused_forms_show_the_reason_and_the_values_typed_and_write_nothing(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    statement_id = issue(factory)
    with browser(database_url, "finance") as client:
        token = csrf_of(client.get(f"/statements/{statement_id}").text)
        no_signer = client.post(
            f"/statements/{statement_id}/confirm", params=AS_OF,
            data={"csrf": token, "confirmed_by": " ", "confirmed_on": "2026-12-08", "note": "电话确认"},
            files={"signed_copy": ("回执.pdf", b"%PDF-1.4 copy", "application/pdf")},
        )  # fmt: skip
        assert no_signer.status_code == 422
        assert "请填写客户方签字人" in no_signer.text
        assert 'value="2026-12-08"' in no_signer.text and 'value="电话确认"' in no_signer.text

        bad_amount = client.post(
            f"/statements/{statement_id}/differences", params=AS_OF,
            data={"csrf": token, "description": ["11 月 30 日另付款未入账", "INV-11 少 10 件"],
                  "reference": ["", "INV-11"], "our_amount": ["0", "20,000.37"],
                  "their_amount": ["5,000.00", "19,000.3x"]},
        )  # fmt: skip
        assert bad_amount.status_code == 422
        assert "第 2 行客户金额无法识别：19,000.3x" in bad_amount.text
        assert (
            'value="INV-11 少 10 件"' in bad_amount.text and 'value="19,000.3x"' in bad_amount.text
        )

        bad_period = client.post(
            "/customers/C001/statements", params=AS_OF,
            data={"csrf": token, "from": "2026-11-01", "to": "2026-13-01"},
        )  # fmt: skip
        assert bad_period.status_code == 422
        assert "结束日无法识别：2026-13-01" in bad_period.text
        assert 'value="2026-13-01"' in bad_period.text
    with factory() as session:
        statement = session.get_one(CustomerStatement, statement_id)
        assert (statement.status, statement.confirmed_by, statement.signed_copy_id) == ("issued", "", None)  # fmt: skip
        assert session.scalar(select(func.count()).select_from(StatementDifference)) == 0
        assert session.scalar(select(func.count()).select_from(CustomerStatement)) == 1
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.entity == "customer_statement")
        ).all()
        assert list(actions) == ["issue"]


def test_differences_are_resolved_then_the_statement_is_confirmed(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    statement_id = issue(factory)
    with browser(database_url, "collector") as collector:
        token = csrf_of(collector.get(f"/statements/{statement_id}").text)
        disputed = collector.post(
            f"/statements/{statement_id}/differences", params=AS_OF,
            data={"csrf": token, "description": ["11 月 30 日另付 5,000.00 未入账", "", "INV-11 少 10 件"],
                  "reference": ["", "", "INV-11"], "our_amount": ["", "", "20,000.37"],
                  "their_amount": ["5,000.00", "", "19,000.37"], "raised_on": "2026-12-05"},
        )  # fmt: skip
        assert disputed.status_code == 200 and "有差异" in disputed.text
        with factory() as session:
            first, second = session.scalars(
                select(StatementDifference.id).order_by(StatementDifference.id)
            ).all()
        assert row_of(disputed.text, "data-difference", second).startswith(
            f"{second} INV-11 少 10 件 INV-11 ¥20,000.37 ¥19,000.37 -¥1,000.00 待处理"
        )
        assert "resolve-difference" not in disputed.text  # a collector may not change the books
        refused = collector.post(
            f"/statements/{statement_id}/confirm", params=AS_OF,
            data={"csrf": token, "confirmed_by": "王会计", "confirmed_on": "2026-12-08"},
        )  # fmt: skip
        assert refused.status_code == 409 and "还有未解决的差异" in refused.text
        forbidden = collector.post(
            f"/statement-differences/{first}/resolve", params=AS_OF,
            data={"csrf": token, "resolution": "explained", "note": "在途"},
        )  # fmt: skip
        assert forbidden.status_code == 403
        row = row_of(collector.get("/statements").text, "data-statement", statement_id)
        assert row.endswith("有差异 2")
    with browser(database_url, "finance") as finance:
        token = csrf_of(finance.get(f"/statements/{statement_id}").text)
        no_note = finance.post(
            f"/statement-differences/{first}/resolve", params=AS_OF,
            data={"csrf": token, "resolution": "explained", "note": ""},
        )  # fmt: skip
        assert no_note.status_code == 422 and "请说明处理情况" in no_note.text
        finance.post(
            f"/statement-differences/{first}/resolve", params={"as_of": "2026-12-06"},
            data={"csrf": token, "resolution": "explained", "note": "款项 12 月 1 日到账，在途"},
        )  # fmt: skip
        done = finance.post(
            f"/statement-differences/{second}/resolve", params={"as_of": "2026-12-07"},
            data={"csrf": token, "resolution": "adjusted", "note": "开具红字发票 CN-7"},
        )  # fmt: skip
        shown = text_of(done.text)
        assert "差异已处理，待确认" in shown
        assert "已调账（我方账目已更正）：开具红字发票 CN-7 finance · 2026-12-07" in shown
        assert "处理差异 · 对账差异" in shown  # the history holds the differences too
        confirmed = finance.post(
            f"/statements/{statement_id}/confirm", params=AS_OF,
            data={"csrf": token, "confirmed_by": "王会计", "confirmed_on": "2026-12-08"},
        )  # fmt: skip
        assert "已确认" in text_of(confirmed.text)
    with factory() as session:
        assert session.get_one(CustomerStatement, statement_id).status == "confirmed"


def test_the_schedule_is_set_from_the_customer_page(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    with browser(database_url, "finance") as client:
        page = client.get("/customers/C001", params=AS_OF).text
        assert "未设置发送计划" in page
        saved = client.post(
            "/customers/C001/statement-schedule", params=AS_OF,
            data={"csrf": csrf_of(page), "frequency": "monthly", "day": "5", "active": "on"},
        )  # fmt: skip
        assert "发送计划：每月（上月），每月 5 日，启用（自 2026-12-01）" in text_of(saved.text)
        refused = client.post(
            "/customers/C001/statement-schedule", params=AS_OF,
            data={"csrf": csrf_of(page), "frequency": "quarterly", "day": "31"},
        )  # fmt: skip
        assert refused.status_code == 422
        assert (
            "发送日须在 1 到 28 之间：31" in refused.text
            and 'name="day" value="31"' in refused.text
        )
        stopped = client.post(
            "/customers/C001/statement-schedule", params={"as_of": "2026-12-02"},
            data={"csrf": csrf_of(page), "frequency": "monthly", "day": "5"},
        )  # fmt: skip
        assert "每月 5 日，已停用" in text_of(stopped.text)
    with factory() as session:
        [schedule] = session.scalars(select(StatementSchedule)).all()
        assert (schedule.frequency, schedule.day, schedule.active) == ("monthly", 5, False)
        assert schedule.starts_on == D(2026, 12, 2)


def test_a_collector_sees_only_the_statements_of_their_customers(
    database_url: str, session: Session, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    own, other = issue(factory), issue(factory, "C002")
    with browser(database_url, "collector") as client:
        listed = client.get("/statements").text
        assert f'data-statement="{own}"' in listed and f'data-statement="{other}"' not in listed
        for path in (f"/statements/{other}", f"/statements/{other}.pdf", f"/statements/{other}.xlsx"):  # fmt: skip
            assert client.get(path).status_code == 404, path
        token = csrf_of(listed)
        sent = client.post(f"/statements/{other}/send", data={"csrf": token})
        assert sent.status_code == 404
        export = load_workbook(io.BytesIO(client.get("/statements.xlsx").content)).active
        assert [r[1] for r in export.iter_rows(min_row=2, values_only=True)] == ["C001"]
    with token_client(database_url, session, "collector") as api:
        assert [s["customer"] for s in api.get("/api/statements").json()["items"]] == ["C001"]
        assert api.get(f"/api/statements/{other}").status_code == 404
    with factory() as session_after:
        assert session_after.get_one(CustomerStatement, other).delivery_id is None


def test_the_api_round_trip(
    database_url: str, session: Session, factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    with token_client(database_url, session, "finance") as api:
        body = {"from": "2026-11-01", "to": "2026-11-30", "send": True}
        issued = api.post("/api/customers/C001/statements", json=body)
        assert issued.status_code == 201
        [item] = issued.json()["items"]
        assert (item["opening"], item["closing"], item["currency"]) == (
            "30000.55",
            "38000.92",
            "CNY",
        )
        assert (item["status"], item["sent_to"], item["delivery_status"]) == ("sent", "c001@example.com", "pending")  # fmt: skip
        statement_id = item["id"]
        again = api.post("/api/customers/C001/statements", json=body).json()["items"]
        assert [s["id"] for s in again] == [statement_id]
        listed = api.get("/api/statements", params={"status": "sent", "end_from": "2026-11-30"})
        assert (listed.json()["total"], listed.json()["items"][0]["id"]) == (1, statement_id)
        assert api.get("/api/statements", params={"end_to": "2026-11-29"}).json()["total"] == 0

        disputed = api.post(
            f"/api/statements/{statement_id}/differences",
            json={"differences": [{"description": "INV-11 少 10 件", "reference": "INV-11",
                                   "our_amount": "20000.37", "their_amount": "19000.37"}],
                  "raised_on": "2026-12-05"},
        )  # fmt: skip
        assert disputed.status_code == 201
        detail = disputed.json()
        assert (detail["status"], detail["open_differences"]) == ("disputed", 1)
        [difference] = detail["differences"]
        assert (difference["our_amount"], difference["their_amount"]) == ("20000.37", "19000.37")
        bad = api.post(
            f"/api/statements/{statement_id}/differences",
            json={"differences": [{"description": "x", "their_amount": "1.234"}]},
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
        resolved = api.post(
            f"/api/statement-differences/{difference['id']}/resolve",
            json={"resolution": "rejected", "note": "客户漏记 10 件的签收单", "resolved_on": "2026-12-06"},
        )  # fmt: skip
        assert (resolved.json()["status"], resolved.json()["resolution"]) == (
            "resolved",
            "rejected",
        )

        copy = base64.b64encode(b"%PDF-1.4 signed").decode()
        confirmed = api.post(
            f"/api/statements/{statement_id}/confirm",
            json={"confirmed_by": "王会计", "confirmed_on": "2026-12-08",
                  "signed_copy": {"filename": "回执.pdf", "content_base64": copy}},
        )  # fmt: skip
        assert confirmed.status_code == 200
        shown = api.get(f"/api/statements/{statement_id}").json()
        assert (shown["status"], shown["confirmed_by"], shown["confirmed_on"]) == ("confirmed", "王会计", "2026-12-08")  # fmt: skip
        assert shown["reference"] == "DZ-20261130-C001" and shown["books_changed"] is False
        assert [line["reference"] for line in shown["lines_now"]] == ["INV-11", "HQ1120"]
        assert shown["closing_now"] == "38000.92"
        signed = api.get(f"/api/documents/{shown['signed_copy_id']}")
        assert signed.content == b"%PDF-1.4 signed"
        twice = api.post(f"/api/statements/{statement_id}/confirm", json={"confirmed_by": "王会计"})
        assert twice.status_code == 409

        schedule = api.put(
            "/api/customers/C001/statement-schedule", json={"frequency": "quarterly", "day": 10}
        )
        assert schedule.json()["frequency"] == "quarterly" and schedule.json()["day"] == 10
        refused = api.put(
            "/api/customers/C001/statement-schedule", json={"frequency": "weekly", "day": 1}
        )
        assert refused.status_code == 422
        assert "frequency must be" in api.put(
            "/api/customers/C001/statement-schedule", params={"lang": "en"},
            json={"frequency": "weekly", "day": 1},
        ).json()["error"]["message"]  # fmt: skip
        backwards = api.post(
            "/api/customers/C001/statements", json={"from": "2026-11-30", "to": "2026-11-01"}
        )
        assert backwards.status_code == 422
