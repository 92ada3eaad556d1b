"""Users, sign-in, sessions and API tokens. Passwords are hashed with argon2; tokens and
session cookies are random and stored only as SHA-256 hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, HuikuanError, InvalidInput, NotFound
from huikuan.users import rules
from huikuan.users.models import ApiToken, User, WebSession

HASHER = PasswordHasher()
SESSION_LIFETIME = dt.timedelta(hours=12)
TOKEN_PREFIX = "hk_"


class SignInFailed(HuikuanError):
    code = "sign_in_failed"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _public(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "team_view": user.team_view,
    }


def create_user(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    username: str,
    display_name: str,
    role: str,
    password: str,
    team_view: bool = False,
) -> User:
    if role not in {r.value for r in rules.Role}:
        raise InvalidInput(f"未知角色 {role} / unknown role {role}")
    if problem := rules.password_problem(password):
        raise InvalidInput(problem)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在 / username {username} is taken")
    user = User(
        company_id=company_id,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=HASHER.hash(password),
        team_view=team_view,
        is_active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="user",
        entity_id=username,
        action="create",
        after=_public(user),
    )
    return user


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"没有用户 {username} / no user {username}")
    return user


def set_password(session: Session, *, actor: Actor, user: User, password: str) -> None:
    if problem := rules.password_problem(password):
        raise InvalidInput(problem)
    user.password_hash = HASHER.hash(password)
    user.failed_logins, user.locked_until = 0, None
    record_change(
        session,
        actor=actor,
        company_id=user.company_id,
        entity="user",
        entity_id=user.username,
        action="set_password",
    )


def authenticate(session: Session, *, username: str, password: str, now: dt.datetime) -> User:
    """The user, if the password is right and the account is active and not locked.

    The same message for an unknown name and a wrong password, so that sign-in does not tell
    which user names exist.
    """
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    wrong = SignInFailed("用户名或密码错误 / wrong user name or password")
    if user is None or not user.is_active:
        HASHER.hash(password)  # take as long as a real check, so timing tells nothing either
        raise wrong
    if rules.locked(user.locked_until, now):
        raise SignInFailed(
            "失败次数过多，账户已锁定 15 分钟 / too many failures: account locked for 15 minutes"
        )
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins, user.locked_until = rules.after_failure(user.failed_logins, now)
        raise wrong from None
    user.failed_logins, user.locked_until = 0, None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


def open_session(session: Session, *, user: User, now: dt.datetime) -> tuple[str, WebSession]:
    """A new browser session; returns the cookie value (shown once) and the stored row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return token, row


def session_user(
    session: Session, *, token: str, now: dt.datetime
) -> tuple[User, WebSession] | None:
    row = session.get(WebSession, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user, row


def close_session(session: Session, *, token: str) -> None:
    row = session.get(WebSession, _digest(token))
    if row is not None:
        session.delete(row)
        session.flush()


def create_token(session: Session, *, actor: Actor, user: User, name: str) -> tuple[str, ApiToken]:
    """A new API token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        company_id=user.company_id,
        user_id=user.id,
        name=name,
        prefix=token[:10],
        token_hash=_digest(token),
        created_at=actor.at.replace(tzinfo=None),
    )
    session.add(row)
    session.flush()
    record_change(
        session, actor=actor, company_id=user.company_id, entity="api_token", entity_id=row.id, action="create",
        after={"user": user.username, "name": name, "prefix": row.prefix},
    )  # fmt: skip
    return token, row


def list_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )


def revoke_token(session: Session, *, actor: Actor, user: User, token_id: int) -> ApiToken:
    row = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if row is None:
        raise NotFound(f"没有令牌 {token_id} / no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = actor.at.replace(tzinfo=None)
        record_change(
            session,
            actor=actor,
            company_id=user.company_id,
            entity="api_token",
            entity_id=row.id,
            action="revoke",
        )
    return row


def token_user(session: Session, *, token: str, now: dt.datetime) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    row.last_used_at = now
    return user
