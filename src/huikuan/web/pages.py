"""Server-rendered pages for people. zh-CN by default; ``?lang=en`` switches and is remembered."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from huikuan.core.audit import AuditHead
from huikuan.core.dates import format_date
from huikuan.core.errors import Forbidden
from huikuan.core.money import format_amount
from huikuan.customers.models import CUSTOMER_TYPE_LABELS_ZH, CustomerType
from huikuan.ledger.aging import AgingBy, AgingReport, DsoPoint, aging_report, dso_trend
from huikuan.users.rules import Right, Role
from huikuan.users.service import (
    SESSION_LIFETIME,
    SignInFailed,
    authenticate,
    close_session,
    open_session,
)
from huikuan.web.deps import (
    SESSION_COOKIE,
    AsOfDep,
    LangDep,
    Principal,
    PrincipalDep,
    SessionDep,
    now,
    require,
)
from huikuan.web.i18n import LABELS, LANG_COOKIE, Lang, label, localise, pick_lang

LOGIN_CSRF_COOKIE = "huikuan_login_csrf"

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
TEMPLATES.env.filters["money"] = format_amount
TEMPLATES.env.filters["date"] = format_date
TEMPLATES.env.globals["label_keys"] = frozenset(LABELS)
TEMPLATES.env.filters["fromjson"] = json.loads
PAGE_ROWS = 50
BAR_WIDTH = 600

router = APIRouter(include_in_schema=False)


def _row_name(report: AgingReport, key: str, name: str, lang: Lang) -> str:
    """Customer types are shown by their label in the user's language."""
    if report.by is not AgingBy.CUSTOMER_TYPE:
        return name
    try:
        ctype = CustomerType(key)
    except ValueError:
        return key
    return CUSTOMER_TYPE_LABELS_ZH[ctype] if lang == "zh" else ctype.value.replace("_", " ")


def _bars(report: AgingReport) -> list[dict[str, object]]:
    """Horizontal bars, one per bucket, scaled to the largest bucket; drawn as inline SVG."""
    largest = max(report.bucket_totals.values(), default=0) or 1
    return [
        {
            "name": name,
            "amount": report.bucket_totals[name],
            "width": round(BAR_WIDTH * report.bucket_totals[name] / largest),
            "overdue": i > 0,
        }
        for i, name in enumerate(report.bucket_names)
    ]


# Dashboard figures by (what, company, date, grouping, scope, audit sequence). Every change to
# money appends to the company's audit chain, so a cached figure is reused exactly until the
# ledger changes, and recomputed on the first view after it.
_DASHBOARD: dict[tuple[object, ...], Any] = {}


def _ledger_version(session: Session, company_id: int) -> tuple[str, int]:
    """Which database and how far its company's audit chain has grown."""
    head = session.get(AuditHead, company_id)
    return str(session.get_bind().engine.url), head.seq if head else 0


