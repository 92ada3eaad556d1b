"""Payment plans, late fees and follow-ups in the browser, the API and the command line: a plan
proposed from the page with its schedule to the fen and approved by a credit manager, a refused
plan that writes nothing, nobody approving their own, a plan cancelled; the charges computed by
the monthly charging with their waiver requests (refused without a reason, approved or rejected
by another credit manager, never by a collector or the one who asked); a follow-up closed from
the customer page and from the command line; the lists exported to Excel."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal

import typer
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections.cli_calls import call_app
from huikuan.collections.late_fees import charge_late_fees
from huikuan.collections.models import FollowUp, LateFeeCharge, LateFeeWaiver, PaymentPlan
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.customers.models import Contract, Customer
from tests.actors import ACTOR

from .test_collection_api import client, ledger
from .test_collection_pages import browser, csrf_of, section
from .web_helpers import make_user, sign_in

D = dt.date
DAY = "?as_of=2026-12-01"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def shop(factory: sessionmaker[Session], company: Company) -> None:
    """C001 (王芳's: INV-1 ¥120,000.00 and INV-2 ¥3,456.78) and C002 (刘洋's: INV-3), all due
    on Monday 2026-11-02; two credit managers; contracts at 0.05% a day from the due date."""
    ledger(factory, company)
    with unit_of_work(factory) as session:
        make_user(session, company, "credit2", "credit_manager", "王审批")
        for customer in session.scalars(select(Customer)):
            session.add(
                Contract(
                    company_id=company.id, customer_id=customer.id, number=f"HT-{customer.code}",
                    signed_on=D(2026, 1, 1), late_fee_rate_per_day=Decimal("0.0005"),
                )
            )  # fmt: skip


def plan_form(csrf: str, **changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf": csrf, "invoice": ["INV-1", "INV-2"], "schedule": "equal", "count": "7",
        "first_due_on": "2026-12-31", "frequency": "monthly", "interest": "6",
        "waive_late_fees": "yes", "note": "老板面谈同意",
    }  # fmt: skip
    form.update(changes)
    return form


def text_of(page: str) -> str:
    """The page's text without tags, as a person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_a_plan_proposed_from_the_page_shows_its_schedule_and_waits_for_approval(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as wang, browser(database_url) as credit:
        sign_in(wang, "wang")
        customer_page = wang.get(f"/customers/C001{DAY}").text
        assert 'id="agree-plan-link"' in customer_page
        form = wang.get(f"/customers/C001/plans/new{DAY}").text
        # the overdue invoices are ticked; nobody is named as approver
        assert re.search(r'value="INV-1" checked', form) and re.search(
            r'value="INV-2" checked', form
        )
        assert 'name="approver"' not in form and "另一位信用经理批准后才生效" in form

        done = wang.post(f"/customers/C001/plans{DAY}", data=plan_form(csrf_of(form)))
        assert done.status_code == 200 and done.history[0].status_code == 303
        plan = session.scalars(select(PaymentPlan)).one()
        assert (plan.status, plan.approved_by, plan.recorded_by) == ("proposed", "", "wang")
        assert done.url.path == f"/plans/{plan.id}"
        page = done.text
        schedule = text_of(section(page, "schedule"))
        # ¥123,456.78 in seven: ¥17,636.68 six times and the remainder fen on the last
        assert schedule.count("¥17,636.68") == 6 and "¥17,636.70" in schedule
        for due in ("2026-12-31", "2027-01-31", "2027-02-28", "2027-03-31", "2027-06-30"):
            assert due in schedule
        # 6% a year on the declining principal, actual/365, from the agreement on 12-01
        assert "¥608.83" in schedule and "¥86.98" in schedule and "¥2,441.13" in schedule
        assert "¥123,456.78" in text_of(section(page, "plan-total"))
        assert "待审批" in text_of(section(page, "plan-status"))
        assert 'id="decide-plan"' in page and 'id="decide-plan-form"' not in page  # no right
        assert 'id="cancel-plan-form"' not in page
        assert "C001" in text_of(section(wang.get("/plans?status=proposed").text, "plans"))
        refused = wang.post(f"/plans/{plan.id}/decide", data={"csrf": csrf_of(page), "decision": "approve"})  # fmt: skip
        assert refused.status_code == 403

        sign_in(credit, "credit")
        listed = credit.get("/plans?status=proposed").text
        assert f'action="/plans/{plan.id}/decide"' in section(listed, "plans")
        seen = credit.get(f"/plans/{plan.id}").text
        assert 'id="decide-plan-form"' in seen
        approved = credit.post(
            f"/plans/{plan.id}/decide{DAY}",
            data={"csrf": csrf_of(seen), "decision": "approve", "note": "同意分期"},
        )
        assert approved.status_code == 200 and approved.history[0].status_code == 303
        page = approved.text
        assert "履行中" in text_of(section(page, "plan-status"))
        assert 'id="decide-plan"' not in page
        profile = text_of(section(page, "plan-profile"))
        assert "2026-12-01" in profile and "credit" in profile and "wang" in profile
        assert "6.00%" in profile and "老板面谈同意" in profile
        assert "INV-1" in section(page, "plan-invoices") and "INV-2" in section(
            page, "plan-invoices"
        )
        history = text_of(section(page, "history"))
        assert "新建" in history and "批准" in history and "同意分期" in history

    with browser(database_url) as wang:
        sign_in(wang, "wang")
        listed = text_of(section(wang.get("/plans?status=active").text, "plans"))
        assert "C001" in listed and "0 / 7" in listed and "2026-12-31" in listed
        assert "¥123,456.78" in listed and "credit" in listed
        again = wang.get(f"/customers/C001{DAY}").text
        assert f'data-plan="{plan.id}"' in section(again, "customer-plan-list")

        workbook = wang.get("/plans.xlsx?status=active")
        assert workbook.headers["content-type"] == XLSX
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:4] == ("编号", "客户编码", "客户名称", "约定日")
        assert rows[1][1] == "C001" and rows[1][4] == "履行中" and rows[1][11] == "credit"
        assert rows[1][6] == Decimal("123456.78") or rows[1][6] == 123456.78
        assert rows[1][3].date() == D(2026, 12, 1)  # a date cell, not text


