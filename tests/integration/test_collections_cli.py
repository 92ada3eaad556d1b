"""``huikuan strategy``, ``daily``, ``actions`` and ``calendar`` as a credit manager uses them:
strategies imported, refused with every problem, exported and imported back unchanged; a
customer assigned by hand; the day's run (dry, real, again); a new year's holiday schedule."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from huikuan.cli import app
from huikuan.collections.models import CollectionAction, StrategyStep
from huikuan.core.audit import AuditRecord
from huikuan.core.db import make_engine, session_factory

from .test_cli import prepared_database

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def rows(url: str, model: type) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        found = int(session.scalar(select(func.count()).select_from(model)) or 0)
    engine.dispose()
    return found


def test_init_installs_the_default_strategies_and_rules(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    listed = run("strategy", "list", "--db", url)
    for code in (
        "project",
        "project_large",
        "dealer",
        "industrial",
        "retail_chain",
        "bad_customer",
    ):
        assert code in listed
    assert "standard" in listed and "*默认 default" in listed
    assert "逾期≥¥500,000.00 → project_large" in listed
    shown = run("strategy", "show", "retail_chain", "--db", url)
    assert "结算日-5 工作日" in shown and "电话任务" in shown


def test_import_refuses_a_bad_file_with_every_problem_and_saves_nothing(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    steps_before = rows(url, StrategyStep)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
strategies:
  - code: quick
    name: 快速
    steps:
      - {name: 短信, trigger: 0, channel: fax}
      - {name: 邮件, trigger: "三天", channel: email, template: no_such_template}
      - {name: 等待, trigger: 5, channel: phone_task, wait: -2}
rules:
  - {priority: 1, strategy: missing}
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["strategy", "import", str(bad), "--db", url])
    assert result.exit_code == 1
    assert "strategies[0].steps[0]: 未知渠道 fax" in result.output
    assert "strategies[0].steps[1]: trigger 应为整数天数" in result.output
    assert "模板 no_such_template 不存在" in result.output
    assert "strategies[0].steps[2]: wait 应在 0 到 3650 之间" in result.output
    assert "rules[0]: 策略 missing 不存在" in result.output
    assert rows(url, StrategyStep) == steps_before


def test_export_then_import_changes_nothing_and_an_edit_is_audited(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    exported = tmp_path / "strategies.yaml"
    run("strategy", "export", "-o", str(exported), "--db", url)
    again = run("strategy", "import", str(exported), "--db", url)
    assert "新建 created 0，更新 updated 0，未变 unchanged 7" in again
    # A GBK file from a Windows editor, with the dealer's supply stop brought forward.
    edited, found = re.subn(
        r"(name: 暂停供货\n\s+trigger: )45", r"\g<1>40", exported.read_text(encoding="utf-8")
    )
    assert found == 1
    exported.write_bytes(edited.encode("gbk"))
    assert "更新 updated 1" in run("strategy", "import", str(exported), "--db", url)
    assert "+40 天" in run("strategy", "show", "dealer", "--db", url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        change = session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "strategy", AuditRecord.action == "update"
            )
        ).one()
        assert '"trigger":45' in change.before and '"trigger":40' in change.after
    engine.dispose()


def test_daily_dry_run_then_run_then_again(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)  # C1 owes INV-1 (due 2024-01-31) and INV-2 (2024-06-19)
    run("strategy", "assign", "C1", "--strategy", "dealer", "--reason", "经销商", "--db", url)
    dry = run("daily", "--as-of", "2024-06-19", "--dry-run", "--db", url)
    assert dry.startswith("试运行 DRY RUN")
    assert rows(url, CollectionAction) == 0
    summary = json.loads(
        run("daily", "--as-of", "2024-06-19", "--no-send", "--format", "json", "--db", url)
    )
    # INV-1 is long overdue: it starts at the letter (+30), never jumping into the supply stop;
    # INV-2 falls due today, but its email and SMS would pass the cap of two contacts a week.
    assert summary["actions"] == {"letter": 1}
    assert summary["deferred_by_cap"] == 1
    assert summary["amounts"]["letter"] == 123_000_000  # what is left after a part payment
    again = json.loads(run("daily", "--as-of", "2024-06-19", "--format", "json", "--db", url))
    assert again["actions"] == {}
    listed = run("actions", "list", "--as-of", "2024-06-19", "--format", "csv", "--db", url)
    lines = listed.strip().splitlines()
    assert len(lines) == 2 and "催款函" in listed and "¥1,230,000.00" in listed
    holiday = run("daily", "--as-of", "2024-10-01", "--dry-run", "--db", url)
    assert "非工作日（国庆节）" in holiday


def test_a_new_years_schedule_is_imported_and_used(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    warned = run("daily", "--as-of", "2027-01-04", "--dry-run", "--db", url)
    assert "2027 年没有官方节假日安排" in warned
    schedule = tmp_path / "2027.csv"
    schedule.write_bytes(
        "日期,类型,名称\n2027-01-01,休,元旦\n2027-01-04,休,元旦\n2027-01-09,班,元旦调休\n".encode(
            "gbk"
        )
    )
    assert "休息日 holidays 2，调休上班 worked weekend days 1" in run(
        "calendar", "import", "2027", str(schedule), "--db", url
    )
    shown = run("calendar", "show", "2027", "--db", url)
    assert "2027-01-09  上班 workday" in shown and "没有节假日安排" not in shown
    assert "非工作日（元旦）" in run("daily", "--as-of", "2027-01-04", "--dry-run", "--db", url)
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型\n2027-02-30,休\n2027-02-11,放假\n", encoding="utf-8")
    result = runner.invoke(app, ["calendar", "import", "2027", str(bad), "--db", url])
    assert result.exit_code == 1
    assert "第 2 行 [日期]" in result.output and "第 3 行 [类型]" in result.output
    assert "2027-01-09  上班 workday" in run("calendar", "show", "2027", "--db", url)
