"""Signing test clients in: by API token (programs) or through the sign-in form (people)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.users import service
from huikuan.users.models import User
from huikuan.web.app import create_app
from tests.actors import ACTOR

PASSWORD = "huikuan2026"


def make_user(
    session: Session, company: Company, username: str, role: str, display_name: str = ""
) -> User:
    user = service.create_user(
        session, actor=ACTOR, company_id=company.id, username=username,
        display_name=display_name or username, role=role, password=PASSWORD,
    )  # fmt: skip
    session.commit()
    return user


def token_client(database_url: str, session: Session, username: str) -> TestClient:
    user = service.get_user(session, username=username)
    token, _ = service.create_token(session, actor=ACTOR, user=user, name="test")
    session.commit()
    client = TestClient(create_app(Settings(database_url=database_url)))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> str:
    """Fill in the sign-in form as a browser would; returns the page the user lands on."""
    form = client.get("/login", params={"next": next_path})
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf.group(1), "next": next_path},
    )
    return response.text