def _cached(key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
    if key not in _DASHBOARD:
        if len(_DASHBOARD) > 512:
            _DASHBOARD.clear()
        _DASHBOARD[key] = compute()
    return _DASHBOARD[key]


def _dso_trend(session: Session, principal: Principal, as_of: dt.date) -> list[DsoPoint]:
    company = principal.company
    key = ("trend", company.id, as_of, _ledger_version(session, company.id))
    return _cached(
        key,
        lambda: dso_trend(session, company_id=company.id, as_of=as_of, currency=company.currency),
    )


def _trend_bars(trend: list[DsoPoint]) -> list[dict[str, object]]:
    """Columns for the DSO chart, scaled to the highest month."""
    highest = max((p.dso_days or 0 for p in trend), default=0) or 1
    return [
        {
            "label": p.month_end.strftime("%Y-%m"),
            "days": p.dso_days,
            "height": round(120 * (p.dso_days or 0) / highest),
        }
        for p in trend
    ]


def page_lang(principal: Principal, chosen: str | None) -> Lang:
    """The signed-in user's language; choosing one with ``?lang=`` is remembered for them."""
    if chosen in ("zh", "en") and principal.user.lang != chosen:
        principal.user.lang = chosen
    return pick_lang(chosen, principal.user.lang, None)


def _t(lang: Lang):
    return lambda key, **kw: label(key, lang, **kw)


def _safe_next(target: str) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, lang: LangDep, next: str = "/", error: str | None = None
) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    context = {"t": _t(lang), "lang": lang, "next": _safe_next(next), "error": error, "csrf": csrf}
    status = 401 if error else 200
    response = TEMPLATES.TemplateResponse(request, "login.html", context, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    lang: LangDep,
    username: Annotated[str, Form(max_length=60)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    if not csrf or not secrets.compare_digest(csrf, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return login_form(request, lang, next, label("csrf_failed", lang))
    try:
        user = authenticate(session, username=username, password=password, now=now())
    except SignInFailed as exc:
        return login_form(request, lang, next, localise(exc.message, lang))
    token, _ = open_session(session, user=user, now=now())
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https",
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def check_csrf(principal: Principal, submitted: str) -> None:
    """A form posted from a signed-in browser must carry its session's CSRF token."""
    token = principal.csrf_token
    if token is not None and not secrets.compare_digest(token, submitted):
        raise Forbidden("表单已过期，请刷新页面后重试 / the form has expired: reload and try again")


@router.post("/logout", response_model=None)
def logout(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    check_csrf(principal, csrf)
    close_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_model=None)
def home(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Right.READ_LEDGER))],
    as_of: AsOfDep,
    by: AgingBy = AgingBy.CUSTOMER,
    set_lang: Annotated[str | None, Query(alias="lang")] = None,
) -> Response:
    """A collector starts the day on their worklist; everyone else on the aging dashboard
    (also at ``/aging``, where the collector finds it)."""
    if principal.user.role == Role.COLLECTOR:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/worklist{query}", status_code=303)
    return aging_page(request, session, principal, as_of, by, set_lang)


@router.get("/aging", response_class=HTMLResponse)
def aging_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Right.READ_LEDGER))],
    as_of: AsOfDep,
    by: AgingBy = AgingBy.CUSTOMER,
    set_lang: Annotated[str | None, Query(alias="lang")] = None,
) -> HTMLResponse:
    lang = page_lang(principal, set_lang)
    company = principal.company
    key = (
        "aging",
        company.id,
        as_of,
        by,
        principal.scope.only,
        _ledger_version(session, company.id),
    )
    report: AgingReport = _cached(
        key,
        lambda: aging_report(
            session, company_id=company.id, as_of=as_of, by=by, currency=company.currency,
            only=principal.scope.only, most_overdue=PAGE_ROWS,
        ),
    )  # fmt: skip
    top = report.rows
    trend = _dso_trend(session, principal, as_of) if principal.scope.only is None else []
    overdue = report.total - report.bucket_totals[report.bucket_names[0]]
    context = {
        "t": _t(lang),
        "lang": lang,
        "company": company,
        "user": principal.user,
        "csrf": principal.csrf_token or "",
        "report": report,
        "rows": [(r, _row_name(report, r.key, r.name, lang)) for r in top],
        "hidden": max(0, report.row_count - len(report.rows)),
        "overdue": overdue,
        "bars": _bars(report),
        "bar_width": BAR_WIDTH,
        "groupings": [g.value for g in AgingBy],
        "trend": trend,
        "trend_bars": _trend_bars(trend),
        "top_overdue": sorted(
            (r for r in report.rows if r.total - r.buckets[report.bucket_names[0]] > 0),
            key=lambda r: r.total - r.buckets[report.bucket_names[0]],
            reverse=True,
        )[:10]
        if report.by is AgingBy.CUSTOMER
        else [],
    }
    response = TEMPLATES.TemplateResponse(request, "aging.html", context)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def error_page(request: Request, status: int, message: str, lang: Lang) -> HTMLResponse:
    """A plain page for people when something they asked for cannot be shown."""
    context = {"t": _t(lang), "lang": lang, "message": message, "status": status}
    return TEMPLATES.TemplateResponse(request, "error.html", context, status_code=status)
