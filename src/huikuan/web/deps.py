"""Dependency aliases for routes: the database session, who is asking, their company and
language, and the business date.

Who is asking comes from a bearer token (``Authorization: Bearer hk_…``, for programs) or the
session cookie (for people). The company is always the signed-in user's: no parameter can
name another company, so no id typed into a URL reaches another company's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor
from huikuan.core.dates import DateError, check_business_date, today
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound, prefixed
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.customers.queries import find_visible_customer
from huikuan.users import rules, service
from huikuan.users.models import User
from huikuan.users.rules import CustomerScope, Right
from huikuan.web.i18n import LANG_COOKIE, Lang, pick_lang

SESSION_COOKIE = "huikuan_session"


def now() -> dt.datetime:
    """The web layer's clock (naive UTC, as stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    with unit_of_work(request.app.state.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """The signed-in user, their company, which customers they see, and the CSRF token of
    their browser session (None for API tokens, which are not sent by browsers)."""

    user: User
    company: Company
    scope: CustomerScope
    csrf_token: str | None

    def actor(self, request: Request) -> Actor:
        host = request.client.host if request.client else "unknown"
        return Actor(name=self.user.username, source=f"web {host}", at=now())


def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    csrf = None
    if header.lower().startswith("bearer "):
        user = service.token_user(session, token=header[7:].strip(), now=now())
    else:
        found = service.session_user(
            session, token=request.cookies.get(SESSION_COOKIE, ""), now=now()
        )
        user, csrf = (found[0], found[1].csrf_token) if found else (None, None)
    if user is None:
        raise NotAuthenticated("请先登录 / please sign in")
    company = session.get_one(Company, user.company_id)
    scope = rules.customer_scope(user.role, user.display_name, user.team_view)
    return Principal(user, company, scope, csrf)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(right: Right) -> Callable[[Principal], Principal]:
    """A dependency that lets the request through only if the user's role has ``right``."""

    def check(principal: PrincipalDep) -> Principal:
        if not rules.may(principal.user.role, right):
            raise Forbidden("您的角色无权执行此操作 / your role may not do this")
        return principal

    check.right = right  # type: ignore[attr-defined]  # read by the route-rights test
    return check


def get_company(principal: PrincipalDep) -> Company:
    return principal.company


CompanyDep = Annotated[Company, Depends(get_company)]


def get_lang(
    request: Request,
    lang: Annotated[str | None, Query(description="zh or en")] = None,
) -> Lang:
    """Pages are Chinese unless the user chose English (``?lang=en``, then remembered): the
    browser's language is not a choice, and Huikuan's users work in Chinese."""
    return pick_lang(lang, request.cookies.get(LANG_COOKIE), None)


LangDep = Annotated[Lang, Depends(get_lang)]


def get_as_of(
    as_of: Annotated[
        dt.date | None, Query(description="Business date YYYY-MM-DD; default today")
    ] = None,
) -> dt.date:
    if as_of is None:
        return today()
    try:
        return check_business_date(as_of)
    except DateError as exc:
        raise InvalidInput(prefixed("as_of", str(exc))) from exc


AsOfDep = Annotated[dt.date, Depends(get_as_of)]


def visible_customer(session: Session, principal: Principal, code: str) -> Customer:
    """The customer of this code, if the user may see it; otherwise 'not found' (never
    'forbidden', so that codes of other people's customers cannot be probed)."""
    found = find_visible_customer(
        session, company_id=principal.company.id, code=code.strip(), only=principal.scope.only
    )
    if found is None:
        raise NotFound(f"没有客户 {code} / no customer {code}")
    return found


# Parameters the page forms and lists share: the CSRF token of every form, a short search text,
# a row id in the path, and the ?lang= switch.
Csrf = Annotated[str, Form(max_length=100)]
SearchText = Annotated[str, Query(max_length=60)]
RowId = Annotated[int, PathParam(ge=1, le=2**62)]
LangParam = Annotated[str | None, Query()]
