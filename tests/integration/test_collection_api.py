"""Collections over the API: strategies imported (a bad file refused whole with every problem),
exported and assigned; the day previewed and run with its figures to the fen; the worklist
limited to a collector's own customers; a task completed; documents downloaded; templates
edited (an unknown variable refused) and previewed on a real customer."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections.sending import Transports
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.customers.service import get_customer
from huikuan.ledger.models import Invoice

from .collection_builders import bill, debtor, with_strategies
from .collection_records import PDF, record_action
from .web_helpers import make_user, token_client

D = dt.date

BAD_FILE = """
strategies:
  - code: simple
    name: 改坏的阶梯
    steps:
      - {name: 到期通知, trigger: 0, channel: fax, template: due_notice}
      - {name: 催款函, trigger: 30, channel: letter}
  - code: brand_new
    name: 新策略
    steps:
      - {name: 电话, trigger: 5, channel: phone_task, wait: -1}
rules:
  - {priority: 10, strategy: nowhere}
"""


def ledger(factory: sessionmaker[Session], company: Company) -> None:
    """Two customers of two collectors, three invoices due on Monday 2026-11-02."""
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c1 = debtor(session, company, "C001", collector="王芳", name="华东建材有限公司")
        c2 = debtor(session, company, "C002", collector="刘洋", name="江南五金有限公司")
        bill(session, company, c1, "INV-1", D(2026, 11, 2), 120_000_00)
        bill(session, company, c1, "INV-2", D(2026, 11, 2), 3_456_78)
        bill(session, company, c2, "INV-3", D(2026, 11, 2), 50_000_01)
    with unit_of_work(factory) as session:
        make_user(session, company, "credit", "credit_manager", "李信用")
        make_user(session, company, "wang", "collector", "王芳")
        make_user(session, company, "sales", "sales", "李强")
        make_user(session, company, "viewer", "viewer", "只读")


def client(database_url: str, session: Session, username: str) -> TestClient:
    found = token_client(database_url, session, username)
    found.app.state.transports = Transports()  # type: ignore[attr-defined]  # nothing leaves the test
    return found


def test_strategies_are_imported_exported_and_assigned(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with client(database_url, session, "credit") as credit, client(database_url, session, "sales") as sales:  # fmt: skip
        listed = credit.get("/api/strategies").json()
        assert [s["code"] for s in listed["items"]] == ["simple"] and listed["default"] == "simple"
        steps = credit.get("/api/strategies/simple").json()["steps"]
        assert [(s["trigger_days"], s["channel"]) for s in steps][:3] == [
            (-3, "email"), (0, "email"), (0, "sms"),
        ]  # fmt: skip
        assert steps[0]["working_days"] is True and steps[0]["template"] == "pre_due_reminder"

        bad = credit.put("/api/strategies", content=BAD_FILE.encode(), headers={"content-type": "application/yaml"})  # fmt: skip
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "strategy_rejected"
        details = bad.json()["error"]["details"]
        assert len(details) >= 4, details
        assert any(d.startswith("strategies[0].steps[0]") and "fax" in d for d in details)
        assert any(d.startswith("strategies[0].steps[1]") and "模板" in d for d in details)
        assert any(d.startswith("strategies[1].steps[0]") and "wait" in d for d in details)
        assert any(d.startswith("rules[0]") and "nowhere" in d for d in details)
        assert credit.get("/api/strategies/simple").json()["steps"] == steps  # nothing changed
        assert credit.get("/api/strategies/brand_new").status_code == 404
        english = credit.put("/api/strategies", params={"lang": "en"}, content=BAD_FILE.encode())
        assert "unknown channel fax" in " ".join(english.json()["error"]["details"])

        exported = credit.get("/api/strategies/export")
        assert exported.status_code == 200 and "code: simple" in exported.text
        again = credit.put("/api/strategies", content=exported.content)
        assert again.json() == {"created": 0, "updated": 0, "unchanged": 1}
        as_json = credit.put("/api/strategies", json={"strategies": [
            {"code": "vip", "name": "重点客户", "steps": [{"name": "电话", "trigger": 3, "channel": "phone_task"}]}]})  # fmt: skip
        assert as_json.json() == {"created": 1, "updated": 0, "unchanged": 0}
        assert sales.put("/api/strategies", content=exported.content).status_code == 403

        chosen = credit.put("/api/customers/C001/strategy", json={"strategy": "vip", "reason": "年度大客户"})  # fmt: skip
        assert chosen.json()["strategy"] == "vip" and chosen.json()["by_hand"] is True
        record = credit.get("/api/customers/C001/collections").json()
        assert (
            record["strategy"]["reason"] == "年度大客户"
            and record["strategy"]["set_by"] == "credit"
        )
        back = credit.put("/api/customers/C001/strategy", json={"strategy": None, "reason": "回到规则"})  # fmt: skip
        assert back.json()["strategy"] == "simple" and back.json()["by_hand"] is False
        unknown = credit.put("/api/customers/C001/strategy", json={"strategy": "nope", "reason": "x"})  # fmt: skip
        assert unknown.status_code == 404
        assert sales.put("/api/customers/C001/strategy", json={"reason": "x"}).status_code == 403


def test_the_day_is_previewed_run_and_worked(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with client(database_url, session, "credit") as credit, client(database_url, session, "wang") as wang:  # fmt: skip
        preview = credit.post(
            "/api/collections/runs", json={"as_of": "2026-11-02", "dry_run": True}
        )
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["id"] is None and body["status"] == "preview" and body["currency"] == "CNY"
        # Each customer: the due-date email and SMS, covering all its invoices due that day.
        assert body["actions"] == [
            {"channel": "email", "count": 2, "amount": "173456.79"},
            {"channel": "sms", "count": 2, "amount": "173456.79"},
        ]
        assert body["working_day"] is True and body["calendar_unknown_years"] == []
        nothing = credit.get("/api/collections/actions", params={"as_of": "2026-11-02"}).json()
        assert nothing["total"] == 0  # a preview writes nothing

        done = credit.post("/api/collections/runs", json={"as_of": "2026-11-02"}).json()
        assert done["id"] is not None and done["status"] == "finished"
        assert done["actions"] == body["actions"] and done["invoices_moved"] == 3
        assert done["deliveries"] == {"not_configured": 4}  # recorded, waiting for a channel
        runs = credit.get("/api/collections/runs").json()
        assert runs["total"] == 1 and runs["items"][0]["id"] == done["id"]
        assert (
            credit.get(f"/api/collections/runs/{done['id']}").json()["actions"] == done["actions"]
        )
        assert credit.get("/api/collections/runs/999999").status_code == 404

        day = credit.get("/api/collections/actions", params={"as_of": "2026-11-02"}).json()
        assert day["total"] == 4 and day["amount"] == "346913.58" and day["currency"] == "CNY"
        first = day["items"][0]
        assert first["customer"] == "C001" and first["invoices"] == ["INV-1", "INV-2"]
        assert first["amount"] == "123456.78" and first["status"] == "sent"
        only_sms = credit.get("/api/collections/actions", params={"channel": "sms"}).json()
        assert only_sms["total"] == 2
        assert credit.get("/api/collections/actions", params={"channel": "fax"}).status_code == 422

        # The collector sees their own customer only.
        own = wang.get("/api/collections/actions", params={"as_of": "2026-11-02"}).json()
        assert {a["customer"] for a in own["items"]} == {"C001"} and own["total"] == 2
        assert wang.get("/api/customers/C002/collections").status_code == 404
        other = next(a for a in day["items"] if a["customer"] == "C002")
        refused = wang.post(
            f"/api/collections/actions/{other['id']}/complete", json={"outcome": "x"}
        )
        assert refused.status_code == 404

        # Ten days later the collector's phone task is on the worklist and is completed.
        credit.post("/api/collections/runs", json={"as_of": "2026-11-12"})
        tasks = wang.get("/api/collections/actions", params={"status": "open"}).json()["items"]
        assert [(t["customer"], t["channel"]) for t in tasks] == [("C001", "phone_task")]
        finished = wang.post(f"/api/collections/actions/{tasks[0]['id']}/complete",
                             json={"outcome": "财务答应周五付款"})  # fmt: skip
        assert finished.status_code == 200 and finished.json()["status"] == "done"
        assert "财务答应周五付款" in finished.json()["detail"]
        twice = wang.post(f"/api/collections/actions/{tasks[0]['id']}/complete", json={"outcome": "x"})  # fmt: skip
        assert twice.status_code == 409

        record = wang.get("/api/customers/C001/collections").json()
        assert [a["step"] for a in record["actions"]][:1] == ["电话催收"]  # newest first
        email = next(a for a in record["actions"] if a["channel"] == "email")
        assert email["deliveries"][0]["recipient"] == "c001@example.com"
        assert email["deliveries"][0]["status"] == "pending"
        positions = {p["invoice"]: p for p in record["invoices"]}
        assert positions["INV-1"]["last_step"] == "电话催收" and positions["INV-1"]["next_step"] == "暂停供货"  # fmt: skip


def test_documents_are_downloaded_by_those_who_see_the_customer(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with unit_of_work(factory) as s:
        c2 = get_customer(s, company_id=company.id, code="C002")
        inv = s.scalars(select(Invoice).where(Invoice.number == "INV-3")).one()
        document_id = record_action(s, company, c2, inv, D(2026, 11, 2)).document_id
    with client(database_url, session, "credit") as credit, client(database_url, session, "wang") as wang:  # fmt: skip
        got = credit.get(f"/api/documents/{document_id}")
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''" in got.headers["content-disposition"]
        assert wang.get(f"/api/documents/{document_id}").status_code == 404  # 刘洋's customer


def test_templates_are_edited_checked_and_previewed(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with client(database_url, session, "credit") as credit, client(database_url, session, "viewer") as viewer:  # fmt: skip
        listed = credit.get("/api/templates").json()
        assert any(t["code"] == "dunning_letter" and t["language"] == "zh" and not t["own"] for t in listed)  # fmt: skip
        broken = credit.put("/api/templates/due_notice/zh", json={
            "subject": "到期通知", "body": "{{ customer_name }}，请付 {{ totl_open }} 元"})  # fmt: skip
        assert broken.status_code == 422 and "totl_open" in broken.json()["error"]["message"]
        assert credit.get("/api/templates/due_notice/zh").json()["own"] is False
        body = {"subject": "{{ customer_name }} 到期通知",
                "body": "{{ customer_name }}：截至 {{ as_of | date }} 共 {{ item_count }} 张发票，合计 {{ total_open | money }}。"}  # fmt: skip
        assert viewer.put("/api/templates/due_notice/zh", json=body).status_code == 403
        default_signature = credit.get("/api/templates/due_notice/zh").json()["signature"]
        saved = credit.put("/api/templates/due_notice/zh", json=body).json()
        assert saved["own"] is True and saved["updated_by"] == "credit"
        # Rewriting the text keeps the closing lines; they change only when given.
        assert default_signature and saved["signature"] == default_signature
        signed = credit.put("/api/templates/due_notice/zh", json={**body, "signature": "应收账款部\n王芳"})  # fmt: skip
        assert signed.json()["signature"] == "应收账款部\n王芳"
        preview = credit.post("/api/templates/due_notice/zh/preview",
                              params={"customer": "C001", "as_of": "2026-11-02"})  # fmt: skip
        assert preview.status_code == 200, preview.text
        text = preview.json()["text"]
        assert "华东建材有限公司：截至 2026-11-02 共 2 张发票，合计 ¥123,456.78。" in text
        assert preview.json()["subject"] == "华东建材有限公司 到期通知"
        draft = viewer.post("/api/templates/dunning_letter/zh/preview", params={"customer": "C002"},
                            json={"subject": "草稿", "body": "{{ customer_name }} {{ total_open | money }}"})  # fmt: skip
        assert draft.json()["text"].startswith("江南五金有限公司 ¥50,000.01")
        assert credit.post("/api/templates/due_notice/zh/preview", params={"customer": "NOPE"}).status_code == 404  # fmt: skip
        assert credit.get("/api/templates/no_such/zh").status_code == 404
        reset = credit.delete("/api/templates/due_notice/zh").json()
        assert reset["own"] is False and "{{ customer_name }}：截至" not in reset["body"]
