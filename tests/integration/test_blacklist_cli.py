"""``huikuan credit blacklist`` as a user runs it, on SQLite and PostgreSQL. The commands are
mounted on a small app here; the real ``huikuan`` command mounts them under ``credit``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import typer
from alembic import command
from sqlalchemy.orm import Session
from typer.testing import CliRunner

# The command module first: cli_blacklist imports its options from it, and once it mounts the
# blacklist commands, loading cli_blacklist first would be a circular import.
import huikuan.cli  # noqa: F401
from huikuan.core.company import create_company
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.migrate import alembic_config
from huikuan.core.models import Company
from huikuan.core.uscc import uscc_check_character
from huikuan.credit.cli_blacklist import blacklist_app
from huikuan.models import metadata
from tests.integration.ledger_builders import customer

runner = CliRunner()
app = typer.Typer()
app.add_typer(blacklist_app, name="blacklist")
BODY = "91310115MA1K4LXY0"
USCC = BODY + uscc_check_character(BODY)


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["blacklist", *args, "--db", url])
    return result.exit_code, result.stdout, result.stderr


def with_customers(session: Session, company: Company) -> None:
    customer(session, company, "C1", name="华东建材(上海)有限公司")
    customer(session, company, "C2", name="新名字", aliases="北重")
    customer(session, company, "C3", name="南方物流有限公司")
    session.commit()


def test_a_listed_customer_is_found_by_name_alias_or_code(
    database_url: str, session: Session, company: Company
) -> None:
    with_customers(session, company)
    code, out, _ = run(
        database_url, "add", "华东建材（上海）有限公司", "--reason", "拖欠货款",
        "--uscc", USCC, "--alias", "北重", "--alias", "华东集团", "--listed-on", "2025-03-01",
    )  # fmt: skip
    assert code == 0, out
    assert "listed: 1" in out
    code, out, _ = run(database_url, "check", "C1")
    assert (code, out) == (
        1,
        "命中 match: entry 1\t名称 name\t华东建材（上海）有限公司\t(华东建材(上海)有限公司)\n",
    )
    code, out, _ = run(database_url, "check", "C2")
    assert code == 1 and "别名 alias\t北重" in out
    code, out, _ = run(database_url, "check", "C3", "--uscc", USCC.lower())
    assert code == 1 and f"统一社会信用代码 uscc\t{USCC}" in out
    code, out, _ = run(database_url, "check", "C3")
    assert (code, out) == (0, "未在名单中 not on the blacklist: C3\n")


def test_a_bad_code_and_a_duplicate_are_refused_with_bilingual_messages(
    database_url: str, company: Company
) -> None:
    wrong = USCC[:-1] + ("1" if USCC[-1] != "1" else "2")
    code, _, err = run(database_url, "add", "某公司", "--reason", "x", "--uscc", wrong)
    assert code == 1
    assert f"校验位错误：应为 {USCC[-1]}" in err and f"expected {USCC[-1]}" in err
    assert run(database_url, "add", "某公司", "--reason", "x")[0] == 0
    code, _, err = run(database_url, "add", "某 公司", "--reason", "y")
    assert code == 1 and "already listed" in err
    code, _, err = run(database_url, "add", "某公司", "--reason", "x", "--listed-on", "2025-13-01")
    assert code == 2 and "--listed-on" in err


def test_removed_entries_leave_the_list_and_the_check(
    database_url: str, session: Session, company: Company
) -> None:
    with_customers(session, company)
    run(database_url, "add", "南方物流", "--reason", "空壳", "--listed-on", "2025-01-01")
    assert run(database_url, "check", "C3")[0] == 1
    code, out, _ = run(database_url, "remove", "1", "--removed-on", "2025-02-01")
    assert (code, out) == (0, "已移出 removed: 1\n")
    assert run(database_url, "check", "C3")[0] == 0
    assert run(database_url, "list")[1] == "id\tname\taliases\tuscc\treason\tsource\tlisted_on\n"
    code, _, err = run(database_url, "remove", "1")
    assert code == 1 and "already removed" in err
    code, _, err = run(database_url, "check", "NOPE")
    assert code == 1 and "错误 error" in err


def test_export_list_and_import_into_another_database(
    database_url: str, company: Company, tmp_path: Path
) -> None:
    run(database_url, "add", "华东建材有限公司", "--reason", "拖欠", "--uscc", USCC,
        "--alias", "华东集团", "--source", "ours", "--listed-on", "2025-03-01")  # fmt: skip
    run(database_url, "add", "南方贸易", "--reason", "空壳, 失联", "--listed-on", "2025-03-02")
    code, out, _ = run(database_url, "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["id"], r["name"], r["reason"]) for r in rows] == [
        ("1", "华东建材有限公司", "拖欠"), ("2", "南方贸易", "空壳, 失联"),
    ]  # fmt: skip
    shared = tmp_path / "shared.csv"
    assert run(database_url, "export", str(shared))[:2] == (
        0, f"已导出 2 行 / exported 2 rows: {shared}\n",
    )  # fmt: skip
    other = other_database(tmp_path)
    code, out, _ = run(other, "import", str(shared), "--source", "伙伴甲")
    assert (code, out) == (0, "blacklist: 2 created, 0 unchanged\n")
    assert run(other, "import", str(shared))[1] == "blacklist: 0 created, 2 unchanged\n"
    table = run(other, "list")[1].splitlines()
    assert table[1].split("\t")[1:] == [
        "华东建材有限公司",
        "华东集团",
        USCC,
        "拖欠",
        "伙伴甲",
        "2025-03-01",
    ]


def test_an_import_with_bad_rows_reports_each_and_writes_nothing(
    database_url: str, company: Company, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    text = "名称,统一社会信用代码,原因,列入日期\n甲公司,,拖欠,2025-01-01\n,,拖欠,\n乙公司,ABC,拖欠,昨天\n"
    path.write_bytes(text.encode("gbk"))
    code, _, err = run(database_url, "import", str(path))
    assert code == 1
    assert "第 3 行 [名称]" in err
    assert "第 4 行 [统一社会信用代码]" in err and "第 4 行 [列入日期]" in err
    assert run(database_url, "list")[1].count("\n") == 1  # the header only


def other_database(tmp_path: Path) -> str:
    """A second SQLite database with one company, as a partner company would have."""
    url = f"sqlite:///{tmp_path / 'partner.db'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    with unit_of_work(session_factory(engine)) as session:
        create_company(session, code="partner", name="伙伴公司")
    engine.dispose()
    command.stamp(alembic_config(url), "head")
    return url
