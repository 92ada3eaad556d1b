"""Roles, company isolation and sign-in, checked against docs/security.md."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections import late_fees, plans
from huikuan.collections.models import (
    CollectionAction,
    DailyRun,
    Document,
    LateFeeCharge,
    LateFeeWaiver,
    PaymentPlan,
)
from huikuan.core.company import create_company
from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.credit import orders
from huikuan.customers.models import Customer
from huikuan.ledger import service
from huikuan.reconciliation import statements
from huikuan.reconciliation.models import CustomerStatement
from huikuan.users.rules import RIGHTS, Right, Role
from huikuan.web.app import create_app
from tests.actors import ACTOR

from .collection_records import record_action
from .ledger_builders import customer, invoice
from .web_helpers import make_user, sign_in, token_client

D = dt.date
SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def documented_tables() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    text = SECURITY_MD.read_text(encoding="utf-8")
    rights: dict[str, set[str]] = {}
    routes: dict[tuple[str, str], str] = {}
    roles = [r.value for r in Role]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in {r.value for r in Right}:
            rights[cells[0]] = {
                role for role, mark in zip(roles, cells[1:], strict=True) if mark == "✓"
            }
        elif len(cells) == 3 and cells[0] in {"GET", "POST", "PUT", "DELETE"}:
            routes[(cells[0], cells[1])] = cells[2]
    return rights, routes


def test_the_documented_rights_are_the_rights_in_force() -> None:
    rights, _ = documented_tables()
    assert rights == {right.value: {r.value for r in roles} for right, roles in RIGHTS.items()}


def test_every_route_is_documented_with_the_right_it_checks(database_url: str) -> None:
    _, documented = documented_tables()
    app = create_app(Settings(database_url=database_url))
    found = {}
    for route in api_routes(app.routes):
        rights = [getattr(d.call, "right", None) for d in route.dependant.dependencies]
        right = next((r.value for r in rights if r is not None), None)
        for method in route.methods:
            found[(method, route.path)] = right
    assert set(found) == set(documented)
    for key, right in found.items():
        if right is not None:
            assert documented[key] == right, key
        else:
            assert documented[key] in ("public", "signed in"), key


def api_routes(routes: list) -> list[APIRoute]:  # type: ignore[type-arg]
    """Every APIRoute, also inside included routers (newer FastAPI keeps them grouped)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


@pytest.fixture
def shop(session: Session, company: Company) -> Company:
    a = customer(session, company, "C1", "王强的客户", salesperson="王强", collector="张伟")
    b = customer(session, company, "C2", "李娜的客户", salesperson="李娜", collector="刘洋")
    inv_a = invoice(session, company, a, "INV-A", D(2024, 1, 1), 10000)
    invoice(session, company, b, "INV-B", D(2024, 1, 1), 20000)
    record_action(session, company, a, inv_a, D(2024, 6, 28))
    orders.create_order(
        session, actor=ACTOR, company_id=company.id, customer=a, number="SO-1",
        ordered_on=D(2024, 2, 1), lines=[orders.OrderLineInput("钢材", 1000, 100)], as_of=D(2024, 2, 1),
    )  # fmt: skip
    session.commit()
    for role in Role:
        name = {"sales": "王强", "collector": "张伟"}.get(role.value, role.value)
        make_user(session, company, role.value, role.value, name)
    plans.agree_plan(
        session, actor=ACTOR, company_id=company.id, customer=a, invoice_numbers=["INV-A"],
        schedule=plans.ScheduleRequest.equal(D(2024, 3, 1), 2), agreed_on=D(2024, 2, 1),
    )  # fmt: skip
    fee = LateFeeCharge(
        company_id=company.id, customer_id=a.id, invoice_id=inv_a.id, period_start=D(2024, 1, 2),
        period_end=D(2024, 1, 31), days=30, base=10000, rate="0.0005/day", amount=150,
    )  # fmt: skip
    session.add(fee)
    session.flush()
    late_fees.request_waiver(
        session, actor=ACTOR, company_id=company.id, charge_id=fee.id, reason="首次逾期"
    )
    [statement] = statements.issue_statements(
        session, actor=ACTOR, customer=a, start=D(2024, 1, 1), end=D(2024, 1, 31),
        issued_on=D(2024, 2, 1),
    )  # fmt: skip
    statements.confirm_statement(
        session, actor=ACTOR, company_id=company.id, statement_id=statement.id,
        confirmed_by="王会计", confirmed_on=D(2024, 2, 5), signed_copy=("回执.pdf", b"%PDF-1.4"),
    )  # fmt: skip
    session.commit()
    return company


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_api_route_as_every_role(
    database_url: str, session: Session, shop: Company, role: str
) -> None:
    rights, routes = documented_tables()
    with token_client(database_url, session, role) as client:
        for (method, path), right in routes.items():
            if method != "GET" or not path.startswith("/api"):
                continue
            path = with_values(path, session)
            status = client.get(path, params={"as_of": "2024-06-30"}).status_code
            allowed = right in ("public", "signed in") or role in rights[right]
            assert (status == 403) is (not allowed), (role, path, status)
            assert status == 200 if allowed else True


