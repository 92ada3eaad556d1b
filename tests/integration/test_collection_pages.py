"""Collections in the browser: the strategy pages and editor (a bad file lists its problems and
saves nothing), the day previewed and run from the page with its summary, the actions list and
its Excel export, a task completed, the customer's collections section, a collector limited to
their own customers, the calendar's warnings, and templates edited and previewed."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections.models import CollectionAction, MessageTemplate
from huikuan.collections.sending import Transports
from huikuan.core.audit import AuditRecord
from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.web.app import create_app

from .test_collection_api import ledger
from .web_helpers import sign_in

D = dt.date


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def section(page: str, element_id: str) -> str:
    """The HTML from the element with this id to the end of its table or block."""
    start = page.index(f'id="{element_id}"')
    end = page.find("</table>", start)
    return page[start : end if end != -1 else len(page)]


def browser(database_url: str) -> TestClient:
    app = create_app(Settings(database_url=database_url))
    app.state.transports = Transports()  # nothing leaves the test
    return TestClient(app)


def test_the_strategy_pages_the_editor_and_the_settings(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with browser(database_url) as credit, browser(database_url) as sales:
        sign_in(credit, "credit")
        sign_in(sales, "sales")
        listed = credit.get("/strategies").text
        assert "/strategies/simple" in listed and "其余客户：simple" in listed
        page = credit.get("/strategies/simple").text
        ladder = section(page, "ladder")
        assert "到期前提醒" in ladder and "-3 工作日" in ladder and "电话任务" in ladder
        assert 'id="timeline"' in page and page.count('class="mark mark-') == 6
        assert "mark-severe" in page  # stop supply and litigation drawn as severe
        text = html.unescape(re.search(r'<textarea name="yaml"[^>]*>(.*?)</textarea>', page, re.S).group(1))  # type: ignore[union-attr]  # fmt: skip
        assert "code: simple" in text and "rules" not in text

        broken = text.replace("channel: sms", "channel: pager").replace("wait: 5", "wait: -5", 1)
        refused = credit.post("/strategies", data={"csrf": csrf_of(page), "yaml": broken, "back": "simple"})  # fmt: skip
        assert refused.status_code == 422
        problems = section(refused.text, "strategy-problems")
        assert "未知渠道 pager" in problems and "wait 应在 0 到 3650 之间" in problems
        assert problems.count("<li>") == 2
        assert "channel: pager" in refused.text  # the text is kept for fixing
        assert "电话任务" in credit.get("/strategies/simple").text  # nothing saved

        changed = text.replace("name: 电话催收", "name: 电话确认付款")
        saved = credit.post("/strategies", data={"csrf": csrf_of(page), "yaml": changed, "back": "simple"})  # fmt: skip
        assert saved.status_code == 200 and "已保存：新建 0，更新 1，未变 0" in saved.text
        assert "电话确认付款" in section(saved.text, "ladder")
        assert 'id="strategy-form"' not in sales.get("/strategies/simple").text
        assert sales.post("/strategies", data={"csrf": csrf_of(sales.get("/strategies").text), "yaml": changed}).status_code == 403  # fmt: skip

        settings = credit.get("/strategies").text
        form = {"csrf": csrf_of(settings), "contacts_per_week": "3", "quiet_start": "22:00",
                "quiet_end": "8:00", "language": "zh", "pay_within_days": "10",
                "statement_format": "pdf", "sender_name": "信用管理部 李信用"}  # fmt: skip
        wrong = credit.post("/collections/settings", data={**form, "quiet_end": "8点"})
        assert wrong.status_code == 422 and "quiet_end: 时间格式应为 HH:MM" in wrong.text
        kept = credit.post("/collections/settings", data=form).text
        assert 'name="quiet_end" value="08:00"' in kept and 'value="信用管理部 李信用"' in kept
        audited = session.scalar(
            select(AuditRecord).where(AuditRecord.entity == "collection_settings")
        )
        assert audited is not None and '"contacts_per_week":3' in audited.after

        customer = credit.get("/customers/C001").text
        assert (
            "simple 测试阶梯" in section(customer, "customer-strategy") and "按分配规则" in customer
        )
        assigned = credit.post("/customers/C001/strategy",
                               data={"csrf": csrf_of(customer), "strategy": "simple", "reason": "老板要求重点跟进"})  # fmt: skip
        assert "手工指定：老板要求重点跟进" in section(assigned.text, "customer-strategy")


def test_the_day_is_run_from_the_page_and_worked(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with browser(database_url) as credit, browser(database_url) as wang:
        sign_in(credit, "credit")
        sign_in(wang, "wang")
        page = credit.get("/collections", params={"as_of": "2026-11-02"}).text
        assert 'id="no-run"' in page and 'id="run-form"' in page
        preview = credit.post("/collections/run", data={"csrf": csrf_of(page), "as_of": "2026-11-02", "mode": "preview"})  # fmt: skip
        summary = section(preview.text, "preview-summary")
        assert '<tr data-channel="email"><td>邮件</td><td class="num">2</td><td class="num">¥173,456.79</td>' in summary  # fmt: skip
        assert '<tr data-channel="sms"><td>短信</td><td class="num">2</td>' in summary
        assert "¥346,913.58" in summary  # the total row
        assert 'id="no-run"' in preview.text  # a preview records no run

        ran = credit.post("/collections/run", data={"csrf": csrf_of(page), "as_of": "2026-11-02", "mode": "run"})  # fmt: skip
        assert ran.status_code == 200 and 'id="run-summary"' in ran.text
        assert "¥173,456.79" in section(ran.text, "run-summary")
        assert "渠道未配置，待发送 4" in ran.text  # deliveries by status
        actions = section(ran.text, "actions")
        assert actions.count("data-action=") == 4 and "INV-1、INV-2" in actions
        assert "共 4 条，金额 ¥346,913.58" in ran.text

        workbook = credit.get(
            "/collections.xlsx", params={"as_of": "2026-11-02", "channel": "email"}
        )
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[0][:7] == ("日期", "客户编码", "客户名称", "步骤", "渠道", "发票", "金额")
        assert [(r[1], r[4], r[5], r[6]) for r in rows[1:]] == [
            ("C001", "邮件", "INV-1、INV-2", 123456.78), ("C002", "邮件", "INV-3", 50000.01),
        ]  # fmt: skip

        # The collector's view: own customer only, here and on the customer pages.
        own = wang.get("/collections", params={"as_of": "2026-11-02"}).text
        assert section(own, "actions").count("data-action=") == 2 and "C002" not in section(
            own, "actions"
        )
        assert 'id="run-form"' in own  # collectors may run the day
        assert wang.get("/customers/C002").status_code == 404

        credit.post("/collections/run", data={"csrf": csrf_of(page), "as_of": "2026-11-12", "mode": "run"})  # fmt: skip
        tasks = wang.get("/collections", params={"as_of": "2026-11-12", "status": "open"}).text
        task = session.scalar(select(CollectionAction).where(CollectionAction.status == "open"))
        assert task is not None and f"/collections/actions/{task.id}/complete" in tasks
        done = wang.post(f"/collections/actions/{task.id}/complete",
                         data={"csrf": csrf_of(tasks), "outcome": "答应周五付款", "back": "/customers/C001#collections"})  # fmt: skip
        assert done.status_code == 200 and 'id="collections"' in done.text
        record = section(done.text, "customer-actions")
        assert "答应周五付款（wang）" in record and "已完成" in record
        assert "邮件 → c001@example.com" in record and "待发送" in record
        positions = section(done.text, "ladder-positions")
        assert "电话催收 · 2026-11-12" in positions and "暂停供货" in positions
        again = wang.post(f"/collections/actions/{task.id}/complete", data={"csrf": csrf_of(tasks), "outcome": "x"})  # fmt: skip
        assert again.status_code == 409 and "只有待办的可以完成" in again.text


def test_the_calendar_warns_of_a_year_without_schedule_and_names_holidays(
    database_url: str, factory: sessionmaker[Session], company: Company
) -> None:
    ledger(factory, company)
    with browser(database_url) as credit:
        sign_in(credit, "credit")
        unknown = credit.get("/collections", params={"as_of": "2031-03-03"}).text
        assert 'id="calendar-warning"' in unknown and "2031 年没有官方节假日安排" in unknown
        holiday = credit.get("/collections", params={"as_of": "2026-10-01"}).text
        assert 'id="calendar-warning"' not in holiday
        assert "2026-10-01 不是工作日（国庆节）" in holiday
        english = html.unescape(
            credit.get("/collections", params={"as_of": "2031-03-03", "lang": "en"}).text
        )
        assert (
            "No official holiday schedule for 2031" in english and "Today's collections" in english
        )


def test_templates_are_edited_refused_and_previewed_in_the_browser(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    ledger(factory, company)
    with browser(database_url) as credit, browser(database_url) as viewer:
        sign_in(credit, "credit")
        sign_in(viewer, "viewer")
        listed = credit.get("/templates").text
        assert "/templates/dunning_letter/zh" in listed and "书面函件" in listed
        page = credit.get("/templates/due_notice/zh").text
        assert "示例客户" in page and 'id="preview-text"' in page  # the sample when no customer
        refused = credit.post("/templates/due_notice/zh", data={
            "csrf": csrf_of(page), "subject": "到期通知", "body": "{{ customer_name }} 请付 {{ amount_due }}"})  # fmt: skip
        assert refused.status_code == 422
        assert "使用了未定义的名称 amount_due" in section(refused.text, "template-error")
        assert "{{ amount_due }}" in html.unescape(refused.text)  # the draft is kept
        assert session.scalar(select(MessageTemplate)) is None
        saved = credit.post("/templates/due_notice/zh", data={
            "csrf": csrf_of(page), "subject": "{{ customer_name }} 到期通知", "customer": "C001",
            "body": "{{ customer_name }}：请于 {{ pay_by | date }} 前支付 {{ total_open | money }}。"})  # fmt: skip
        assert saved.status_code == 200 and "本公司版本" in saved.text
        preview = credit.get("/templates/due_notice/zh", params={"customer": "C001", "as_of": "2026-11-02"}).text  # fmt: skip
        assert "华东建材有限公司 到期通知" in section(preview, "preview-subject")
        assert "支付 ¥123,456.78。" in html.unescape(section(preview, "preview-text"))
        assert 'id="preview-html"' in preview and 'sandbox=""' in preview
        missing = credit.get("/templates/due_notice/zh", params={"customer": "NOPE"}).text
        assert "没有客户 NOPE" in section(missing, "preview-error")
        assert viewer.post("/templates/due_notice/zh", data={"csrf": csrf_of(viewer.get("/templates").text), "body": "x"}).status_code == 403  # fmt: skip

        letter = credit.get("/templates/dunning_letter/zh", params={"customer": "C002"}).text
        assert 'id="letter-pdf"' in letter
        pdf = credit.get("/templates/dunning_letter/zh/letter.pdf", params={"customer": "C002", "as_of": "2026-11-20"})  # fmt: skip
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

        reset = credit.post("/templates/due_notice/zh/reset", data={"csrf": csrf_of(preview)})
        assert reset.status_code == 200 and "本公司版本" not in reset.text.split("</h1>")[0]
        assert session.scalar(select(MessageTemplate)) is None
