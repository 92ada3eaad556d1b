"""The REST API answers with exact amounts, documented shapes and clear errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.ledger import aging_output, service
from huikuan.ledger.aging import AgingBy, aging_report
from tests.actors import ACTOR

from .ledger_builders import customer, invoice
from .web_helpers import make_user, token_client

D = dt.date


@pytest.fixture
def client(database_url: str, session: Session, company: Company) -> Iterator[TestClient]:
    east = customer(
        session, company, "C001", "华东建材有限公司", customer_type="dealer", collector="张伟"
    )
    south = customer(
        session,
        company,
        "C002",
        "华南超市连锁有限公司",
        customer_type="retail_chain",
        collector="刘洋",
    )
    customer(
        session, company, "C003", "西北机械有限公司", customer_type="industrial", collector="张伟"
    )
    invoice(session, company, east, "INV-1", D(2024, 1, 1), 123456789, terms=30)
    invoice(session, company, east, "INV-2", D(2024, 3, 1), 5000, terms=30)
    invoice(session, company, south, "INV-3", D(2024, 2, 10), 99999, terms=60)
    service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=east,
        received_on=D(2024, 3, 10),
        amount=456789,
    )
    session.commit()
    make_user(session, company, "finance", "finance")
    with token_client(database_url, session, "finance") as test_client:
        yield test_client


def test_health_checks_the_database(client: TestClient) -> None:
    assert client.get("/api/health").json()["database"] == "ok"


def test_customers_show_open_and_overdue_amounts_to_the_fen(client: TestClient) -> None:
    body = client.get("/api/customers", params={"as_of": "2024-03-15"}).json()
    assert body["total"] == 3
    first = body["items"][0]
    assert (first["code"], first["open_amount"], first["overdue_amount"]) == (
        "C001",
        "1230050.00",
        "1230000.00",
    )
    assert body["items"][2]["open_amount"] == "0.00"


def test_customers_are_paginated_and_filtered(client: TestClient) -> None:
    page = client.get("/api/customers", params={"page": 2, "page_size": 2}).json()
    assert [c["code"] for c in page["items"]] == ["C003"]
    assert page["total"] == 3
    assert [
        c["code"] for c in client.get("/api/customers", params={"q": "超市"}).json()["items"]
    ] == ["C002"]
    by_collector = client.get("/api/customers", params={"collector": "张伟"}).json()
    assert [c["code"] for c in by_collector["items"]] == ["C001", "C003"]
    by_type = client.get("/api/customers", params={"customer_type": "retail_chain"}).json()
    assert [c["code"] for c in by_type["items"]] == ["C002"]


def test_invoices_filter_by_customer_and_overdue(client: TestClient) -> None:
    late = client.get("/api/invoices", params={"as_of": "2024-03-15", "overdue": "true"}).json()
    assert [(i["number"], i["open_amount"], i["days_overdue"]) for i in late["items"]] == [
        ("INV-1", "1230000.00", 44)
    ]
    mine = client.get("/api/invoices", params={"customer": "C001"}).json()
    assert [i["number"] for i in mine["items"]] == ["INV-1", "INV-2"]
    assert mine["items"][0]["due_date"] == "2024-01-31"
    window = client.get(
        "/api/invoices", params={"due_from": "2024-03-01", "due_to": "2024-04-30"}
    ).json()
    assert [i["number"] for i in window["items"]] == ["INV-2", "INV-3"]


def test_aging_api_gives_the_same_json_as_the_cli(
    client: TestClient, session: Session, company: Company
) -> None:
    for by in AgingBy:
        got = client.get("/api/aging", params={"as_of": "2024-06-30", "by": by.value}).json()
        expected = aging_output.to_json(
            aging_report(session, company_id=company.id, as_of=D(2024, 6, 30), by=by)
        )
        assert got == expected
    totals = got["totals"]
    assert totals["total"] == "1231049.99"
    assert sum(int(v.replace(".", "")) for v in totals["buckets"].values()) == 123104999


@pytest.mark.parametrize(
    ("params", "status", "code", "text"),
    [
        ({"as_of": "2024-02-30"}, 422, "invalid_request", "as_of"),
        ({"as_of": "0024-01-01"}, 422, "invalid_input", "1900"),
        ({"buckets": "60,30"}, 422, "invalid_input", "buckets"),
        ({"by": "colour"}, 422, "invalid_request", "by"),
    ],
)
def test_bad_parameters_get_a_json_error_in_the_users_language(
    client: TestClient, params: dict[str, str], status: int, code: str, text: str
) -> None:
    zh = client.get("/api/aging", params=params)
    en = client.get("/api/aging", params={**params, "lang": "en"})
    assert zh.status_code == en.status_code == status
    assert zh.json()["error"]["code"] == code
    assert text in zh.json()["error"]["message"] + " ".join(zh.json()["error"]["details"])
    assert zh.json()["error"]["message"] != en.json()["error"]["message"]
    assert en.json()["error"]["message"].isascii()


def test_page_size_is_capped(client: TestClient) -> None:
    response = client.get(
        "/api/invoices", params={"page_size": 1000}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        "page_size: Input should be less than or equal to 200"
    ]


def test_openapi_lists_every_route_with_its_response_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/health", "/api/customers", "/api/invoices", "/api/aging"):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]
        assert "$ref" in ok, path
    assert "ErrorResponse" in schema["components"]["schemas"]


def test_readiness_reports_an_unmigrated_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from huikuan.core.db import make_engine as engine_for
    from huikuan.core.settings import Settings
    from huikuan.models import metadata
    from huikuan.web.app import create_app

    url = f"sqlite:///{tmp_path / 'bare.db'}"
    engine = engine_for(url)
    metadata.create_all(engine)  # tables, but never migrated: no schema version recorded
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/api/ready", params={"lang": "en"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "schema_outdated"
        assert client.get("/api/health").status_code == 200


def test_the_aging_api_pages_customers_and_keeps_the_full_totals(client: TestClient) -> None:
    whole = client.get("/api/aging", params={"as_of": "2024-06-30"}).json()
    first = client.get(
        "/api/aging", params={"as_of": "2024-06-30", "page": 1, "page_size": 1}
    ).json()
    second = client.get(
        "/api/aging", params={"as_of": "2024-06-30", "page": 2, "page_size": 1}
    ).json()
    assert whole["row_count"] == 2 and first["row_count"] == 2
    assert [r["key"] for r in first["rows"]] == ["C001"] and [r["key"] for r in second["rows"]] == [
        "C002"
    ]
    assert first["totals"] == whole["totals"] == second["totals"]
    assert (first["page"], first["page_size"]) == (1, 1)


def test_a_nul_character_is_refused_before_any_route_sees_it(client: TestClient) -> None:
    """PostgreSQL cannot store NUL in text (the fuzzer found a 500 there): every way of sending
    one gets the same clear 422, and nothing is written."""
    in_query = client.get("/api/customers", params={"q": "C\x001"})
    in_json = client.post(
        "/api/blacklist", json={"name": "坏\u0000公司", "reason": "x", "listed_on": "2025-01-01"}
    )
    for response in (in_query, in_json):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_input"
        assert "空字符" in response.json()["error"]["message"]
    assert client.get("/api/blacklist").json()["total"] == 0