def with_values(template: str, session: Session) -> str:
    """A route's path with the shop's rows in place of its parameters."""
    action = session.scalar(select(CollectionAction.id))
    run = session.scalar(select(DailyRun.id))
    document = session.scalar(select(Document.id))
    values = {
        "{code}": "C1", "{number}": "SO-1", "{strategy}": "standard", "{template}": "dunning_letter",
        "{language}": "zh", "{run_id}": str(run), "{action_id}": str(action), "{document_id}": str(document),
        "{dispute_id}": "1", "{plan_id}": str(session.scalar(select(PaymentPlan.id))),
        "{statement_id}": str(session.scalar(select(CustomerStatement.id))), "{difference_id}": "1",
        "{charge_id}": str(session.scalar(select(LateFeeCharge.id))),
        "{waiver_id}": str(session.scalar(select(LateFeeWaiver.id))),
    }  # fmt: skip
    for name, value in values.items():
        template = template.replace(name, value)
    return template


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_api_change_as_every_role(
    database_url: str, session: Session, shop: Company, role: str
) -> None:
    """Every API route that changes something, called with an empty body: refused with 403 by
    a role without the right (before the body is read), never a 500 for anyone."""
    rights, routes = documented_tables()
    with token_client(database_url, session, role) as client:
        for (method, path), right in sorted(routes.items()):
            if method == "GET" or not path.startswith("/api"):
                continue
            path = with_values(path, session)
            status = client.request(method, path, json={}).status_code
            allowed = right in ("public", "signed in") or role in rights[right]
            assert (status == 403) is (not allowed), (role, method, path, status)
            assert status < 500, (role, method, path, status)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_page_and_form_as_every_role(
    database_url: str, session: Session, shop: Company, role: str
) -> None:
    """Signed in through the browser form, each role gets every page it has the right to and
    a 403 for every other; a form it may not post is refused before it is even read."""
    c1 = session.scalar(select(Customer).where(Customer.code == "C1"))
    assert c1 is not None
    payment = service.record_payment(
        session, actor=ACTOR, company_id=shop.id, customer=c1, received_on=D(2024, 2, 1),
        amount=1000,
    )  # fmt: skip
    service.record_credit_note(
        session, actor=ACTOR, company_id=shop.id, customer=c1, number="CN-1",
        issued_on=D(2024, 2, 1), amount=500,
    )  # fmt: skip
    session.commit()
    values = {
        "{code}": "C1", "{number:path}": "INV-A", "{payment_id}": str(payment.id),
        "{job_id}": "1-missing", "{limit_id}": "1", "{strategy}": "standard",
        "{template}": "dunning_letter", "{language}": "zh",
        "{action_id}": str(session.scalar(select(CollectionAction.id))),
        "{document_id}": str(session.scalar(select(Document.id))), "{dispute_id}": "1",
        "{plan_id}": str(session.scalar(select(PaymentPlan.id))),
        "{statement_id}": str(session.scalar(select(CustomerStatement.id))), "{difference_id}": "1",
        "{charge_id}": str(session.scalar(select(LateFeeCharge.id))),
        "{waiver_id}": str(session.scalar(select(LateFeeWaiver.id))),
    }  # fmt: skip
    rights, routes = documented_tables()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, role)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
        assert csrf is not None
        for (method, template), right in sorted(routes.items()):
            if template.startswith("/api") or template in ("/login", "/logout"):
                continue
            path = template
            for name, value in values.items():
                path = path.replace(name, value)
            if path.startswith("/credit-notes/"):
                path = path.replace("INV-A", "CN-1")
            if path.startswith("/orders/"):
                path = path.replace("INV-A", "SO-1")
            if method == "GET":
                status = client.get(path, params={"as_of": "2024-06-30"}).status_code
            else:
                status = client.post(path, data={"csrf": csrf.group(1)}).status_code
            allowed = right in ("public", "signed in") or role in rights[right]
            assert (status == 403) is (not allowed), (role, method, path, status)
            assert status < 500, (role, method, path, status)
            if allowed and method == "GET":
                assert status == (404 if "missing" in path else 200), (role, path, status)


