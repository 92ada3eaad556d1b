"""``huikuan credit`` as a credit manager uses it: assess, score and explain, set a limit by
hand with an approver, save a policy version, group limits, and the review in JSON and Excel."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from huikuan.cli import app
from huikuan.core.company import resolve_company
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.users.service import create_user
from tests.actors import ACTOR

from .test_cli import prepared_database

runner = CliRunner()


def credit_manager(url: str) -> None:
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        company = resolve_company(session, None)
        create_user(session, actor=ACTOR, company_id=company.id, username="li", display_name="李信用",
                    role="credit_manager", password="credit-2026")  # fmt: skip
        create_user(session, actor=ACTOR, company_id=company.id, username="zhao", display_name="赵销售",
                    role="sales", password="sales-2026x")  # fmt: skip
    engine.dispose()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_assess_score_limit_policy_group_and_review(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)  # customer C1 with two invoices, one paid in part
    credit_manager(url)
    db = ("--db", url)
    refused = runner.invoke(
        app, ["credit", "assess", "C1", "--date", "2024-06-10", "--statement", "2023,0,100", *db]
    )
    assert refused.exit_code == 1 and "有负债却没有资产" in refused.output
    run("credit", "assess", "C1", "--date", "2024-06-10", "--statement", "2023|10,000,000|4,000,000|5,000,000|2,000,000|30,000,000|1,500,000|2,000,000",
        "--founded", "2012-05-01", "--employees", "120", "--reputation", "4", "--flag", "litigation:裁判文书网:2024-05-01", *db)  # fmt: skip
    explained = run("credit", "score", "C1", "--as-of", "2024-06-15", *db)
    assert "资产负债率 Debt ratio: 0.4 → 100 pts × weight 1" in explained
    assert "信用报告等级" in explained and "缺失 missing" in explained
    assert "grade capped at BBB" in explained  # sued for payment: BBB at best
    grade = explained.split("等级 grade ")[1].split()[0]
    assert grade in ("BBB", "BB", "B", "C")

    no_approver = runner.invoke(app, ["credit", "limit", "C1", "--amount", "88,888.00", "--reason", "旺季", "--approver", "zhao", "--as-of", "2024-06-15", *db])  # fmt: skip
    assert (
        no_approver.exit_code == 1 and "no user zhao who may approve credit" in no_approver.output
    )
    set_by_hand = run("credit", "limit", "C1", "--amount", "88,888.00", "--reason", "旺季备货", "--expires", "2024-07-31",
                      "--approver", "li", "--as-of", "2024-06-15", *db)  # fmt: skip
    assert (
        "approved by li" in set_by_hand
        and "¥88,888.00 (override 至 until 2024-07-31)" in set_by_hand
    )
    after = run("credit", "limit", "C1", "--as-of", "2024-08-01", *db)
    assert "(policy)" in after  # the temporary limit ended

    policy = json.loads(run("credit", "policy", "show", *db))
    policy["max_days_overdue"] = 10
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy), encoding="utf-8")
    assert "policy version 2" in run(
        "credit", "policy", "set", str(path), "--name", "收紧逾期", *db
    )
    assert json.loads(run("credit", "policy", "show", *db))["max_days_overdue"] == 10
    path.write_text(json.dumps({"dimension_weights": {"payment": -1}}), encoding="utf-8")
    bad = runner.invoke(app, ["credit", "policy", "set", str(path), *db])
    assert bad.exit_code == 1 and "dimension weights cannot be negative" in bad.output

    assert "group G1" in run(
        "credit",
        "group",
        "set",
        "G1",
        "--name",
        "华东集团",
        "--limit",
        "100000",
        "--member",
        "C1",
        *db,
    )

    review = json.loads(run("credit", "review", "--as-of", "2024-06-15", "--format", "json", *db))
    row = review["customers"][0]
    # INV-1 (due 2024-01-31) is 136 days overdue, beyond the new policy's 10 days.
    assert (
        row["customer"] == "C1"
        and "overdue" in row["reasons"]
        and row["oldest_overdue_days"] == 136
    )
    out = tmp_path / "review.xlsx"
    run(
        "credit",
        "review",
        "--as-of",
        "2024-06-15",
        "--format",
        "xlsx",
        "-o",
        str(out),
        "--rescore",
        *db,
    )
    sheet = load_workbook(out).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("客户编码", "客户名称", "原因") and rows[1][0] == "C1"
    assert "有超过政策天数的逾期" in rows[1][2] and rows[1][9] in (
        "AAA",
        "AA",
        "A",
        "BBB",
        "BB",
        "B",
        "C",
    )
