"""Sign-in, lock-out, sessions and API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.users import service
from huikuan.users.models import ApiToken, User
from huikuan.users.service import SignInFailed
from tests.actors import ACTOR

NOW = dt.datetime(2026, 3, 1, 9, 0)


def make_user(
    session: Session, company: Company, username: str = "wang", role: str = "finance"
) -> User:
    return service.create_user(
        session, actor=ACTOR, company_id=company.id, username=username, display_name="王强", role=role,
        password="huikuan2026",
    )  # fmt: skip


def test_passwords_are_stored_as_argon2_hashes_and_checked(
    session: Session, company: Company
) -> None:
    user = make_user(session, company)
    assert user.password_hash.startswith("$argon2id$")
    assert "huikuan2026" not in user.password_hash
    assert service.authenticate(session, username="wang", password="huikuan2026", now=NOW) is user
    with pytest.raises(SignInFailed, match="wrong user name or password"):
        service.authenticate(session, username="wang", password="huikuan2025", now=NOW)
    with pytest.raises(SignInFailed, match="wrong user name or password"):
        service.authenticate(session, username="nobody", password="huikuan2026", now=NOW)


def test_repeated_failures_lock_even_the_right_password_out(
    session: Session, company: Company
) -> None:
    make_user(session, company)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            service.authenticate(session, username="wang", password="wrong-pass1", now=NOW)
    with pytest.raises(SignInFailed, match="locked"):
        service.authenticate(
            session, username="wang", password="huikuan2026", now=NOW + dt.timedelta(minutes=5)
        )
    later = NOW + dt.timedelta(minutes=16)
    assert (
        service.authenticate(
            session, username="wang", password="huikuan2026", now=later
        ).failed_logins
        == 0
    )


def test_usernames_are_unique_and_roles_known(session: Session, company: Company) -> None:
    make_user(session, company)
    with pytest.raises(Conflict):
        make_user(session, company)
    with pytest.raises(InvalidInput, match="unknown role"):
        make_user(session, company, "li", role="boss")


def test_sessions_expire_and_close(session: Session, company: Company) -> None:
    user = make_user(session, company)
    token, _ = service.open_session(session, user=user, now=NOW)
    assert service.session_user(session, token=token, now=NOW + dt.timedelta(hours=11)) is not None
    assert service.session_user(session, token=token, now=NOW + dt.timedelta(hours=12)) is None
    service.close_session(session, token=token)
    assert service.session_user(session, token=token, now=NOW) is None


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(
    session: Session, company: Company
) -> None:
    user = make_user(session, company)
    plain, row = service.create_token(session, actor=ACTOR, user=user, name="ERP sync")
    assert plain.startswith("hk_") and plain not in {
        t.token_hash for t in session.scalars(select(ApiToken))
    }
    assert service.token_user(session, token=plain, now=NOW) is user
    assert service.token_user(session, token=plain + "x", now=NOW) is None
    service.revoke_token(session, actor=ACTOR, user=user, token_id=row.id)
    assert service.token_user(session, token=plain, now=NOW) is None
    assert [t.name for t in service.list_tokens(session, user=user)] == ["ERP sync"]