def test_without_credentials_the_api_says_401_and_pages_send_to_sign_in(
    database_url: str, shop: Company
) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        api = client.get("/api/customers")
        assert api.status_code == 401
        assert api.json()["error"]["code"] == "not_authenticated"
        page = client.get("/?as_of=2024-06-30", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2F%3Fas_of%3D2024-06-30"
        assert client.get("/api/health").status_code == 200


def test_a_salesperson_sees_only_their_own_customers(
    database_url: str, session: Session, shop: Company
) -> None:
    with token_client(database_url, session, "sales") as client:
        assert [c["code"] for c in client.get("/api/customers").json()["items"]] == ["C1"]
        assert [i["number"] for i in client.get("/api/invoices").json()["items"]] == ["INV-A"]
        aging = client.get("/api/aging", params={"as_of": "2024-06-30"}).json()
        assert [r["key"] for r in aging["rows"]] == ["C1"]
        assert aging["totals"]["total"] == "100.00"
        assert client.get("/api/invoices", params={"customer": "C2"}).json()["items"] == []


def test_a_collector_sees_their_own_customers_unless_given_the_team_view(
    database_url: str, session: Session, shop: Company
) -> None:
    with token_client(database_url, session, "collector") as client:
        assert [c["code"] for c in client.get("/api/customers").json()["items"]] == ["C1"]
    from huikuan.users.service import get_user

    get_user(session, username="collector").team_view = True
    session.commit()
    with token_client(database_url, session, "collector") as client:
        assert [c["code"] for c in client.get("/api/customers").json()["items"]] == ["C1", "C2"]


def test_nobody_sees_another_companys_rows(
    database_url: str, session: Session, shop: Company
) -> None:
    other = create_company(session, code="other", name="别家公司")
    make_user(session, other, "outsider", "admin")
    with token_client(database_url, session, "outsider") as client:
        assert client.get("/api/customers", params={"company": "acme"}).json()["total"] == 0
        assert client.get("/api/invoices", params={"customer": "C1"}).json()["items"] == []
        assert client.get("/api/aging", params={"as_of": "2024-06-30"}).json()["rows"] == []


def test_sign_in_sign_out_and_csrf(database_url: str, shop: Company) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        wrong = sign_in(client, "finance", "not-the-password1")
        assert "用户名或密码错误" in wrong
        landed = sign_in(client, "finance", next_path="/?as_of=2024-06-30")
        assert "应收账款账龄分析" in landed and "¥300.00" in landed
        assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
        assert csrf is not None
        client.post("/logout", data={"csrf": csrf.group(1)})
        assert client.get("/", follow_redirects=False).status_code == 303
        missing = client.post(
            "/login", data={"username": "finance", "password": "huikuan2026", "csrf": "x"}
        )
        assert "页面已过期" in missing.text


def test_five_failures_lock_the_sign_in_page_too(database_url: str, shop: Company) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        for _ in range(5):
            sign_in(client, "viewer", "wrong-password1")
        assert "已锁定" in sign_in(client, "viewer")


def test_the_language_choice_follows_the_user(database_url: str, shop: Company) -> None:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as first_browser:
        sign_in(first_browser, "credit_manager")
        assert "Receivables aging" in first_browser.get("/", params={"lang": "en"}).text
    with TestClient(app) as second_browser:
        assert '<html lang="en">' in sign_in(second_browser, "credit_manager")
