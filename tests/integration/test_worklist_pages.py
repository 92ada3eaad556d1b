"""The collector's worklist as a page and an API, on 2 December 2026 (the data of
test_worklist.py): the page ranks as the service does and says why, with the habits and a
one-click link to log the call; the filters; the workbook keeps the filters and the rows; a
collector sees only their own customers; a collector's home page is the worklist. Both
backends."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections.models import CollectionAction, StrategyStep
from huikuan.collections.worklist import worklist
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.customers.models import Customer

from .test_collection_api import client
from .test_collection_pages import browser, section
from .test_worklist import AS_OF, ORDER, desk
from .web_helpers import make_user, sign_in

__all__ = ["desk"]  # the service tests' fixture, used here by name
DAY = {"as_of": "2026-12-02"}


def people(session: Session, company: Company) -> None:
    for username, role, name in [
        ("wang", "collector", "王芳"), ("zhao", "collector", "赵六"), ("liu", "collector", "刘洋"),
        ("credit", "credit_manager", "李信用"), ("sales", "sales", "李强"), ("viewer", "viewer", "只读"),
    ]:  # fmt: skip
        make_user(session, company, username, role, name)


def listed(page: str) -> list[str]:
    """The customer codes of the worklist table, top to bottom."""
    return re.findall(r'data-customer="([^"]+)"', section(page, "worklist"))


def row_of(page: str, code: str) -> str:
    start = page.index(f'data-customer="{code}"')
    return html.unescape(page[start : page.index("</tr>", start)])


def task_id(session: Session) -> int:
    found = session.scalar(
        select(CollectionAction.id)
        .join(Customer, Customer.id == CollectionAction.customer_id)
        .where(Customer.code == "TASK")
    )
    assert found is not None
    return found


def test_the_page_ranks_as_the_service_does_and_says_why(
    database_url: str, desk: sessionmaker[Session], session: Session, company: Company
) -> None:
    people(session, company)
    with desk() as reading:
        ranked = [r.code for r in worklist(reading, company_id=company.id, collector="王芳", as_of=AS_OF)]  # fmt: skip
    with browser(database_url) as wang:
        sign_in(wang, "wang")
        page = wang.get("/worklist", params=DAY).text
        assert listed(page) == ranked == ORDER
        assert "今日工作清单 · 王芳" in page and "QUIET" not in page and "OTHER" not in page
        assert "¥78,000.00" in row_of(page, "LARGE") and "新增大额逾期" in row_of(page, "LARGE")
        dispute = row_of(page, "DISPUTE")
        assert "新争议" in dispute and "¥35,100.00" in dispute and "¥40,000.00" in dispute
        assert "违约承诺" in row_of(page, "BROKEN") and ">17<" in row_of(page, "BROKEN")
        assert "承诺付款今天到期" in row_of(page, "PROMISE")
        task = row_of(page, "TASK")
        assert "电话任务到期" in task and f"任务 #{task_id(session)}" in task
        assert "每月 15 日" in task and "11.2 / 最近 3 张 8.3" in task
        assert "2026-12-01 09:00 无人接听" in task and "李会计 · 10:00" in task
        assert "¥185,000.00" in section(page, "worklist-at-stake")  # 80k + 40k + 30k + 20k + 15k

        # one click from the row to the customer's log-a-contact form, the task chosen
        link = re.search(r'class="log-contact" href="([^"]+)"', task)
        assert link is not None
        assert link.group(1) == f"/customers/TASK?as_of=2026-12-02&task={task_id(session)}#log-contact-form"  # fmt: skip
        form = section(wang.get(link.group(1)).text, "log-contact-form")
        assert f'<option value="{task_id(session)}" selected>' in form

        english = wang.get("/worklist", params={**DAY, "lang": "en"}).text
        assert "Today&#39;s worklist" in english and "call due" in row_of(english, "TASK")
        assert "Usual pay day: day 15" in row_of(english, "TASK")


def test_the_filters_on_the_page(
    database_url: str, desk: sessionmaker[Session], session: Session, company: Company
) -> None:
    people(session, company)
    with browser(database_url) as wang:
        sign_in(wang, "wang")

        def codes(**filters: str) -> list[str]:
            return listed(wang.get("/worklist", params={**DAY, **filters}).text)

        assert codes(type="dealer") == ["LARGE"]
        assert codes(salesperson="李强") == ORDER[1:]
        assert codes(min="25,000") == ["LARGE", "DISPUTE", "BROKEN"]
        assert codes(min="15000", max="¥20,000.00") == ["TASK", "PROMISE"]
        page = wang.get("/worklist", params={**DAY, "min": "25000", "type": "dealer"}).text
        assert 'value="25000"' in page and '<option value="dealer" selected>' in page
        refused = wang.get("/worklist", params={**DAY, "min": "一万"})
        assert refused.status_code == 422 and "min" in section(refused.text, "worklist-error")
        nothing = wang.get("/worklist", params={**DAY, "min": "1000000"}).text
        assert "今天没有需要处理的客户" in nothing and 'id="worklist"' not in nothing


def test_the_api_answers_the_same_rows(
    database_url: str, desk: sessionmaker[Session], session: Session, company: Company
) -> None:
    people(session, company)
    with client(database_url, session, "wang") as wang:
        answer = wang.get("/api/worklist", params=DAY).json()
        assert answer["collector"] == "王芳" and answer["as_of"] == "2026-12-02"
        items = {i["customer"]: i for i in answer["items"]}
        assert [i["customer"] for i in answer["items"]] == ORDER
        assert [i["value"] for i in answer["items"]] == [
            "78000.00", "35100.00", "27000.00", "22500.00", "16875.00",
        ]  # fmt: skip
        assert items["DISPUTE"]["at_stake"] == "40000.00"
        assert items["PROMISE"]["at_stake"] == "15000.00"
        assert items["PROMISE"]["chased_overdue"] == "0.00"
        assert (
            items["LARGE"]["customer_type"] == "dealer" and items["LARGE"]["salesperson"] == "周杰"
        )
        assert items["BROKEN"]["days_overdue"] == 17
        task = items["TASK"]
        assert task["reasons"] == [{"code": "call_due", "text": "电话任务到期 / call due"}]
        assert task["task_id"] == task_id(session) and items["LARGE"]["task_id"] is None
        assert task["habits"] == {
            "typical_pay_day": 15, "average_days_late": 11.2, "recent_days_late": 8.3,
            "last_contact_at": "2026-12-01 09:00:00", "last_outcome": "no_answer",
            "best_contact": "李会计", "best_hour": 10,
        }  # fmt: skip
        filtered = wang.get("/api/worklist", params={**DAY, "min": "15000", "max": "20000.00"})
        assert [i["customer"] for i in filtered.json()["items"]] == ["TASK", "PROMISE"]
        assert [i["rank"] for i in filtered.json()["items"]] == [1, 2]
        assert [i["customer"] for i in wang.get("/api/worklist", params={**DAY, "limit": 2}).json()["items"]] == ORDER[:2]  # fmt: skip
        bad = wang.get("/api/worklist", params={**DAY, "min": "abc"})
        assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("min")


def test_the_workbook_keeps_the_filters_and_the_rows(
    database_url: str, desk: sessionmaker[Session], session: Session, company: Company
) -> None:
    people(session, company)
    with browser(database_url) as wang:
        sign_in(wang, "wang")
        page = wang.get("/worklist", params={**DAY, "min": "25000"}).text
        link = re.search(r'href="([^"]+)" id="export-xlsx"', page)
        assert link is not None and link.group(1)
        download = wang.get(html.unescape(link.group(1)))
        assert download.status_code == 200
        assert download.headers["content-disposition"] == 'attachment; filename="worklist-2026-12-02.xlsx"'  # fmt: skip
        sheet = load_workbook(io.BytesIO(download.content)).active
        assert sheet is not None
        table = list(sheet.iter_rows(values_only=True))
        header = list(table[0])
        assert [r[header.index("客户编码 Code")] for r in table[1:]] == listed(page)
        assert listed(page) == ["LARGE", "DISPUTE", "BROKEN"]
        assert [r[header.index("期望回收 Expected value")] for r in table[1:]] == [78000, 35100, 27000]  # fmt: skip
        assert [r[header.index("原因 Why")] for r in table[1:]][2] == "违约承诺 / broken promise"


def test_a_collector_sees_only_their_own_customers(
    database_url: str, desk: sessionmaker[Session], session: Session, company: Company
) -> None:
    """OTHER is 赵六's; an open task on it assigned to 王芳 by name puts it on 王芳's list in the
    service, but she does not see the customer, so neither the page nor the API shows it."""
    people(session, company)
    with unit_of_work(desk) as writing:
        other = writing.scalars(select(Customer).where(Customer.code == "OTHER")).one()
        step = writing.scalars(select(StrategyStep).where(StrategyStep.channel == "phone_task")).one()  # fmt: skip
        writing.add(
            CollectionAction(
                company_id=company.id, customer_id=other.id, as_of=dt.date(2026, 12, 1),
                strategy_id=step.strategy_id, step_id=step.id, step_name=step.name,
                channel="phone_task", amount=9_000_000, invoice_count=1, status="open",
                assignee="王芳", created_at=dt.datetime(2026, 12, 1, 8, 0),
            )
        )  # fmt: skip
    with desk() as reading:
        assert "OTHER" in [r.code for r in worklist(reading, company_id=company.id, collector="王芳", as_of=AS_OF)]  # fmt: skip

    def codes(username: str, **params: str) -> list[str]:
        with client(database_url, session, username) as api:
            return [i["customer"] for i in api.get("/api/worklist", params={**DAY, **params}).json()["items"]]  # fmt: skip

    assert codes("wang") == ORDER
    assert codes("wang", collector="赵六") == ORDER  # a collector's list is always their own
    assert codes("wang", collector="") == ORDER
    assert codes("zhao") == ["OTHER"]
    assert codes("credit") == ["OTHER", *ORDER]  # a manager sees every collector's
    assert codes("credit", collector="赵六") == ["OTHER"]
    assert codes("sales") == ["OTHER", *ORDER[1:]]  # 李强's customers: LARGE is 周杰's
    with client(database_url, session, "viewer") as viewer:
        assert viewer.get("/api/worklist", params=DAY).status_code == 403
    with browser(database_url) as wang, browser(database_url) as credit:
        sign_in(wang, "wang")
        page = wang.get("/worklist", params={**DAY, "collector": "赵六"}).text
        assert listed(page) == ORDER and 'name="collector"' not in page
        sign_in(credit, "credit")
        everyone = credit.get("/worklist", params=DAY).text
        assert listed(everyone) == ["OTHER", *ORDER] and 'name="collector" value=""' in everyone
        assert "赵六" in row_of(everyone, "OTHER")  # everyone's list names each row's collector
        assert listed(credit.get("/worklist", params={**DAY, "collector": "赵六"}).text) == ["OTHER"]  # fmt: skip


def test_a_collectors_home_is_the_worklist(
    database_url: str, desk: sessionmaker[Session], session: Session, company: Company
) -> None:
    people(session, company)
    with browser(database_url) as wang, browser(database_url) as credit, browser(database_url) as liu:  # fmt: skip
        landed = sign_in(wang, "wang")
        assert "今日工作清单" in landed
        home = wang.get("/", params=DAY, follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/worklist?as_of=2026-12-02"
        aging = wang.get("/aging", params=DAY).text
        assert "应收账款账龄分析" in aging and 'action="/aging"' in aging
        assert 'href="/aging"' in aging and 'href="/worklist"' in aging  # the nav links
        sign_in(credit, "credit")
        dashboard = credit.get("/", params=DAY, follow_redirects=False)
        assert dashboard.status_code == 200 and "应收账款账龄分析" in dashboard.text
        sign_in(liu, "liu")  # a collector with no customers
        empty = liu.get("/", params=DAY).text
        assert "今天没有需要处理的客户" in empty
