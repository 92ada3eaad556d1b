"""The bank pages and API, on SQLite and PostgreSQL: a statement previewed writes nothing, a
refused one shows every bad row, a confirmed one is imported and matched; the queue confirms a
suggestion to the fen, refuses an over-application with the reason and the form as typed, shows
another clerk's earlier application as a message, undoes with a reason; the list opens in Excel;
the API does the same round trip."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.customers.models import Customer
from huikuan.customers.service import create_customer
from huikuan.ledger import service
from huikuan.ledger.models import Invoice, Payment
from huikuan.reconciliation.models import BankLine, BankStatement, PayerAlias
from huikuan.web.app import create_app
from tests.actors import ACTOR

from .web_helpers import make_user, sign_in, token_client

D = dt.date
SAMPLE = Path(__file__).parent.parent / "samples" / "bank" / "icbc_2024-03a_gbk.csv"
FIRST = SAMPLE.read_bytes()
# Row 8 has a credit that is not an amount, row 10 a date that does not exist.
BAD = (
    FIRST.decode("gbk")
    .replace('"3,456.78"', "abc")
    .replace("2024-03-12,", "2024-13-45,")
    .encode("gbk")
)
PLASTICS = "宁波甬江塑料制品厂"


def ledger(factory: sessionmaker[Session], company: Company) -> None:
    """The customers behind the sample ICBC export: two lines are sure (an invoice number and its
    amount, a part payment named by number); the plastics works' 500.00 names only its order,
    PO-7781, under the owner's name, so it waits for a clerk."""
    with unit_of_work(factory) as session:

        def owes(code: str, name: str, *bills: tuple[str, dt.date, int, str]) -> None:
            found = create_customer(
                session, actor=ACTOR, company_id=company.id, code=code, name=name
            )
            for number, due, amount, order in bills:
                service.record_invoice(
                    session, actor=ACTOR, company_id=company.id, customer=found, number=number,
                    issue_date=due - dt.timedelta(days=30), due_date=due, amount=amount,
                    order_number=order,
                )  # fmt: skip

        # fmt: off
        owes("C001", "杭州明远五金制品有限公司", ("INV-2024-0102", D(2024, 3, 10), 50_000_00, ""),
             ("INV-2024-0110", D(2024, 3, 30), 8_000_00, ""))
        owes("C002", "苏州工业园区启航电子有限公司", ("INV-2024-0088", D(2024, 2, 28), 13_456_78, ""))
        owes("C004", "宁波市鄞州甬江塑料有限公司", ("INV-2024-0120", D(2024, 4, 10), 1_000_00, "PO-7781"),
             ("INV-2024-0121", D(2024, 4, 20), 300_00, ""))
        # fmt: on


