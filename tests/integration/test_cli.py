"""The ``huikuan`` command as a user runs it: init, aging in every format, ledger check."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from huikuan.cli import app
from huikuan.core.company import resolve_company
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.customers.service import create_customer
from huikuan.ledger import service
from tests.actors import ACTOR

runner = CliRunner()
D = dt.date


def prepared_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(
        app, ["init", "--db", url, "--company", "acme", "--company-name", "示例"]
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        company = resolve_company(session, None)
        cust = create_customer(
            session,
            actor=ACTOR,
            company_id=company.id,
            code="C1",
            name="华东建材",
            collector="张伟",
        )
        for number, issued, amount in [
            ("INV-1", D(2024, 1, 1), 123456789),
            ("INV-2", D(2024, 5, 20), 5000),
        ]:
            service.record_invoice(
                session,
                actor=ACTOR,
                company_id=company.id,
                customer=cust,
                number=number,
                issue_date=issued,
                due_date=issued + dt.timedelta(days=30),
                amount=amount,
            )
        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=cust,
            received_on=D(2024, 6, 1),
            amount=456789,
        )
    engine.dispose()
    return url


def test_init_twice_is_harmless(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    result = runner.invoke(app, ["init", "--db", url])
    assert result.exit_code == 0
    assert "created company" not in result.output


def test_aging_json_has_the_documented_shape(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    result = runner.invoke(app, ["aging", "--db", url, "--as-of", "2024-06-15", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["as_of"] == "2024-06-15"
    assert report["currency"] == "CNY"
    assert report["buckets"] == ["current", "1-30", "31-60", "61-90", "91-180", "181-365", "366+"]
    assert report["rows"] == [
        {
            "key": "C1",
            "name": "华东建材",
            "total": "1230050.00",
            "buckets": {
                "current": "50.00",
                "1-30": "0.00",
                "31-60": "0.00",
                "61-90": "0.00",
                "91-180": "1230000.00",
                "181-365": "0.00",
                "366+": "0.00",
            },
        }
    ]
    assert report["totals"]["total"] == "1230050.00"


def test_aging_table_csv_and_xlsx(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    table = runner.invoke(app, ["aging", "--db", url, "--as-of", "2024-06-15", "--by", "collector"])
    assert table.exit_code == 0
    assert "¥1,230,050.00" in table.output
    assert "张伟" in table.output
    csv_out = runner.invoke(app, ["aging", "--db", url, "--as-of", "2024-06-15", "--format", "csv"])
    assert csv_out.output.splitlines()[1].startswith("C1,华东建材,1230050.00,50.00,")
    xlsx = tmp_path / "aging.xlsx"
    result = runner.invoke(
        app, ["aging", "--db", url, "--as-of", "2024-06-15", "--format", "xlsx", "-o", str(xlsx)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    assert [c.value for c in sheet[3]][:3] == ["C1", "华东建材", 1230050]
    assert sheet["C3"].number_format == "#,##0.00"


def test_bad_options_get_a_clear_error(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    bad_date = runner.invoke(app, ["aging", "--db", url, "--as-of", "2024-02-30"])
    assert bad_date.exit_code == 2
    assert "2024-02-30" in bad_date.output
    bad_buckets = runner.invoke(app, ["aging", "--db", url, "--buckets", "60,30"])
    assert bad_buckets.exit_code == 2
    assert "increasing" in bad_buckets.output
    unknown = runner.invoke(app, ["aging", "--db", url, "--company", "nope"])
    assert unknown.exit_code == 1
    assert "nope" in unknown.output


def test_ledger_check_reports_a_tampered_balance(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    assert runner.invoke(app, ["ledger", "check", "--db", url]).exit_code == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE invoice SET open_amount = open_amount - 1 WHERE number = 'INV-2'"
        )
    engine.dispose()
    result = runner.invoke(app, ["ledger", "check", "--db", url])
    assert result.exit_code == 1
    assert "INV-2" in result.output


def test_ledger_check_reports_day_totals_that_disagree_and_rebuild_mends_them(
    tmp_path: Path,
) -> None:
    url = prepared_database(tmp_path)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE ledger_day SET invoiced = invoiced + 1 WHERE day = '2024-05-20'"
        )
    engine.dispose()
    broken = runner.invoke(app, ["ledger", "check", "--db", url])
    assert broken.exit_code == 1
    assert "2024-05-20" in broken.output and "day totals disagree" in broken.output
    assert runner.invoke(app, ["ledger", "rebuild-days", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["ledger", "check", "--db", url]).exit_code == 0


def test_commands_on_a_database_never_initialised_say_to_run_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["aging", "--db", url])
    assert result.exit_code == 1
    assert "run huikuan init first" in result.output
