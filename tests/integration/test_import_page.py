"""The import page: upload, see every bad row before anything is written, fix, confirm."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.ledger.models import Invoice
from huikuan.web.app import create_app

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
