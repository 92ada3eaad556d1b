"""The web app's composition root: settings → engine → sessions → routers and error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from huikuan import __version__
from huikuan.collections.api import router as collections_router
from huikuan.collections.desk_api import router as desk_router
from huikuan.collections.plan_fee_api import router as plan_fee_router
from huikuan.collections.worklist_api import router as worklist_router
from huikuan.core.db import make_engine, session_factory
from huikuan.core.errors import (
    Conflict,
    Forbidden,
    HuikuanError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from huikuan.core.migrate import schema_is_current
from huikuan.core.settings import Settings
from huikuan.credit.api import router as credit_router
from huikuan.customers.api import router as customers_router
from huikuan.ledger.api import router as ledger_router
from huikuan.reconciliation.api import router as bank_router
from huikuan.reconciliation.statement_api import router as statement_router
from huikuan.web import (
    bank_pages,
    collection_pages,
    credit_pages,
    customer_pages,
    desk_pages,
    entry_pages,
    import_pages,
    ledger_pages,
    pages,
    plan_fee_pages,
    statement_pages,
    worklist_pages,
)
from huikuan.web.i18n import LANG_COOKIE, Lang, localise, pick_lang
from huikuan.web.schemas import ErrorResponse

STATIC = Path(__file__).resolve().parent / "static"
STATUS_BY_ERROR = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
}


class Health(BaseModel):
    status: str
    database: str
    version: str


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="Huikuan 回款",
        version=__version__,
        description="Accounts-receivable credit and collections. Amounts are decimal strings "
        "with two places; dates are YYYY-MM-DD; errors are JSON with a code and a message.",
    )
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.settings = settings
    _add_error_handlers(app)
    _add_nul_guard(app)
    app.include_router(_health_router())
    app.include_router(customers_router)
    app.include_router(ledger_router)
    app.include_router(credit_router)
    app.include_router(collections_router)
    app.include_router(pages.router)
    app.include_router(customer_pages.router)
    app.include_router(ledger_pages.router)
    app.include_router(import_pages.router)
    app.include_router(entry_pages.router)
    app.include_router(credit_pages.router)
    app.include_router(collection_pages.router)
    app.include_router(desk_pages.router)
    app.include_router(desk_router)
    app.include_router(plan_fee_pages.router)
    app.include_router(plan_fee_router)
    app.include_router(worklist_pages.router)
    app.include_router(worklist_router)
    app.include_router(bank_pages.router)
    app.include_router(bank_router)
    app.include_router(statement_pages.router)
    app.include_router(statement_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _health_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["health"])

    @router.get(
        "/health",
        response_model=Health,
        responses={503: {"model": ErrorResponse, "description": "Database unreachable"}},
    )
    def health(request: Request) -> Health | JSONResponse:
        """Liveness and readiness: the app answers and the database runs a query."""
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return _error(
                503, "database_unavailable", "数据库不可用 / database unavailable", request
            )
        return Health(status="ok", database="ok", version=__version__)

    @router.get(
        "/ready",
        response_model=Health,
        responses={503: {"model": ErrorResponse, "description": "Not ready to serve"}},
    )
    def ready(request: Request) -> Health | JSONResponse:
        """Readiness: the database answers and its schema is the one this version expects."""
        try:
            with request.app.state.engine.connect() as conn:
                current = schema_is_current(conn)
        except Exception:
            return _error(
                503, "database_unavailable", "数据库不可用 / database unavailable", request
            )
        if not current:
            message = (
                "数据库结构需要升级（huikuan init）/ database schema needs upgrading (huikuan init)"
            )
            return _error(503, "schema_outdated", message, request)
        return Health(status="ok", database="ok", version=__version__)

    return router


def _lang(request: Request) -> Lang:
    return pick_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def _error(
    status: int, code: str, message: str, request: Request, details: list[str] | None = None
) -> JSONResponse:
    lang = _lang(request)
    body = {
        "error": {
            "code": code,
            "message": localise(message, lang),
            "details": [localise(d, lang) for d in details or []],
        }
    }
    return JSONResponse(status_code=status, content=body)


NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")
NUL_MESSAGE = (
    "请求中含有空字符（NUL），无法保存 / the request holds a NUL character, which cannot be stored"
)


def _add_nul_guard(app: FastAPI) -> None:
    """Refuse a NUL character anywhere in the address, the query or a form or JSON body, before
    any route sees it: PostgreSQL cannot store one in text, and no person types one. Uploaded
    files (multipart) are binary and are read by the import, not checked here."""

    @app.middleware("http")
    async def refuse_nul(request: Request, call_next):
        raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
        carries_nul = any(marker in raw.lower() for marker in (b"%00", b"\x00"))
        if not carries_nul and request.method in ("POST", "PUT", "PATCH"):
            kind = request.headers.get("content-type", "")
            if not kind.startswith("multipart/"):
                body = await request.body()
                carries_nul = any(marker in body.lower() for marker in NUL_MARKERS)
        if carries_nul:
            return _error(422, "invalid_input", NUL_MESSAGE, request)
        return await call_next(request)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DataError)
    async def database_refused(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot keep (out of range, bad encoding) is the request's fault.
        message = "输入的值无法保存（超出范围或含非法字符）/ a value cannot be stored (out of range or an invalid character)"
        return _error(422, "invalid_input", message, request)

    @app.exception_handler(HuikuanError)
    async def domain_error(request: Request, exc: HuikuanError) -> Response:
        if isinstance(exc, NotAuthenticated) and not request.url.path.startswith("/api"):
            # People are sent to the sign-in page and back to where they were going.
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
        if not request.url.path.startswith("/api") and request.method == "GET":
            return pages.error_page(
                request, status, localise(exc.message, _lang(request)), _lang(request)
            )
        # A batch refused whole (a strategy file) lists each problem in details.
        details = getattr(exc, "details", None)
        return _error(status, exc.code, exc.message, request, details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'body'))}: {e.get('msg')}"
            for e in exc.errors()
        ]
        return _error(
            422, "invalid_request", "请求参数无效 / invalid request parameters", request, details
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: "没有这个地址 / no such address",
            405: "不支持的请求方法 / method not allowed",
        }
        message = messages.get(exc.status_code, str(exc.detail))
        return _error(exc.status_code, f"http_{exc.status_code}", message, request)
