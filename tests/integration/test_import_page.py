"""The import page: upload, see every bad row before anything is written, fix, confirm."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.ledger.models import Invoice
from huikuan.web import import_jobs, import_pages
from huikuan.web.app import create_app
from huikuan.web.import_jobs import ImportJob, JobStore, new_job_id

from .ledger_builders import customer
from .web_helpers import make_user, sign_in

BAD = "凭证编号,客户编码,开票日期,到期日,价税合计\nA-1,C001,2024-01-05,2024-02-04,1000.00\nA-2,C001,2024-02-30,2024-03-30,abc\n"
GOOD = BAD.replace("2024-02-30,2024-03-30,abc", "2024-02-28,2024-03-30,250.50")


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match is not None, name
    return match.group(1)


def test_upload_see_errors_fix_map_and_confirm(
    database_url: str, session: Session, company: Company
) -> None:
    customer(session, company, "C001", "华东建材有限公司")
    session.commit()
    make_user(session, company, "finance", "finance")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        csrf = field(client.get("/imports").text, "csrf")
        bad = client.post(
            "/imports",
            data={"csrf": csrf, "kind": "invoices"},
            files={"file": ("erp.csv", BAD.encode("gbk"), "text/csv")},
        )
        # "凭证编号" is not a known name for the invoice number: the column must be mapped.
        assert bad.status_code == 422
        assert "缺少必需的列 number" in bad.text
        upload = field(bad.text, "upload")
        mapped = client.post(
            "/imports/check",
            data={"csrf": csrf, "upload": upload, "kind": "invoices", "map_number": "凭证编号"},
        )
        assert mapped.status_code == 422
        assert "发现 2 处错误，未写入任何数据" in mapped.text
        assert "不存在的日期" in mapped.text and "2024-02-30" in mapped.text
        assert "无法识别的金额" in mapped.text
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0

        fixed = client.post(
            "/imports",
            data={"csrf": csrf, "kind": "invoices"},
            files={"file": ("erp.csv", GOOD.encode("gbk"), "text/csv")},
        )
        upload = field(fixed.text, "upload")
        preview = client.post(
            "/imports/check",
            data={"csrf": csrf, "upload": upload, "kind": "invoices", "map_number": "凭证编号"},
        )
        assert "检查通过：将新增 2 条" in preview.text
        assert (
            session.scalar(select(func.count()).select_from(Invoice)) == 0
        )  # the check wrote nothing
        done = client.post(
            "/imports/confirm",
            data={"csrf": csrf, "upload": upload, "kind": "invoices", "map_number": "凭证编号"},
        )
        assert "导入完成：新增 2 条" in done.text
    amounts = {n: a for n, a in session.execute(select(Invoice.number, Invoice.amount))}
    assert amounts == {"A-1": 100000, "A-2": 25050}


def test_someone_elses_upload_cannot_be_used(
    database_url: str, session: Session, company: Company
) -> None:
    make_user(session, company, "finance", "finance")
    make_user(session, company, "admin", "admin")
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as first:
        sign_in(first, "finance")
        csrf = field(first.get("/imports").text, "csrf")
        page = first.post(
            "/imports",
            data={"csrf": csrf, "kind": "invoices"},
            files={"file": ("a.csv", GOOD.encode(), "text/csv")},
        )
        upload = field(page.text, "upload")
    with TestClient(app) as second:
        sign_in(second, "admin")
        csrf = field(second.get("/imports").text, "csrf")
        stolen = second.post(
            "/imports/check", data={"csrf": csrf, "upload": upload, "kind": "invoices"}
        )
        assert stolen.status_code == 404


def test_a_large_import_shows_its_progress_then_its_result(
    database_url: str, session: Session, company: Company, monkeypatch
) -> None:
    """The request does not wait for a large file: the page shows rows written of all rows
    while the import runs (held here at its first progress report), then the result."""
    customer(session, company, "C001", "华东建材有限公司")
    session.commit()
    make_user(session, company, "finance", "finance")
    make_user(session, company, "admin", "admin")
    rows = 12_000
    body = "发票号,客户编码,开票日期,到期日,金额\n" + "".join(
        f"B-{i:05d},C001,2024-01-05,2024-02-04,{i}.01\n" for i in range(rows)
    )
    reached, release = threading.Event(), threading.Event()
    original = import_jobs.run_import

    def held(*args, options, **kwargs):
        def progress(done: int, total: int) -> None:
            options.progress(done, total)
            if not reached.is_set():
                reached.set()
                assert release.wait(30)

        return original(*args, options=replace(options, progress=progress), **kwargs)

    monkeypatch.setattr(import_jobs, "run_import", held)
    monkeypatch.setattr(import_pages, "WAIT_SECONDS", 0.0)
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as client, TestClient(app) as other:
        # Signed in first: on SQLite a sign-in waits while an import holds the write lock.
        sign_in(other, "admin")
        sign_in(client, "finance")
        csrf = field(client.get("/imports").text, "csrf")
        checked = client.post(
            "/imports",
            data={"csrf": csrf, "kind": "invoices"},
            files={"file": ("big.csv", body.encode("gbk"), "text/csv")},
            follow_redirects=False,
        )
        assert checked.status_code == 303
        job_url = checked.headers["location"]
        assert reached.wait(30)
        running = client.get(job_url)
        assert "正在检查：5,000 / 12,000 行" in running.text
        assert 'http-equiv="refresh"' in running.text and 'value="42"' in running.text
        assert other.get(job_url).status_code == 404  # a job is its owner's only
        release.set()
        preview = _until_finished(client, job_url)
        assert "检查通过：将新增 12000 条" in preview.text
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0

        reached.clear()
        release.clear()
        started = client.post(
            "/imports/confirm",
            data={"csrf": csrf, "upload": field(preview.text, "upload"), "kind": "invoices"},
            follow_redirects=False,
        )
        assert reached.wait(30)
        writing = client.get(started.headers["location"])
        assert "正在写入：5,000 / 12,000 行" in writing.text
        release.set()
        done = _until_finished(client, started.headers["location"])
        assert "导入完成：新增 12000 条" in done.text
    session.expire_all()
    total = session.scalar(select(func.sum(Invoice.amount)))
    assert total == sum(i * 100 + 1 for i in range(rows))


def _until_finished(client: TestClient, url: str):
    for _ in range(300):
        page = client.get(url)
        if 'http-equiv="refresh"' not in page.text:
            return page
        time.sleep(0.1)
    raise AssertionError("the import job did not finish")


def test_a_job_whose_server_died_says_nothing_was_written(
    database_url: str, session: Session, company: Company
) -> None:
    user = make_user(session, company, "finance", "finance")
    job = ImportJob(
        id=new_job_id(user.id), user_id=user.id, upload="x.csv", kind="invoices", confirm=True,
        overrides={}, create_customers=False, date_format=None, pid=2**22 + 7,
    )  # fmt: skip
    JobStore(import_pages.UPLOADS).save(job)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        page = client.get(f"/imports/jobs/{job.id}")
    assert "导入被中断（服务器重启），未写入任何数据" in page.text
    assert 'http-equiv="refresh"' not in page.text
