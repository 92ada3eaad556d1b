"""Credit over the API: assess, score, read the credit, order over the limit waits with its
reasons, a credit manager approves, a salesperson cannot, errors are JSON with a code."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from huikuan.core.models import Company

from .ledger_builders import customer, invoice
from .web_helpers import make_user, token_client

D = dt.date


def test_credit_over_the_api(database_url: str, session: Session, company: Company) -> None:
    c = customer(session, company, "C1", "华东建材有限公司", salesperson="王强")
    invoice(session, company, c, "INV-1", D(2026, 1, 1), 1_000_000, terms=30)
    session.commit()
    make_user(session, company, "credit", "credit_manager", "李信用")
    make_user(session, company, "sales", "sales", "王强")
    with (
        token_client(database_url, session, "credit") as credit,
        token_client(database_url, session, "sales") as sales,
    ):
        bad = credit.post("/api/customers/C1/assessments", json={
            "assessed_on": "2026-02-01", "statements": [{"year": 2025, "total_assets": "0", "total_liabilities": "100"}]})  # fmt: skip
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
        assert "有负债却没有资产" in bad.json()["error"]["message"]
        made = credit.post("/api/customers/C1/assessments", json={
            "assessed_on": "2026-02-01", "founded_on": "2010-01-01", "employees": 300, "reputation_rating": 5,
            "statements": [{"year": 2025, "total_assets": "20,000,000.00", "total_liabilities": "6000000",
                            "current_assets": "9000000", "current_liabilities": "3000000", "revenue": "50000000",
                            "net_profit": "4000000", "operating_cash_flow": "3000000"}]})  # fmt: skip
        assert made.status_code == 201
        scored = credit.post("/api/customers/C1/score", params={"as_of": "2026-02-10"}).json()
        assert scored["grade"] in ("AAA", "AA", "A", "BBB", "BB", "B", "C")
        factors = {f["name"]: f for f in scored["factors"]}
        assert factors["debt_ratio"]["value"] == "0.3" and factors["debt_ratio"]["points"] == 100
        assert factors["credit_report_grade"]["missing"] is True
        assert scored["exposure"] == "10000.00"
        limit = scored["limit"]
        assert limit is not None and scored["available"] == f"{float(limit) - 10000:.2f}"
        # An order bigger than what is available waits, with the reason and the figures.
        too_big = f"{float(scored['available']) + 0.01:.2f}"
        order = sales.post("/api/orders", params={"as_of": "2026-02-10"}, json={
            "number": "SO-1", "customer": "C1", "ordered_on": "2026-02-10",
            "lines": [{"item": "钢材", "quantity": "1", "unit_price": too_big}]})  # fmt: skip
        assert order.status_code == 201, order.text
        body = order.json()
        assert body["approval"] == "pending" and [r["code"] for r in body["reasons"]] == [
            "over_limit"
        ]
        assert "¥0.01" in body["reasons"][0]["message"]  # over by exactly one fen
        assert sales.post("/api/orders/SO-1/decision", json={"approve": True}).status_code == 403
        queue = credit.get("/api/orders", params={"approval": "pending"}).json()
        assert [o["number"] for o in queue["items"]] == ["SO-1"] and queue["total"] == 1
        approved = credit.post(
            "/api/orders/SO-1/decision", json={"approve": True, "note": "已收到担保函"}
        )
        assert approved.json()["approval"] == "approved" and approved.json()["reasons"] == []
        review = credit.get("/api/credit/review", params={"as_of": "2026-02-10"}).json()
        assert (
            review["items"][0]["customer"] == "C1" and "over_limit" in review["items"][0]["reasons"]
        )
        missing = credit.get("/api/customers/NOPE/credit")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
