"""The import page: upload a CSV or XLSX file, see what it would do and every bad row before
anything is written, adjust the column mapping, then confirm.

The check and the import run the same code as a background job (``web/import_jobs.py``): the
check rolls back at the end, the confirmation commits, so what the preview promises is what the
confirmation does. A request waits a moment for its job; a small file's answer comes at once,
a large one's page shows its progress and refreshes itself until the job has finished.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huikuan.core.errors import NotFound, RowError
from huikuan.core.tabular import FieldSpec
from huikuan.importing import FIELDS, KINDS
from huikuan.users.rules import Right
from huikuan.web.deps import Principal, now, require
from huikuan.web.i18n import localise
from huikuan.web.import_jobs import ImportJob, JobContext, JobStore, job_view, new_job_id, start_job
from huikuan.web.pages import TEMPLATES, _t, check_csrf, page_lang

router = APIRouter(include_in_schema=False)
Importer = Annotated[Principal, Depends(require(Right.WRITE_LEDGER))]
UPLOADS = Path(tempfile.gettempdir()) / "huikuan-uploads"
MAX_UPLOAD = 50 * 1024 * 1024
SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
# How long a request waits for its job before showing the progress page instead.
WAIT_SECONDS = 2.0


def _store() -> JobStore:
    return JobStore(UPLOADS)


def _render(
    request: Request, principal: Principal, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = page_lang(principal, None)
    base = {
        "t": _t(lang), "lang": lang, "company": principal.company, "user": principal.user,
        "csrf": principal.csrf_token or "", "kinds": list(KINDS), "job": None,
        "upload": None, "kind": "invoices", "errors": [], "result": None, "done": False,
        "fields": [], "headers": [], "mapping": {}, "create_customers": False, "date_format": "",
    }  # fmt: skip
    base.update(context)
    base["fields"] = FIELDS.get(str(base["kind"]), ())
    if base["errors"]:
        base["errors"] = [(e.row, e.column, localise(e.reason, lang)) for e in base["errors"]]
    return TEMPLATES.TemplateResponse(request, "imports.html", base, status_code=status)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: Importer) -> HTMLResponse:
    return _render(request, principal)


@router.post("/imports", response_model=None)
async def upload(
    request: Request,
    principal: Importer,
    csrf: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=20)],
    file: Annotated[UploadFile, File()],
) -> Response:
    """Keep the uploaded file (for this user only) and check it."""
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
    return _start(request, principal, upload_id, kind, {}, False, None, confirm=False)


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


def _start(
    request: Request, principal: Principal, upload_id: str, kind: str, overrides: dict[str, str],
    create_customers: bool, date_format: str | None, *, confirm: bool,
) -> Response:  # fmt: skip
    """Start the check or the import, wait a moment, and show its answer or its progress."""
    path = _stored(principal, upload_id)
    job = ImportJob(
        id=new_job_id(principal.user.id), user_id=principal.user.id, upload=upload_id, kind=kind,
        confirm=confirm, overrides=overrides, create_customers=create_customers,
        date_format=date_format,
    )  # fmt: skip
    context = JobContext(
        sessions=request.app.state.sessions, store=_store(), file=path,
        actor=principal.actor(request), company_id=principal.company.id, as_of=now().date(),
    )  # fmt: skip
    thread = start_job(context, job)
    thread.join(WAIT_SECONDS)
    if thread.is_alive():
        return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)
    return _show(request, principal, _store().load(principal.user.id, job.id))


def _show(request: Request, principal: Principal, job: ImportJob) -> HTMLResponse:
    context = job_view(job)
    if job.message:
        context["errors"] = [_file_error(job.message)]
    status = 422 if job.status in ("rejected", "failed") else 200
    return _render(request, principal, status, **context)


@router.get("/imports/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, principal: Importer, job_id: str) -> HTMLResponse:
    """A running job's progress (the page refreshes itself), then its answer."""
    return _show(request, principal, _store().load(principal.user.id, job_id))


@router.post("/imports/check", response_model=None)
async def check(request: Request, principal: Importer) -> Response:
    """Check again with the mapping the user chose."""
    return await _check_or_confirm(request, principal, confirm=False)


@router.post("/imports/confirm", response_model=None)
async def confirm(request: Request, principal: Importer) -> Response:
    """Import for real: the same run as the check, committed this time."""
    return await _check_or_confirm(request, principal, confirm=True)


async def _check_or_confirm(request: Request, principal: Principal, *, confirm: bool) -> Response:
    form = dict(await request.form())
    check_csrf(principal, str(form.get("csrf", "")))
    kind = str(form.get("kind", ""))
    if kind not in KINDS:
        raise NotFound("未知的导入类型 / unknown import kind")
    create_customers = form.get("create_customers") == "on"
    date_format = str(form.get("date_format") or "") or None
    return _start(
        request, principal, str(form.get("upload", "")), kind, _overrides(form, FIELDS[kind]),
        create_customers, date_format, confirm=confirm,
    )  # fmt: skip
