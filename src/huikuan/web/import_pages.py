"""The import page: upload a CSV or XLSX file, see what it would do and every bad row before
anything is written, adjust the column mapping, then confirm.

The check and the import run the same code: the check imports inside a savepoint and rolls it
back, so what the preview promises is what the confirmation does.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from huikuan.core.errors import ImportRejected, NotFound, RowError
from huikuan.core.tabular import FieldSpec, ImportResult, Table, map_columns, read_table
from huikuan.importing import FIELDS, KINDS, ImportOptions, run_import
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, SessionDep, now, require
from huikuan.web.i18n import localise
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang

router = APIRouter(include_in_schema=False)
Importer = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
UPLOADS = Path(tempfile.gettempdir()) / "huikuan-uploads"
MAX_UPLOAD = 50 * 1024 * 1024
SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}


def _runner(
    request: Request,
    principal: Principal,
    kind: str,
    create_customers: bool,
    date_format: str | None,
) -> Callable[[Session, Table, dict[str, str]], ImportResult]:
    """The import of ``kind`` for this user, as a function of (session, table, overrides)."""
    options = ImportOptions(
        as_of=now().date(), date_format=date_format, create_customers=create_customers
    )

    def run(session: Session, table: Table, overrides: dict[str, str]) -> ImportResult:
        return run_import(
            kind, session, actor=principal.actor(request), company=principal.company, table=table,
            overrides=overrides, options=options,
        )  # fmt: skip

    return run


def _render(
    request: Request, principal: Principal, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = page_lang(principal, None)
    base = {
        "t": _t(lang), "lang": lang, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "kinds": list(KINDS),
        "upload": None, "kind": "invoices", "errors": [], "result": None, "done": False,
        "fields": [], "headers": [], "mapping": {}, "create_customers": False, "date_format": "",
    }  # fmt: skip
    base.update(context)
    if base["errors"]:
        base["errors"] = [(e.row, e.column, localise(e.reason, lang)) for e in base["errors"]]
    return TEMPLATES.TemplateResponse(request, "imports.html", base, status_code=status)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: Importer) -> HTMLResponse:
    return _render(request, principal)


@router.post("/imports", response_class=HTMLResponse)
async def upload(
    request: Request,
    session: SessionDep,
    principal: Importer,
    csrf: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=20)],
    file: Annotated[UploadFile, File()],
) -> HTMLResponse:
    """Keep the uploaded file (for this user only) and show the preview."""
    check_csrf(principal, csrf)
    suffix = Path(file.filename or "").suffix.lower()
    if kind not in KINDS or suffix not in SUFFIXES:
        message = "请上传 CSV 或 XLSX 文件 / please upload a CSV or XLSX file"
        return _render(request, principal, 422, errors=[_file_error(message)], kind=kind)
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        message = "文件超过 50 MB，请用命令行导入 / file over 50 MB: use huikuan import"
        return _render(request, principal, 422, errors=[_file_error(message)], kind=kind)
    UPLOADS.mkdir(parents=True, exist_ok=True)
    upload_id = f"{principal.user.id}-{secrets.token_hex(12)}{suffix}"
    (UPLOADS / upload_id).write_bytes(data)
    return _preview(request, principal, session, upload_id, kind, {}, False, None)


def _file_error(message: str) -> RowError:
    return RowError(0, "", message)


def _stored(principal: Principal, upload_id: str) -> Path:
    """The user's own uploaded file; anyone else's id is 'not found'."""
    path = UPLOADS / Path(upload_id).name
    if not upload_id.startswith(f"{principal.user.id}-") or not path.exists():
        raise NotFound(
            "上传的文件已不存在，请重新上传 / the uploaded file is gone: upload it again"
        )
    return path


def _overrides(form: dict[str, Any], fields: tuple[FieldSpec, ...]) -> dict[str, str]:
    return {f.name: str(form[f"map_{f.name}"]) for f in fields if form.get(f"map_{f.name}")}


def _preview(
    request: Request, principal: Principal, session: Session, upload_id: str, kind: str,
    overrides: dict[str, str], create_customers: bool, date_format: str | None, confirm: bool = False,
) -> HTMLResponse:  # fmt: skip
    fields = FIELDS[kind]
    run = _runner(request, principal, kind, create_customers, date_format)
    path = _stored(principal, upload_id)
    context: dict[str, Any] = {
        "upload": upload_id, "kind": kind, "fields": fields, "create_customers": create_customers,
        "date_format": date_format or "", "filename": path.name,
    }  # fmt: skip
    try:
        table = read_table(path)
        context["headers"] = [h for h in table.headers if h]
        found = map_columns(
            table.headers, [FieldSpec(f.name, False, f.synonyms) for f in fields], overrides
        )
        context["mapping"] = {name: table.headers[i] for name, i in found.items()}
        if confirm:
            result = run(session, table, overrides)  # committed with the request
            path.unlink(missing_ok=True)
            return _render(request, principal, result=result, done=True, **context)
        savepoint = session.begin_nested()
        try:
            result = run(session, table, overrides)
        finally:
            savepoint.rollback()
        return _render(request, principal, result=result, **context)
    except ImportRejected as exc:
        session.rollback()
        return _render(request, principal, 422, errors=exc.errors, **context)


@router.post("/imports/check", response_class=HTMLResponse)
async def check(request: Request, session: SessionDep, principal: Importer) -> HTMLResponse:
    """Check again with the mapping the user chose."""
    return await _check_or_confirm(request, session, principal, confirm=False)


@router.post("/imports/confirm", response_class=HTMLResponse)
async def confirm(request: Request, session: SessionDep, principal: Importer) -> HTMLResponse:
    """Import for real: the same run as the check, committed this time."""
    return await _check_or_confirm(request, session, principal, confirm=True)


async def _check_or_confirm(
    request: Request, session: Session, principal: Principal, *, confirm: bool
) -> HTMLResponse:
    form = dict(await request.form())
    check_csrf(principal, str(form.get("csrf", "")))
    kind = str(form.get("kind", ""))
    if kind not in KINDS:
        raise NotFound("未知的导入类型 / unknown import kind")
    create_customers = form.get("create_customers") == "on"
    date_format = str(form.get("date_format") or "") or None
    fields = FIELDS[kind]
    return _preview(
        request, principal, session, str(form.get("upload", "")), kind, _overrides(form, fields),
        create_customers, date_format, confirm=confirm,
    )  # fmt: skip