@pytest.fixture
def clerk(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> Iterator[TestClient]:
    """Finance (who may write the ledger) signed in through the browser form."""
    ledger(factory, company)
    make_user(session, company, "finance", "finance", "李静")
    make_user(session, company, "viewer", "viewer")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        yield client


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, name
    return match.group(1)


def card(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match is not None, element_id
    return match.group(1)


def line_html(html: str, line_id: int) -> str:
    match = re.search(rf'<tr id="line-{line_id}".*?</tr>\n', html, re.S)
    assert match is not None, line_id
    return match.group(0)


def count(session: Session, table: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(table)) or 0


def open_amount(session: Session, number: str) -> int:
    session.expire_all()
    return session.scalars(select(Invoice.open_amount).where(Invoice.number == number)).one()


def line_of(session: Session, payer: str) -> BankLine:
    session.expire_all()
    return session.scalars(select(BankLine).where(BankLine.payer_name == payer)).one()


def upload(client: TestClient, data: bytes = FIRST, **form: str):  # type: ignore[no-untyped-def]
    csrf = field(client.get("/bank/import").text, "csrf")
    return client.post(
        "/bank/import",
        data={"csrf": csrf, **form},
        files={"file": ("工行3月.csv", data, "text/csv")},
    )


def imported(client: TestClient) -> str:
    preview = upload(client)
    form = {k: field(preview.text, k) for k in ("csrf", "upload", "filename", "account")}
    done = client.post("/bank/import/confirm", data={**form, "mapping": ""})
    assert done.status_code == 200, done.text
    return done.text


def test_the_preview_shows_the_lines_and_writes_nothing(
    clerk: TestClient, session: Session
) -> None:
    preview = upload(clerk)
    assert preview.status_code == 200
    page = preview.text
    assert card(page, "preview-format") == "csv"
    assert card(page, "preview-account") == "1001234567890123456"
    assert (card(page, "preview-lines"), card(page, "preview-known")) == ("5", "0")
    assert card(page, "preview-new") == "5"
    assert card(page, "preview-money-in") == "¥53,956.78"  # 50,000.00 + 3,456.78 + 500.00
    table = page.split('id="preview-table"')[1]
    assert "杭州明远五金制品有限公司" in table and "¥50,000.00" in table
    assert "-¥12,800.00" in table and "HQ20240301000123" in table
    assert "转账 | 订单 PO-7781 预付款 | 预付款" in table
    assert 'id="confirm-bank-import"' in page
    assert count(session, BankStatement) == 0 and count(session, BankLine) == 0


def test_a_refused_file_shows_every_bad_row_and_the_values_as_typed(
    clerk: TestClient, session: Session
) -> None:
    refused = upload(clerk, BAD)
    assert refused.status_code == 422
    errors = unescape(refused.text.split('id="bank-import-errors"')[1])
    assert "文件有 2 处错误，未导入任何流水" in errors
    assert re.search(
        r"<td class=\"num\">8</td><td>贷方发生额</td><td>无法识别的金额 'abc'</td>", errors
    )
    assert re.search(
        r"<td class=\"num\">10</td><td>交易日期</td><td>不存在的日期 '2024-13-45'</td>", errors
    )
    assert 'id="confirm-bank-import"' not in refused.text
    other = upload(clerk, account="6222 0000 1111", mapping="credit=收入(元)\nfee=手续费")
    assert other.status_code == 422
    assert "未知字段 fee" in other.text
    assert 'name="account" value="6222 0000 1111"' in other.text
    assert "credit=收入(元)\nfee=手续费</textarea>" in other.text
    wrong = clerk.post(
        "/bank/import/check",
        data={"csrf": field(other.text, "csrf"), "upload": field(other.text, "upload"),
              "filename": "工行3月.csv", "account": "6222 0000 1111"},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert "文件中的账号 1001234567890123456 与所选账户 622200001111 不符" in wrong.text
    assert count(session, BankStatement) == 0 and count(session, BankLine) == 0


def test_confirming_imports_and_matches_and_the_queue_shows_what_waits(
    clerk: TestClient, session: Session
) -> None:
    done = imported(clerk)
    assert (card(done, "done-added"), card(done, "done-known")) == ("5", "0")
    assert card(done, "done-auto") == "2"
    assert card(done, "done-auto-amount") == "¥53,456.78"
    assert card(done, "done-waiting") == "1"
    assert open_amount(session, "INV-2024-0102") == 0
    assert open_amount(session, "INV-2024-0088") == 10_000_00

    queue = clerk.get("/bank")
    assert queue.status_code == 200
    waiting = line_html(queue.text, line_of(session, PLASTICS).id)
    assert "待确认" in waiting and "¥500.00" in waiting and "390100123456789" in waiting
    assert 'data-customer="C004"' in waiting and "可信度 70%" in waiting
    assert "INV-2024-0120</a> ¥500.00" in waiting and "附言中的订单号 PO-7781" in waiting
    assert "杭州明远五金制品有限公司" not in queue.text  # applied: not in the waiting list

    applied = clerk.get("/bank", params={"status": "applied"}).text
    auto = line_html(applied, line_of(session, "杭州明远五金制品有限公司").id)
    payment = line_of(session, "杭州明远五金制品有限公司").payment_id
    assert "系统自动" in auto and f'href="/payments/{payment}"' in auto and "可信度 99%" in auto
    assert "已核销 (2)" in applied and "全部 (5)" in applied

    again = imported(clerk)  # the same file again adds nothing
    assert card(again, "done-added") == "0" and card(again, "done-known") == "5"
    assert 'id="bank-nothing-new"' in again
    assert "Bank lines and cash application" in clerk.get("/bank", params={"lang": "en"}).text


def confirm_form(html: str, line_id: int) -> dict[str, object]:
    """The fields of the first candidate's one-click form of the line, as the browser sends them."""
    form = line_html(html, line_id).split('class="inline confirm-form"')[1].split("</form>")[0]
    fields: dict[str, object] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
        if name in ("invoice", "amount"):
            fields.setdefault(name, []).append(value)  # type: ignore[union-attr]
        else:
            fields[name] = value
    return fields


def test_confirming_a_suggestion_applies_it_to_the_fen_and_learns_the_payer(
    clerk: TestClient, session: Session
) -> None:
    imported(clerk)
    line = line_of(session, PLASTICS)
    fields = confirm_form(clerk.get("/bank").text, line.id)
    assert fields["customer"] == "C004" and fields["amount"] == ["500.00"]
    done = clerk.post(f"/bank/lines/{line.id}/apply", data=fields)
    assert done.status_code == 200 and done.url.path == "/bank"
    line = line_of(session, PLASTICS)
    assert f"流水 #{line.id} 已核销为收款 #{line.payment_id}" in done.text
    assert open_amount(session, "INV-2024-0120") == 500_00  # 1,000.00 less 500.00
    assert (line.status, line.decided_by, line.confidence) == ("applied", "finance", 0.7)
    alias = session.scalars(select(PayerAlias)).one()
    assert (alias.name, alias.account) == (PLASTICS, "390100123456789")

    # Another clerk's page still offers the line: their confirmation is refused, kindly.
    late = clerk.post(f"/bank/lines/{line.id}/apply", data=fields)
    assert late.status_code == 409
    assert f"流水 {line.id} 已由 finance 处理" in late.text
    assert count(session, Payment) == 3  # two automatic, one confirmed


def test_an_over_application_is_refused_with_the_reason_and_the_form_as_typed(
    clerk: TestClient, session: Session
) -> None:
    imported(clerk)
    line = line_of(session, PLASTICS)
    csrf = field(clerk.get("/bank").text, "csrf")
    split = {"csrf": csrf, "customer": "C004", "invoice": ["INV-2024-0120", "INV-2024-0121", ""],
             "amount": ["400.00", "200.00", ""]}  # fmt: skip
    refused = clerk.post(f"/bank/lines/{line.id}/apply", data=split)
    assert refused.status_code == 422
    row = line_html(refused.text, line.id)
    assert "核销合计超过到账金额" in row
    assert 'value="INV-2024-0121"' in row and 'value="400.00"' in row and 'value="200.00"' in row
    assert "<details open>" in row
    beyond = clerk.post(
        f"/bank/lines/{line.id}/apply",
        data={**split, "invoice": ["INV-2024-0121"], "amount": ["300.01"]},
    )
    assert beyond.status_code == 409 and "分配金额超出未结金额" in beyond.text
    bad = clerk.post(
        f"/bank/lines/{line.id}/apply",
        data={**split, "invoice": ["INV-2024-0121"], "amount": ["3.001"]},
    )
    assert bad.status_code == 422 and "超过两位小数" in bad.text
    assert line_of(session, PLASTICS).status == "suggested"
    assert open_amount(session, "INV-2024-0121") == 300_00 and count(session, Payment) == 2

    # Split as the clerk decides: 300.00 to INV-2024-0121, the other 200.00 unapplied on C004,
    # and the payer not remembered.
    kept = clerk.post(
        f"/bank/lines/{line.id}/apply",
        data={"csrf": csrf, "customer": "C004", "invoice": ["INV-2024-0121", ""],
              "amount": ["300.00", ""]},
    )  # fmt: skip
    assert kept.status_code == 200
    line = line_of(session, PLASTICS)
    assert open_amount(session, "INV-2024-0121") == 0
    assert open_amount(session, "INV-2024-0120") == 1_000_00
    payment = session.get_one(Payment, line.payment_id)
    assert (payment.amount, payment.unapplied_amount) == (500_00, 200_00)
    assert line.confidence is None  # the clerk's own decision, not the suggestion
    assert count(session, PayerAlias) == 0


def test_an_application_is_undone_from_the_page_with_a_reason(
    clerk: TestClient, session: Session
) -> None:
    imported(clerk)
    line = line_of(session, "杭州明远五金制品有限公司")
    payment_id = line.payment_id
    page = clerk.get("/bank", params={"status": "applied"}).text
    csrf = field(page, "csrf")
    refused = clerk.post(
        f"/bank/lines/{line.id}/undo",
        data={"csrf": csrf, "reason": " ", "on": "2024-03-21", "status": "applied"},
    )
    assert refused.status_code == 422 and "请写明撤销原因" in refused.text
    assert 'name="on" value="2024-03-21"' in line_html(refused.text, line.id)
    assert open_amount(session, "INV-2024-0102") == 0
    undone = clerk.post(
        f"/bank/lines/{line.id}/undo",
        data={"csrf": csrf, "reason": "客户说这笔是替关联公司付的", "on": "2024-03-21",
              "status": "applied"},
    )  # fmt: skip
    assert undone.status_code == 200
    assert f"流水 #{line.id} 已撤销核销，重新等待处理" in undone.text
    assert open_amount(session, "INV-2024-0102") == 50_000_00
    assert session.get_one(Payment, payment_id).reversed_on == D(2024, 3, 21)
    assert line_of(session, "杭州明远五金制品有限公司").status == "suggested"
    # Matching again leaves the undone line to a person.
    matched = clerk.post("/bank/match", data={"csrf": csrf})
    assert matched.status_code == 200
    assert "匹配 2 笔：自动核销 0 笔（¥0.00），待确认 2 笔，无法识别 0 笔" in matched.text
    assert line_of(session, "杭州明远五金制品有限公司").status == "suggested"
    again = clerk.post(
        f"/bank/lines/{line.id}/undo", data={"csrf": csrf, "reason": "again", "status": "all"}
    )
    assert again.status_code == 409 and "尚未核销" in again.text


def test_the_list_exports_to_excel(clerk: TestClient, session: Session) -> None:
    imported(clerk)
    response = clerk.get("/bank.xlsx", params={"status": "all"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("流水ID", "记账日期", "起息日", "金额")
    by_payer = {row[5]: row for row in rows[1:]}
    assert len(rows) == 6
    plastics = by_payer[PLASTICS]
    assert plastics[3] == 500 and plastics[10] == "suggested" and plastics[11] == "C004"
    assert plastics[16] == "INV-2024-0120 ¥500.00"
    assert plastics[1] == dt.datetime(2024, 3, 12)
    mingyuan = by_payer["杭州明远五金制品有限公司"]
    assert (mingyuan[3], mingyuan[10], mingyuan[13]) == (50000, "applied", "auto")
    assert by_payer["上海浦江物流有限公司"][3] == -12800


def test_the_pages_are_for_those_who_write_the_ledger(
    database_url: str, clerk: TestClient, session: Session
) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as viewer:
        sign_in(viewer, "viewer")
        assert viewer.get("/bank").status_code == 403
        assert viewer.get("/bank/import").status_code == 403
    assert 'href="/bank"' in clerk.get("/bank/import").text


def test_the_api_round_trip(database_url: str, clerk: TestClient, session: Session) -> None:
    with token_client(database_url, session, "finance") as api:
        files = {"file": ("icbc.csv", FIRST, "text/csv")}
        dry = api.post("/api/bank/statements", data={"dry_run": "true"}, files=files)
        assert dry.status_code == 200, dry.text
        assert dry.json() == {
            "statement_id": None, "account": "1001234567890123456", "format": "csv", "lines": 5,
            "added": 5, "known": 0, "money_in": "53956.78", "line_ids": [], "dry_run": True,
            "match": None,
        }  # fmt: skip
        assert count(session, BankLine) == 0
        refused = api.post("/api/bank/statements", files={"file": ("bad.csv", BAD, "text/csv")})
        assert refused.status_code == 422
        body = refused.json()["error"]
        assert body["code"] == "import_rejected" and len(body["details"]) == 2
        assert body["details"][0] == "第 8 行 贷方发生额：无法识别的金额 'abc'"
        done = api.post("/api/bank/statements", files=files).json()
        assert (done["added"], done["known"], len(done["line_ids"])) == (5, 0, 5)
        assert done["match"] == {
            "lines": 3, "auto": 2, "suggested": 1, "unknown": 0, "applied_amount": "53456.78",
            "dry_run": False,
        }  # fmt: skip

        waiting = api.get("/api/bank/lines").json()
        assert (waiting["total"], waiting["amount"]) == (1, "500.00")
        item = waiting["items"][0]
        assert [item[k] for k in ("payer_name", "amount", "status")] == [
            PLASTICS,
            "500.00",
            "suggested",
        ]
        best = item["candidates"][0]
        assert best["customer"] == "C004" and best["confidence"] == 0.7
        assert best["allocations"] == [{"invoice": "INV-2024-0120", "amount": "500.00"}]
        assert "PO-7781" in best["reasons"][0]["zh"] and "PO-7781" in best["reasons"][0]["en"]

        body = {"customer": "C004", "allocations": best["allocations"], "candidate": 1}
        applied = api.post(f"/api/bank/lines/{item['id']}/apply", json=body)
        assert applied.status_code == 200, applied.text
        line = applied.json()
        assert [line[k] for k in ("status", "decided_by", "customer")] == [
            "applied",
            "finance",
            "C004",
        ]
        assert line["confidence"] == 0.7 and line["payment_id"] is not None
        assert open_amount(session, "INV-2024-0120") == 500_00
        twice = api.post(f"/api/bank/lines/{item['id']}/apply", json=body)
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict"
        assert api.get("/api/bank/lines", params={"status": "applied"}).json()["total"] == 3

        undone = api.post(
            f"/api/bank/lines/{item['id']}/undo", json={"reason": "录错客户", "on": "2024-03-21"}
        )
        assert undone.status_code == 200 and undone.json()["status"] == "suggested"
        assert open_amount(session, "INV-2024-0120") == 1_000_00
        assert api.post("/api/bank/match", json={}).json() == {
            "lines": 1, "auto": 0, "suggested": 1, "unknown": 0, "applied_amount": "0.00",
            "dry_run": False,
        }  # fmt: skip
        missing = api.post("/api/bank/lines/999999/apply", json=body)
        assert missing.status_code == 404
    with token_client(database_url, session, "viewer") as viewer:
        assert viewer.get("/api/bank/lines").status_code == 403
        assert viewer.post("/api/bank/match", json={}).status_code == 403
    assert count(session, Customer) == 3
