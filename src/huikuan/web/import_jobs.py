"""Imports started from the web page run as background jobs, so that a large file shows its
progress instead of holding a request open for minutes.

A job runs in a thread of the worker process that received the request, in its own unit of
work: a check rolls back at the end, a confirmed import commits once, so an interrupted job has
written nothing. Its state (phase, rows done of total, result, every bad row) is a small JSON
file beside the uploaded file, written atomically, so that any worker of the same server can
show it while the page polls. A job whose process has died is shown as interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.audit import Actor
from huikuan.core.db import unit_of_work
from huikuan.core.errors import HuikuanError, ImportRejected, NotFound, RowError
from huikuan.core.models import Company
from huikuan.core.tabular import FieldSpec, ImportResult, map_columns, read_table
from huikuan.importing import FIELDS, ImportOptions, run_import

# Bad rows kept for the page; the count says how many there were in all.
ERRORS_KEPT = 1000


@dataclass
class ImportJob:
    """One check or import of an uploaded file, as the page shows it."""

    id: str
    user_id: int
    upload: str
    kind: str
    confirm: bool
    overrides: dict[str, str]
    create_customers: bool
    date_format: str | None
    pid: int = field(default_factory=os.getpid)
    status: str = "running"  # running, done, rejected, failed, interrupted
    phase: str = "reading"  # reading, checking, writing
    done: int = 0
    total: int = 0
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    result: dict[str, int] | None = None
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    error_count: int = 0
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def import_result(self) -> ImportResult | None:
        return ImportResult(**self.result) if self.result is not None else None

    def row_errors(self) -> list[RowError]:
        return [RowError(row, column, reason) for row, column, reason in self.errors]


class JobStore:
    """Job states as JSON files in one folder (the uploads folder of this server)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, job_id: str) -> Path:
        return self.folder / f"{Path(job_id).name}.job.json"

    def save(self, job: ImportJob) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self._path(job.id).with_suffix(f".{secrets.token_hex(4)}.tmp")
        temporary.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
        temporary.replace(self._path(job.id))  # atomic: a reader never sees half a file

    def load(self, user_id: int, job_id: str) -> ImportJob:
        """The user's own job; anyone else's id is 'not found'."""
        path = self._path(job_id)
        if not job_id.startswith(f"{user_id}-") or not path.exists():
            raise NotFound("没有这个导入任务 / no such import job")
        data = json.loads(path.read_text(encoding="utf-8"))
        data["errors"] = [tuple(e) for e in data["errors"]]
        job = ImportJob(**data)
        if not job.finished and not _alive(job.pid):
            job.status = "interrupted"
        return job


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class JobContext:
    """What the job needs from the request that started it."""

    sessions: sessionmaker[Session]
    store: JobStore
    file: Path
    actor: Actor
    company_id: int
    as_of: dt.date


def start_job(context: JobContext, job: ImportJob) -> threading.Thread:
    """Save the job's first state and run it in a background thread."""
    context.store.save(job)
    thread = threading.Thread(target=run_job, args=(context, job), daemon=True)
    thread.start()
    return thread


def run_job(context: JobContext, job: ImportJob) -> None:
    """Read, check and (when confirmed) write the file, saving progress as it goes."""
    try:
        _run(context, job)
    except ImportRejected as exc:
        job.status = "rejected"
        job.error_count = len(exc.errors)
        job.errors = [(e.row, e.column, e.reason) for e in exc.errors[:ERRORS_KEPT]]
    except HuikuanError as exc:
        job.status, job.message = "rejected", exc.message
    except Exception as exc:  # a bug must still end the job, and say so on the page
        job.status, job.message = "failed", f"导入失败 / import failed: {type(exc).__name__}"
        raise
    finally:
        context.store.save(job)


def _run(context: JobContext, job: ImportJob) -> None:
    table = read_table(context.file)
    job.headers = [h for h in table.headers if h]
    fields: tuple[FieldSpec, ...] = FIELDS[job.kind]
    found = map_columns(
        table.headers, [FieldSpec(f.name, False, f.synonyms) for f in fields], job.overrides
    )
    job.mapping = {name: table.headers[i] for name, i in found.items()}
    job.phase, job.total = "checking", len(table.rows)
    context.store.save(job)
    options = ImportOptions(
        as_of=context.as_of, date_format=job.date_format, create_customers=job.create_customers,
        progress=_progress(context.store, job),
    )  # fmt: skip
    with unit_of_work(context.sessions) as session:
        company = session.get_one(Company, context.company_id)
        result = run_import(
            job.kind, session, actor=context.actor, company=company, table=table,
            overrides=job.overrides, options=options,
        )  # fmt: skip
        if not job.confirm:
            session.rollback()  # a check writes nothing: the same run, rolled back
    job.result = {
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "applied": result.applied, "unapplied": result.unapplied,
    }  # fmt: skip
    job.status, job.done = "done", job.total
    if job.confirm:
        context.file.unlink(missing_ok=True)


def _progress(store: JobStore, job: ImportJob) -> Callable[[int, int], None]:
    """Rows written so far; saved at most every half second, so progress costs nothing."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        job.phase = "writing" if job.confirm else "checking"
        job.done, job.total = done, total
        moment = dt.datetime.now().timestamp()
        if moment - last[0] >= 0.5 or done == total:
            last[0] = moment
            store.save(job)

    return report


def new_job_id(user_id: int) -> str:
    return f"{user_id}-{secrets.token_hex(12)}"


def job_view(job: ImportJob) -> dict[str, Any]:
    """The parts of a job the import page shows."""
    return {
        "job": job, "upload": job.upload, "kind": job.kind, "headers": job.headers,
        "mapping": job.mapping, "create_customers": job.create_customers,
        "date_format": job.date_format or "", "result": job.import_result(),
        "errors": job.row_errors(), "done": job.confirm and job.status == "done",
    }  # fmt: skip