def test_a_refused_plan_shows_the_reason_keeps_the_form_and_writes_nothing(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as wang:
        sign_in(wang, "wang")
        csrf = csrf_of(wang.get(f"/customers/C001/plans/new{DAY}").text)
        lines = plan_form(
            csrf, schedule="lines", lines="2026-12-15,100,000.00\n2027-01-15,20,000.00"
        )
        short = wang.post(f"/customers/C001/plans{DAY}", data=lines)
        assert short.status_code == 422
        error = text_of(section(short.text, "plan-error"))
        assert "各期合计 12000000 分不等于计划金额 12345678 分" in error
        kept = short.text
        assert "2026-12-15,100,000.00" in kept and 'value="老板面谈同意"' in kept
        assert 'value="lines" checked' in kept and 'value="yes" checked' in kept

        one = wang.post(
            f"/customers/C001/plans{DAY}", data=plan_form(csrf, invoice=["INV-2"], count="x")
        )
        assert one.status_code == 422 and "期数须为 1 到 120 的整数" in html.unescape(one.text)
        assert re.search(r'value="INV-2" checked', one.text)
        assert not re.search(r'value="INV-1" checked', one.text)  # the ticks as posted
    assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 0


def test_nobody_approves_a_plan_they_recorded_and_a_rejection_changes_nothing_else(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as credit, browser(database_url) as credit2:
        sign_in(credit, "credit")
        csrf = csrf_of(credit.get(f"/customers/C001/plans/new{DAY}").text)
        credit.post(f"/customers/C001/plans{DAY}", data=plan_form(csrf))
        plan_id = session.scalars(select(PaymentPlan.id)).one()
        page = credit.get(f"/plans/{plan_id}").text
        assert 'id="decide-plan-form"' not in page and 'id="own-plan"' in page
        listed = credit.get("/plans?status=proposed").text
        assert f'action="/plans/{plan_id}/decide"' not in listed
        mine = credit.post(
            f"/plans/{plan_id}/decide", data={"csrf": csrf, "decision": "approve", "note": "我批"}
        )
        assert mine.status_code == 409
        assert "不能审批自己录入的还款计划" in text_of(section(mine.text, "plan-error"))
        nothing = credit.post(f"/plans/{plan_id}/decide", data={"csrf": csrf})
        assert nothing.status_code == 422 and "请选择批准或驳回" in html.unescape(nothing.text)
        session.expire_all()
        assert session.get_one(PaymentPlan, plan_id).status == "proposed"

        sign_in(credit2, "credit2")
        seen = credit2.get("/plans?status=proposed").text
        rejected = credit2.post(
            f"/plans/{plan_id}/decide",
            data={"csrf": csrf_of(seen), "decision": "reject", "note": "分期太长",
                  "back": "/plans?status=proposed"},
        )  # fmt: skip
        assert rejected.status_code == 200 and rejected.url.path == "/plans"
        assert f'data-plan="{plan_id}"' not in rejected.text
        session.expire_all()
        plan = session.get_one(PaymentPlan, plan_id)
        assert (plan.status, plan.approved_by) == ("rejected", "")
        page = credit2.get(f"/plans/{plan_id}").text
        assert "已驳回" in text_of(section(page, "plan-status")) and "分期太长" in page
        twice = credit2.post(
            f"/plans/{plan_id}/decide", data={"csrf": csrf_of(seen), "decision": "approve"}
        )
        assert twice.status_code == 409
        # the invoices may join a new plan at once
        form = credit.get(f"/customers/C001/plans/new{DAY}").text
        assert re.search(r'value="INV-1" checked', form)


def test_a_plan_is_cancelled_with_a_reason(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as wang, browser(database_url) as viewer:
        sign_in(wang, "wang")
        csrf = csrf_of(wang.get(f"/customers/C001/plans/new{DAY}").text)
        wang.post(f"/customers/C001/plans{DAY}", data=plan_form(csrf))
        plan_id = session.scalars(select(PaymentPlan.id)).one()
        with browser(database_url) as credit:
            sign_in(credit, "credit")
            seen = credit.get(f"/plans/{plan_id}").text
            credit.post(f"/plans/{plan_id}/decide", data={"csrf": csrf_of(seen), "decision": "approve"})  # fmt: skip
        page = wang.get(f"/plans/{plan_id}").text
        assert 'id="cancel-plan-form"' in page

        sign_in(viewer, "viewer")
        seen = viewer.get(f"/plans/{plan_id}").text
        assert 'id="cancel-plan-form"' not in seen
        forbidden = viewer.post(
            f"/plans/{plan_id}/cancel", data={"csrf": csrf_of(seen), "reason": "x"}
        )
        assert forbidden.status_code == 403

        bare = wang.post(f"/plans/{plan_id}/cancel", data={"csrf": csrf, "reason": " "})
        assert bare.status_code == 422 and "请填写取消原因" in html.unescape(bare.text)
        session.expire_all()
        assert session.get_one(PaymentPlan, plan_id).status == "active"

        done = wang.post(
            f"/plans/{plan_id}/cancel{DAY}", data={"csrf": csrf, "reason": "客户改为一次付清"}
        )
        assert done.status_code == 200 and done.history[0].status_code == 303
        assert "已取消" in text_of(section(done.text, "plan-status"))
        assert 'id="cancel-plan-form"' not in done.text
        assert "客户改为一次付清" in section(done.text, "history")
        twice = wang.post(f"/plans/{plan_id}/cancel", data={"csrf": csrf, "reason": "再取消"})
        assert twice.status_code == 409 and "不能取消" in html.unescape(twice.text)
        listed = wang.get("/plans?status=cancelled").text
        assert f'data-plan="{plan_id}"' in listed
        assert f'data-plan="{plan_id}"' not in wang.get("/plans?status=active").text


def charge(factory: sessionmaker[Session], company: Company) -> None:
    with unit_of_work(factory) as session:
        result = charge_late_fees(session, company_id=company.id, as_of=D(2026, 12, 1), actor=ACTOR)
        assert result.charges == 3


def test_the_late_fee_list_shows_what_the_monthly_charging_computed(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    charge(factory, company)
    with browser(database_url) as wang, browser(database_url) as credit:
        sign_in(wang, "wang")
        mine = wang.get("/late-fees").text
        rows = text_of(section(mine, "late-fees"))
        # 11-03..11-30: 28 days at 0.05% a day on ¥120,000.00, and on ¥3,456.78 (¥48.39492)
        assert "INV-1" in rows and "2026-11-03 – 2026-11-30" in rows and "28" in rows
        assert "¥120,000.00" in rows and "0.0005/day" in rows and "¥1,680.00" in rows
        assert "¥48.39" in rows
        assert "INV-3" not in rows  # 刘洋's customer
        assert "违约金 ¥1,728.39，已减免 ¥0.00，未付 ¥1,728.39" in text_of(
            section(mine, "fees-total")
        )

        sign_in(credit, "credit")
        everyone = text_of(section(credit.get("/late-fees").text, "late-fees"))
        assert "INV-3" in everyone and "¥700.00" in everyone  # ¥50,000.01 × 0.0005 × 28
        one = text_of(section(credit.get("/late-fees?invoice=INV-2").text, "late-fees"))
        assert "INV-2" in one and "INV-1" not in one
        later = credit.get("/late-fees?period_from=2026-12-01").text
        assert "¥1,680.00" not in text_of(section(later, "late-fees"))
        wrong = credit.get("/late-fees?period_from=not-a-date")
        assert wrong.status_code == 422 and "期末起无法识别" in html.unescape(wrong.text)

        customer_page = wang.get(f"/customers/C001{DAY}").text
        owed = text_of(section(customer_page, "owed-late-fees"))
        assert "¥1,680.00" in owed and "¥48.39" in owed and "¥1,728.39" in owed

        workbook = credit.get("/late-fees.xlsx?customer=C001")
        assert workbook.headers["content-type"] == XLSX
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        rows_x = list(sheet.iter_rows(values_only=True))
        assert rows_x[0][:3] == ("客户编码", "客户名称", "发票号") and len(rows_x) == 3
        first = rows_x[1]
        assert first[2] == "INV-1" and first[3].date() == D(2026, 11, 3) and first[5] == 28
        assert Decimal(str(first[8])) == Decimal("1680.00")


def ask(client, charge_id: int, csrf: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(f"/late-fees/{charge_id}/waivers", data={"csrf": csrf, **fields})


def decide(client, waiver_id: int, csrf: str, decision: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf": csrf, "decision": decision, **fields}
    return client.post(f"/late-fee-waivers/{waiver_id}/decide", data=data)


def test_a_waiver_is_asked_for_with_a_reason_and_approved_by_another_credit_manager(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    charge(factory, company)
    first = session.scalars(select(LateFeeCharge).order_by(LateFeeCharge.amount.desc())).first()
    assert first is not None and first.amount == 1_680_00
    with browser(database_url) as credit, browser(database_url) as wang, browser(database_url) as credit2:  # fmt: skip
        sign_in(wang, "wang")
        page = wang.get("/late-fees?customer=C001").text
        assert 'name="approver"' not in page
        bare = ask(wang, first.id, csrf_of(page), amount="500.00", reason="")
        assert bare.status_code == 422
        assert "减免违约金必须说明理由" in text_of(section(bare.text, "waive-error"))
        row = section(bare.text, f"charge-{first.id}")
        assert "<details open>" in row and 'value="500.00"' in row  # as typed
        assert session.scalar(select(func.count()).select_from(LateFeeWaiver)) == 0

        asked = ask(wang, first.id, csrf_of(page), amount="500.00", reason="老客户首次逾期",
                    back="/late-fees?customer=C001")  # fmt: skip
        assert asked.status_code == 200 and asked.history[0].status_code == 303
        row = text_of(section(asked.text, f"charge-{first.id}"))
        assert "待审批减免 ¥500.00" in row and "¥1,680.00" in row  # nothing waived yet
        waiting = section(asked.text, "pending-waivers")
        assert "老客户首次逾期" in waiting and "wang" in waiting
        assert "decide-waiver" not in waiting  # a collector may not decide
        waiver = session.scalars(select(LateFeeWaiver)).one()
        refused = decide(wang, waiver.id, csrf_of(page), "approve")
        assert refused.status_code == 403
        session.expire_all()
        assert (session.get_one(LateFeeCharge, first.id).waived, waiver.status) == (0, "pending")

        sign_in(credit, "credit")
        seen = credit.get("/late-fees").text
        assert f'action="/late-fee-waivers/{waiver.id}/decide"' in section(seen, "pending-waivers")
        ok = decide(credit, waiver.id, csrf_of(seen), "approve", back="/late-fees?customer=C001")
        assert ok.status_code == 200 and ok.history[0].status_code == 303
        row = text_of(section(ok.text, f"charge-{first.id}"))
        assert "¥500.00" in row and "¥1,180.00" in row
        assert "老客户首次逾期" in row and "credit" in row and "待审批" not in row
        assert f'data-waiver="{waiver.id}"' not in ok.text

        rest = ask(credit, first.id, csrf_of(seen), reason="和解")  # all that is left
        assert rest.status_code == 200
        mine = session.scalars(select(LateFeeWaiver).where(LateFeeWaiver.status == "pending")).one()  # fmt: skip
        assert mine.amount == 1_180_00
        assert "本人申请" in text_of(section(rest.text, f"waiver-{mine.id}"))
        own = decide(credit, mine.id, csrf_of(seen), "approve")
        assert own.status_code == 409
        assert "不能审批自己提出的减免" in text_of(section(own.text, "waive-error"))
        session.expire_all()
        assert session.get_one(LateFeeCharge, first.id).waived == 500_00

        sign_in(credit2, "credit2")
        other = credit2.get("/late-fees").text
        no = decide(credit2, mine.id, csrf_of(other), "reject", note="已减免过一次")
        assert no.status_code == 200
        session.expire_all()
        waived = session.get_one(LateFeeCharge, first.id)
        assert (waived.waived, waived.waiver_approved_by) == (500_00, "credit")
        assert session.get_one(LateFeeWaiver, mine.id).note == "已减免过一次"
        waived_only = text_of(section(wang.get("/late-fees?state=waived").text, "late-fees"))
        assert "INV-1" in waived_only and "INV-2" not in waived_only


def test_a_follow_up_is_closed_from_the_page_and_from_the_command_line(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with unit_of_work(factory) as setup:
        c001 = setup.scalars(select(Customer).where(Customer.code == "C001")).one()
        for kind in ("reissue_invoice", "confirm_amount"):
            setup.add(
                FollowUp(company_id=company.id, customer_id=c001.id, kind=kind,
                         due_on=D(2026, 12, 2), detail=f"{kind} INV-1")
            )  # fmt: skip
    reissue, confirm = session.scalars(select(FollowUp.id).order_by(FollowUp.id)).all()
    with browser(database_url) as wang, browser(database_url) as viewer:
        sign_in(wang, "wang")
        page = wang.get(f"/customers/C001{DAY}").text
        assert f'action="/follow-ups/{reissue}/close"' in section(page, "follow-ups")
        csrf = csrf_of(page)
        bare = wang.post(
            f"/follow-ups/{reissue}/close{DAY}", data={"csrf": csrf, "outcome": "done", "note": ""}
        )
        assert bare.status_code == 422 and "关闭后续事项须写明说明" in html.unescape(bare.text)

        done = wang.post(
            f"/follow-ups/{reissue}/close{DAY}",
            data={"csrf": csrf, "outcome": "done", "note": "已补发带订单号的发票"},
        )
        assert done.status_code == 200 and done.history[0].status_code == 303
        row = text_of(section(done.text, "follow-ups").split(f'data-follow-up-id="{reissue}"')[1].split("</tr>")[0])  # fmt: skip
        assert "已完成" in row and "已补发带订单号的发票（wang，2026-12-01）" in row
        assert f'action="/follow-ups/{reissue}/close"' not in done.text
        assert f'action="/follow-ups/{confirm}/close"' in done.text

        sign_in(viewer, "viewer")
        seen = viewer.get(f"/customers/C001{DAY}").text
        assert "close-follow-up-form" not in seen
        refused = viewer.post(
            f"/follow-ups/{confirm}/close", data={"csrf": csrf_of(seen), "note": "x"}
        )
        assert refused.status_code == 403

    with client(database_url, session, "wang") as api:
        open_ = api.get("/api/follow-ups").json()
        assert [f["id"] for f in open_["items"]] == [confirm]

    app = typer.Typer()
    app.add_typer(call_app, name="call")
    runner = CliRunner()
    db = ["--db", database_url]
    listed = runner.invoke(app, ["call", "follow-ups", *db])
    assert (
        listed.exit_code == 0
        and f"#{confirm}" in listed.output
        and f"#{reissue} " not in listed.output
    )
    again = runner.invoke(app, ["call", "close", str(reissue), "--note", "再关一次", *db])
    assert again.exit_code == 1 and "已关闭" in again.output
    closed = runner.invoke(
        app, ["call", "close", str(confirm), "--as", "not_needed", "--note", "客户已书面确认",
              "--date", "2026-12-02", *db],
    )  # fmt: skip
    assert closed.exit_code == 0, closed.output
    assert "not_needed" in closed.output and "客户已书面确认" in closed.output
    assert "no follow-ups open" in runner.invoke(app, ["call", "follow-ups", *db]).output
    everything = runner.invoke(app, ["call", "follow-ups", "--all", *db]).output
    assert "not_needed" in everything and "2026-12-02" in everything


def test_the_api_proposes_decides_cancels_and_waives(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    charge(factory, company)
    with client(database_url, session, "wang") as api, client(database_url, session, "credit") as credit:  # fmt: skip
        made = api.post(
            "/api/customers/C001/plans",
            json={"instalments": [{"due_on": "2026-12-15", "amount": "100,000.00"},
                                  {"due_on": "2027-01-15", "amount": "23456.78"}],
                  "agreed_on": "2026-12-01", "waive_late_fees": True},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        plan = made.json()
        assert (plan["status"], plan["approved_by"], plan["recorded_by"]) == (
            "proposed",
            "",
            "wang",
        )
        assert plan["invoices"] == ["INV-1", "INV-2"]  # the overdue ones, by default
        assert [(i["due_on"], i["amount"]) for i in plan["instalments"]] == [
            ("2026-12-15", "100000.00"), ("2027-01-15", "23456.78")
        ]  # fmt: skip
        decision = f"/api/plans/{plan['id']}/decision"
        assert api.post(decision, json={"approve": True}).status_code == 403
        assert api.post(f"/api/plans/{plan['id']}/cancel", json={"reason": "x"}).status_code == 409
        approved = credit.post(decision, json={"approve": True, "note": "同意"})
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["approved_by"]) == ("active", "credit")
        assert credit.post(decision, json={"approve": False}).status_code == 409
        listed = api.get("/api/plans", params={"status": "active"}).json()
        assert [(p["id"], p["total"], p["instalments"]) for p in listed["items"]] == [
            (plan["id"], "123456.78", 2)
        ]
        cancelled = api.post(f"/api/plans/{plan['id']}/cancel", json={"reason": "改为一次付清"})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        again = api.post(f"/api/plans/{plan['id']}/cancel", json={"reason": "再取消"})
        assert again.status_code == 409
        mine = credit.post(
            "/api/customers/C001/plans",
            json={"equal": {"count": 2, "first_due_on": "2026-12-31"}, "agreed_on": "2026-12-01"},
        )  # fmt: skip
        assert mine.status_code == 201
        own = credit.post(f"/api/plans/{mine.json()['id']}/decision", json={"approve": True})
        assert own.status_code == 409 and "不能审批自己录入" in own.json()["error"]["message"]

        fees = api.get("/api/late-fees", params={"state": "owed"}).json()
        assert fees["total"] == 2 and fees["amount"] == "1728.39" and fees["owed"] == "1728.39"
        big = next(c for c in fees["items"] if c["invoice"] == "INV-1")
        assert (big["period_start"], big["days"], big["amount"]) == ("2026-11-03", 28, "1680.00")
        too_much = api.post(f"/api/late-fees/{big['id']}/waivers", json={"amount": "1680.01", "reason": "x"})  # fmt: skip
        assert too_much.status_code == 422
        asked = api.post(
            f"/api/late-fees/{big['id']}/waivers", json={"amount": "80.00", "reason": "首次逾期"}
        )
        assert asked.status_code == 201, asked.text
        waiver = asked.json()
        assert (waiver["status"], waiver["amount"], waiver["charge_owed"]) == ("pending", "80.00", "1680.00")  # fmt: skip
        pending = api.get("/api/late-fee-waivers").json()
        assert [w["id"] for w in pending["items"]] == [waiver["id"]]
        decision = f"/api/late-fee-waivers/{waiver['id']}/decision"
        assert api.post(decision, json={"approve": True}).status_code == 403
        done = credit.post(decision, json={"approve": True, "note": "同意"})
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["decided_by"], done.json()["charge_owed"]) == (
            "approved", "credit", "1600.00",
        )  # fmt: skip
        assert credit.post(decision, json={"approve": True}).status_code == 409
        owed = api.get("/api/late-fees", params={"invoice": "INV-1"}).json()["items"][0]
        assert (owed["waived"], owed["owed"], owed["waiver_approved_by"]) == ("80.00", "1600.00", "credit")  # fmt: skip
        assert api.get("/api/late-fee-waivers").json()["total"] == 0
        assert api.get("/api/late-fee-waivers", params={"status": "all"}).json()["total"] == 1

    other = session.scalars(select(LateFeeCharge).join(Customer).where(Customer.code == "C002")).one()  # fmt: skip
    with client(database_url, session, "wang") as api, client(database_url, session, "credit") as credit:  # fmt: skip
        hidden = api.post(f"/api/late-fees/{other.id}/waivers", json={"reason": "x"})
        assert hidden.status_code == 404  # another collector's customer
        asked = credit.post(f"/api/late-fees/{other.id}/waivers", json={"reason": "x"})
        assert asked.status_code == 201 and asked.json()["amount"] == "700.00"  # all of it
        assert api.get("/api/late-fee-waivers").json()["total"] == 0  # not wang's customer
        self_approved = credit.post(
            f"/api/late-fee-waivers/{asked.json()['id']}/decision", json={"approve": True}
        )
        assert self_approved.status_code == 409
