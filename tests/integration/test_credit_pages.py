"""Credit in the browser: assess and score on the customer page, ask for a limit, approve it
as somebody else, an order waiting with its reasons and approved from the queue, holds."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.credit.models import CreditHold, OrderDecision
from huikuan.ledger.models import SalesOrder
from huikuan.web.app import create_app

from .ledger_builders import customer, invoice
from .web_helpers import make_user, sign_in

D = dt.date


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def shop(session: Session, company: Company) -> None:
    c = customer(session, company, "C1", "华东建材有限公司", salesperson="王强")
    invoice(session, company, c, "INV-1", D(2026, 1, 1), 5_000_000, terms=30)  # 50,000.00 overdue
    session.commit()
    make_user(session, company, "credit", "credit_manager", "李信用")
    make_user(session, company, "credit2", "credit_manager", "赵信用")
    make_user(session, company, "sales", "sales", "王强")
    make_user(session, company, "finance", "finance", "钱财务")


def test_assess_score_request_and_approve_a_limit_then_an_order_waits_and_is_approved(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as credit, TestClient(app) as other, TestClient(app) as sales:
        sign_in(credit, "credit")
        sign_in(other, "credit2")
        sign_in(sales, "sales")
        page = credit.get("/customers/C1", params={"as_of": "2026-02-10"}).text
        assert 'id="assessment-form"' in page and 'id="credit-grade">—<' in page
        bad = credit.post(
            "/customers/C1/assessments", params={"as_of": "2026-02-10"},
            data={"csrf": csrf_of(page), "assessed_on": "2026-02-10", "year": "2025",
                  "total_assets": "0", "total_liabilities": "100"},
        )  # fmt: skip
        assert bad.status_code == 422 and "有负债却没有资产" in bad.text
        done = credit.post(
            "/customers/C1/assessments", params={"as_of": "2026-02-10"},
            data={"csrf": csrf_of(page), "assessed_on": "2026-02-10", "year": "2025",
                  "total_assets": "10,000,000", "total_liabilities": "4,000,000", "revenue": "30,000,000",
                  "net_profit": "1,500,000", "founded_on": "2012-05-01", "employees": "120",
                  "reputation_rating": "4", "revenue_band": "10m-50m", "score_now": "on"},
        )  # fmt: skip
        assert done.status_code == 200
        grade = re.search(r'id="credit-grade">([A-C]+)<', done.text)
        assert grade is not None
        assert "资产负债率" in done.text and 'id="scorecard"' in done.text
        band = done.text.split("营收规模</td>")[1].split("</td>")[0]
        assert band.endswith(">10m-50m")  # the band by name, not its index
        assert "缺失" in done.text  # no report grade, no market share: shown as missing
        asked = credit.post(
            "/customers/C1/limit-requests",
            data={"csrf": csrf_of(page), "amount": "10.00", "terms_days": "30", "reason": "试单期，先给小额度",
                  "valid_from": "2026-02-10"},
        )  # fmt: skip
        assert "额度调整申请 ¥10.00（credit）待审批" in asked.text
        queue = credit.get("/credit").text
        request_id = re.search(r"/limit-requests/(\d+)/decide", queue)
        assert request_id is not None
        own = credit.post(f"/limit-requests/{request_id.group(1)}/decide",
                          data={"csrf": csrf_of(queue), "decision": "approve"})  # fmt: skip
        assert own.status_code == 422 and "不能审批自己提出的额度调整" in own.text
        approved = other.post(f"/limit-requests/{request_id.group(1)}/decide",
                              data={"csrf": csrf_of(other.get("/credit").text), "decision": "approve"})  # fmt: skip
        assert approved.status_code == 200
        limit_page = credit.get("/customers/C1", params={"as_of": "2026-02-10"}).text
        assert 'id="credit-limit">¥10.00<' in limit_page

        # The salesperson's order: over the limit and with an invoice 10 days overdue.
        form = sales.get("/orders").text
        entered = sales.post(
            "/orders", params={"as_of": "2026-02-10"},
            data={"csrf": csrf_of(form), "customer": "C1", "number": "SO-9", "ordered_on": "2026-02-10",
                  "lines": "螺纹钢,2.5,4200.00"},
        )  # fmt: skip
        assert 'id="order-approval">待审批<' in entered.text and "¥10,500.00" in entered.text
        waiting = credit.get("/credit").text
        assert "SO-9" in waiting and "超出 ¥60,490.00" in waiting  # 50,000 + 10,500 − 10
        refused = sales.post(
            "/orders/SO-9/decide", data={"csrf": csrf_of(form), "decision": "approve"}
        )
        assert refused.status_code == 403  # a salesperson approves nothing
        ok = credit.post("/orders/SO-9/decide",
                         data={"csrf": csrf_of(waiting), "decision": "approve", "note": "老客户，已电话确认付款计划"})  # fmt: skip
        assert (
            ok.status_code == 200
            and "SO-9" not in ok.text.split('id="waiting-orders"')[1].split("</table>")[0]
        )
    order = session.scalar(select(SalesOrder).where(SalesOrder.number == "SO-9"))
    assert order is not None and order.approval == "approved" and order.amount == 1_050_000
    decisions = session.scalars(
        select(OrderDecision).where(OrderDecision.order_id == order.id).order_by(OrderDecision.id)
    ).all()
    assert [d.decision for d in decisions] == ["pending", "approved"]
    assert decisions[1].decided_by == "李信用"
    assert decisions[1].note == "老客户，已电话确认付款计划"


def test_a_supply_stop_is_placed_and_released_with_reasons(
    database_url: str, session: Session, company: Company
) -> None:
    shop(session, company)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        page = client.get("/customers/C1").text
        placed = client.post("/customers/C1/holds",
                             data={"csrf": csrf_of(page), "kind": "supply_stop", "reason": "逾期60天未回款", "action": "place"})  # fmt: skip
        assert "暂停供货：逾期60天未回款" in placed.text
        assert "华东建材有限公司" in client.get("/credit").text.split('id="holds"')[1]
        again = client.post("/customers/C1/holds",
                            data={"csrf": csrf_of(page), "kind": "supply_stop", "reason": "再停一次", "action": "place"})  # fmt: skip
        assert again.status_code == 422
        client.post("/customers/C1/holds",
                    data={"csrf": csrf_of(page), "kind": "supply_stop", "reason": "已付清", "action": "release"})  # fmt: skip
    hold = session.scalar(select(CreditHold))
    assert hold is not None and hold.released_at is not None and hold.release_reason == "已付清"
