"""Exports open in Excel as numbers and dates, and import back unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from huikuan.cli import app
from huikuan.core.company import create_company
from huikuan.core.db import session_factory, unit_of_work
from huikuan.customers.service import create_customer
from huikuan.ledger import service
from huikuan.ledger.aging import aging_report
from tests.actors import ACTOR

runner = CliRunner()
D = dt.date


def seed(engine: Engine) -> None:
    with unit_of_work(session_factory(engine)) as session:
        company = create_company(session, code="src", name="源公司")
        east = create_customer(
            session,
            actor=ACTOR,
            company_id=company.id,
            code="C1",
            name="华东建材",
            customer_type="dealer",
        )
        south = create_customer(
            session,
            actor=ACTOR,
            company_id=company.id,
            code="C2",
            name="华南超市",
            customer_type="retail_chain",
        )
        for number, cust, issued, amount in [
            ("INV-1", east, D(2024, 1, 5), 123456789),
            ("INV-2", east, D(2024, 2, 5), 5001),
            ("INV-3", south, D(2024, 2, 20), 880000),
        ]:
            service.record_invoice(
                session, actor=ACTOR, company_id=company.id, customer=cust, number=number, issue_date=issued,
                due_date=issued + dt.timedelta(days=30), amount=amount,
            )  # fmt: skip
        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=east,
            received_on=D(2024, 3, 1),
            amount=123456789 + 1000,
        )
        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=south,
            received_on=D(2024, 3, 2),
            amount=100,
            invoice_numbers=["INV-3"],
        )
        create_company(session, code="dst", name="目标公司")


def test_export_then_import_into_another_company_gives_the_same_aging(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    seed(engine)
    for kind, suffix in [("customers", "csv"), ("invoices", "xlsx"), ("payments", "csv")]:
        path = tmp_path / f"{kind}.{suffix}"
        out = runner.invoke(
            app, ["export", kind, str(path), "--db", database_url, "--company", "src"]
        )
        assert out.exit_code == 0, out.output
        imported = runner.invoke(
            app, ["import", kind, str(path), "--db", database_url, "--company", "dst"]
        )
        assert imported.exit_code == 0, imported.output
    with session_factory(engine)() as session:
        from huikuan.core.company import resolve_company

        reports = [
            aging_report(
                session, company_id=resolve_company(session, code).id, as_of=D(2024, 3, 31)
            )
            for code in ("src", "dst")
        ]
    assert [(r.key, r.buckets) for r in reports[0].rows] == [
        (r.key, r.buckets) for r in reports[1].rows
    ]
    assert reports[1].total == 5001 - 1000 + 880000 - 100


def test_xlsx_export_has_real_numbers_and_dates(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    seed(engine)
    path = tmp_path / "invoices.xlsx"
    result = runner.invoke(
        app,
        [
            "export",
            "invoices",
            str(path),
            "--db",
            database_url,
            "--company",
            "src",
            "--as-of",
            "2024-03-31",
        ],
    )
    assert "exported 3 rows" in result.output
    sheet = load_workbook(path).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["number"] == "INV-1"
    assert first["amount"] == 1234567.89
    assert first["issue_date"].date() == D(2024, 1, 5)
    assert sheet.cell(row=2, column=header.index("amount") + 1).number_format == "#,##0.00"
    third = dict(zip(header, [c.value for c in sheet[4]], strict=True))
    assert (third["open_amount"], third["days_overdue"]) == (8799, 10)


def test_csv_export_opens_in_excel_with_chinese_intact(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    seed(engine)
    path = tmp_path / "customers.csv"
    runner.invoke(app, ["export", "customers", str(path), "--db", database_url, "--company", "src"])
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert "C1,华东建材,dealer" in data.decode("utf-8-sig")
