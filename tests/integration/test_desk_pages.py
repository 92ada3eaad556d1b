"""The collector's desk in the browser and the API: a call logged in one screen (the excuse's
facts, its follow-ups shown on the page), a missing fact refused by name with the form kept,
another collector's customer 'not found', promises and disputes from the customer page, and the
desk's API round trips."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections.excuses import install_default_excuses
from huikuan.collections.models import ContactLog, Dispute, FollowUp, PromiseToPay
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from tests.actors import ACTOR

from .test_collection_api import client, ledger
from .test_collection_pages import browser, csrf_of, section
from .web_helpers import sign_in

D = dt.date
DAY = "?as_of=2026-11-10"


def shop(factory: sessionmaker[Session], company: Company) -> None:
    """C001 (王芳's, INV-1 and INV-2) and C002 (刘洋's, INV-3), with the default excuses."""
    ledger(factory, company)
    with unit_of_work(factory) as session:
        install_default_excuses(session, actor=ACTOR, company_id=company.id)


def call(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf, "channel": "phone", "outcome": "paid_claimed", "reached": "张总",
        "excuse": "already_paid", "fact.already_paid.date": "2026-11-09",
        "fact.already_paid.amount": "1,200.00", "fact.already_paid.reference": "ABC-77",
        "fact.boss_away.delegate": "not read: another excuse's fieldset",
        "note": "说昨天已经付了", "next_step_on": "2026-11-13", "contacted_at": "2026-11-10 10:30",
    }  # fmt: skip
    form.update(changes)
    return {k: v for k, v in form.items() if v != "-"}


def test_a_call_logged_from_the_customer_page(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as wang:
        sign_in(wang, "wang")
        page = wang.get(f"/customers/C001{DAY}").text
        form = section(page, "log-contact-form")
        assert 'data-excuse="already_paid"' in form and 'name="fact.already_paid.amount"' in form
        assert form.count("<fieldset") >= 5  # every excuse with facts, rendered server-side
        assistant = page[page.index('id="call-assistant"') :]
        assert "两个工作日后就能核实" in assistant and "银行回单上的流水号" in assistant
        assert "/static/desk.js" in page and "<script>" not in page  # no inline script (CSP)

        done = wang.post(f"/customers/C001/contacts{DAY}", data=call(csrf_of(page)))
        assert done.status_code == 200 and done.history[0].status_code == 303
        logged = section(done.text, "contact-log")
        assert "2026-11-10 10:30" in logged and "张总" in logged and "称已付款" in logged
        assert "amount=¥1,200.00" in logged and "reference=ABC-77" in logged
        follow_ups = section(done.text, "follow-ups")
        assert 'data-follow-up="verify_payment"' in follow_ups and "2026-11-12" in follow_ups
        assert "张总" in section(done.text, "customer-card")
    log = session.scalar(select(ContactLog))
    assert log is not None and "delegate" not in log.facts  # only the chosen excuse's facts
    assert session.scalar(select(FollowUp.kind)) == "verify_payment"


def test_a_missing_fact_is_named_and_the_form_kept(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as wang, browser(database_url) as viewer:
        sign_in(wang, "wang")
        page = wang.get(f"/customers/C001{DAY}").text
        refused = wang.post(
            f"/customers/C001/contacts{DAY}", data=call(csrf_of(page), **{"fact.already_paid.amount": "-"})
        )  # fmt: skip
        assert refused.status_code == 422
        error = refused.text[refused.text.index('id="log-contact-error"') :].split("</p>")[0]
        assert "付款金额" in error
        kept = section(refused.text, "log-contact-form")
        assert (
            'value="ABC-77"' in kept and "说昨天已经付了" in kept and 'value="2026-11-13"' in kept
        )
        assert '<option value="already_paid" selected>' in kept
        assert '<option value="paid_claimed" selected>' in kept
        assert session.scalar(select(func.count()).select_from(ContactLog)) == 0

        # another collector's customer is not found; a viewer may not log at all
        other = wang.post(f"/customers/C002/contacts{DAY}", data=call(csrf_of(page)))
        assert other.status_code == 404
        sign_in(viewer, "viewer")
        seen = viewer.get(f"/customers/C001{DAY}").text
        assert 'id="customer-card"' in seen and 'id="log-contact-form"' not in seen
        assert viewer.post(f"/customers/C001/contacts{DAY}", data=call(csrf_of(seen))).status_code == 403  # fmt: skip
        assert session.scalar(select(func.count()).select_from(ContactLog)) == 0


def test_promise_and_dispute_forms(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with browser(database_url) as wang, browser(database_url) as credit:
        sign_in(wang, "wang")
        page = wang.get(f"/customers/C001{DAY}").text
        csrf = csrf_of(page)
        bad = wang.post(
            f"/customers/C001/promises{DAY}",
            data={"csrf": csrf, "invoice": ["INV-1", "INV-2"], "instalments": "2026-11-20,1000.00\n下周,5",
                  "made_by": "张总", "made_on": "2026-11-10"},
        )  # fmt: skip
        assert bad.status_code == 422 and "第 2 行" in html.unescape(bad.text)
        assert "2026-11-20,1000.00" in section(bad.text, "promise-form")
        good = wang.post(
            f"/customers/C001/promises{DAY}",
            data={"csrf": csrf, "invoice": ["INV-1", "INV-2"], "made_by": "张总", "made_on": "2026-11-10",
                  "instalments": "2026-11-20,1000.00\n2026-11-30，500.00", "promise_note": "电话确认"},
        )  # fmt: skip
        assert good.status_code == 200
        promises = section(good.text, "promises")
        assert (
            "INV-1、INV-2" in promises and "2026-11-30 ¥500.00" in promises and "待履行" in promises
        )
        assert session.scalar(select(func.count()).select_from(PromiseToPay)) == 1

        raised = wang.post(
            f"/customers/C001/disputes{DAY}",
            data={"csrf": csrf, "invoice": "INV-2", "amount": "100.00", "reason": "quality",
                  "raised_on": "2026-11-10", "dispute_note": "破损"},
        )  # fmt: skip
        assert raised.status_code == 200
        disputes = section(raised.text, "disputes")
        assert (
            "INV-2" in disputes
            and "¥100.00" in disputes
            and "质量" in disputes
            and "未决" in disputes
        )
        assert "resolve-form" not in disputes  # a collector may not resolve
        not_hers = wang.post(
            f"/customers/C001/disputes{DAY}", data={"csrf": csrf, "invoice": "INV-3", "reason": "quality"}
        )  # fmt: skip
        assert not_hers.status_code == 422 and "C001 没有发票 INV-3" in not_hers.text
        dispute_id = session.scalar(select(Dispute.id))
        assert wang.post(
            f"/disputes/{dispute_id}/resolve{DAY}", data={"csrf": csrf, "resolution": "rejected", "note": "x"}
        ).status_code == 403  # fmt: skip

        sign_in(credit, "credit")
        credit_page = credit.get(f"/customers/C001{DAY}").text
        assert "resolve-form" in section(credit_page, "disputes")
        resolved = credit.post(
            f"/disputes/{dispute_id}/resolve{DAY}",
            data={"csrf": csrf_of(credit_page), "resolution": "rejected", "note": "验收单已签字"},
        )
        assert resolved.status_code == 200
        assert "已处理" in section(resolved.text, "disputes") and "驳回" in section(resolved.text, "disputes")  # fmt: skip


def test_the_desk_api(
    database_url: str, factory: sessionmaker[Session], session: Session, company: Company
) -> None:
    shop(factory, company)
    with client(database_url, session, "wang") as wang, client(database_url, session, "credit") as credit:  # fmt: skip
        listed = wang.get("/api/excuses").json()["items"]
        paid = next(e for e in listed if e["code"] == "already_paid")
        assert [f["name"] for f in paid["facts"]] == ["date", "amount", "reference"]
        assert paid["follow_ups"] == ["verify_payment"]

        body = {
            "channel": "phone", "outcome": "paid_claimed", "reached": "张总", "excuse": "already_paid",
            "facts": {"date": "2026-11-09", "reference": "ABC"}, "contacted_at": "2026-11-10T10:30:00",
        }  # fmt: skip
        missing = wang.post("/api/customers/C001/contacts", json=body)
        assert missing.status_code == 422 and "付款金额" in missing.json()["error"]["message"]
        body["facts"]["amount"] = "5000.00"  # type: ignore[index]
        logged = wang.post("/api/customers/C001/contacts", json=body)
        assert logged.status_code == 201, logged.text
        answer = logged.json()
        assert answer["contact"]["facts"] == {
            "date": "2026-11-09",
            "amount": "5000.00",
            "reference": "ABC",
        }
        assert [(f["kind"], f["due_on"]) for f in answer["follow_ups"]] == [
            ("verify_payment", "2026-11-12")
        ]
        assert wang.post("/api/customers/C002/contacts", json=body).status_code == 404

        card = wang.get("/api/customers/C001/card", params={"as_of": "2026-11-10"}).json()
        assert (
            card["last_outcome"] == "paid_claimed" and card["last_contacts"][0]["reached"] == "张总"
        )
        assert card["open_follow_ups"][0]["kind"] == "verify_payment"

        promise = wang.post(
            "/api/customers/C001/promises",
            json={"invoices": ["INV-1"], "made_on": "2026-11-10", "made_by": "张总",
                  "instalments": [{"due_on": "2026-11-20", "amount": "1000.00"}]},
        )  # fmt: skip
        assert promise.status_code == 201, promise.text
        assert promise.json()["instalments"] == [{"due_on": "2026-11-20", "amount": "1000.00", "status": "open"}]  # fmt: skip

        dispute = wang.post(
            "/api/invoices/INV-2/disputes", json={"reason": "price", "raised_on": "2026-11-10", "note": "单价不对"}
        )  # fmt: skip
        assert dispute.status_code == 201, dispute.text
        assert dispute.json()["amount"] == "3456.78" and dispute.json()["status"] == "open"
        assert (
            wang.post("/api/invoices/INV-3/disputes", json={"reason": "price"}).status_code == 404
        )
        dispute_id = dispute.json()["id"]
        assert wang.post(f"/api/disputes/{dispute_id}/resolve", json={"resolution": "rejected", "note": "x"}).status_code == 403  # fmt: skip

        ageing = wang.get("/api/disputes/ageing", params={"as_of": "2026-11-20"}).json()
        assert [r["customer"] for r in ageing["rows"]] == ["C001"] and ageing["total"] == "3456.78"

        done = credit.post(
            f"/api/disputes/{dispute_id}/resolve",
            json={"resolution": "correction", "note": "已重开发票", "resolved_on": "2026-11-12"},
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "resolved" and done.json()["resolution"] == "correction"
        assert (
            credit.get("/api/disputes/ageing", params={"as_of": "2026-11-20"}).json()["rows"] == []
        )
