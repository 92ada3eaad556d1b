"""Dependency aliases for routes: the database session, the company, the user's language.

``CompanyDep`` resolves the company from ``?company=`` or the only company; the sign-in issue
replaces it with the signed-in user's company, and routes do not change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Cookie, Depends, Query, Request
from sqlalchemy.orm import Session

from huikuan.core.company import resolve_company
from huikuan.core.dates import DateError, parse_date, today
from huikuan.core.db import unit_of_work
from huikuan.core.errors import InvalidInput
from huikuan.core.models import Company
from huikuan.web.i18n import LANG_COOKIE, Lang, pick_lang, prefixed


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    with unit_of_work(request.app.state.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_company(
    session: SessionDep,
    company: Annotated[
        str | None, Query(description="Company code; needed only when there are several")
    ] = None,
) -> Company:
    return resolve_company(session, company)


CompanyDep = Annotated[Company, Depends(get_company)]


def get_lang(
    lang: Annotated[str | None, Query(description="zh or en")] = None,
    huikuan_lang: Annotated[str | None, Cookie(alias=LANG_COOKIE)] = None,
) -> Lang:
    """Pages are Chinese unless the user chose English (``?lang=en``, then remembered): the
    browser's language is not a choice, and Huikuan's users work in Chinese."""
    return pick_lang(lang, huikuan_lang, None)


LangDep = Annotated[Lang, Depends(get_lang)]


def get_as_of(
    as_of: Annotated[
        str | None, Query(description="Business date YYYY-MM-DD; default today")
    ] = None,
) -> dt.date:
    if as_of is None:
        return today()
    try:
        return parse_date(as_of)
    except DateError as exc:
        raise InvalidInput(prefixed("as_of", str(exc))) from exc


AsOfDep = Annotated[dt.date, Depends(get_as_of)]
