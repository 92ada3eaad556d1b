"""The call assistant's catalogue: the ten classic excuses plus "other" installed once, a bad
file refused with every problem listed and nothing saved, an export imported back unchanged,
and the ``huikuan excuse`` commands. Both backends."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections.cli_calls import excuse_app
from huikuan.collections.excuses import (
    FOLLOW_UP_KINDS,
    export_excuses,
    import_excuses,
    install_default_excuses,
    list_excuses,
)
from huikuan.collections.models import Excuse
from huikuan.core.audit import AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.errors import InvalidInput
from huikuan.core.models import Company
from tests.actors import ACTOR

CLASSIC = {
    "customer_not_paid": (),
    "goods_not_sold": ("limit_review",),
    "quality_problem": ("dispute_window_check",),
    "boss_away": (),
    "already_paid": ("verify_payment",),
    "financial_difficulty": ("debt_acknowledgment", "credit_review", "limit_review"),
    "long_relationship": (),
    "reorganising": ("credit_review",),
    "missing_order_number": ("reissue_invoice", "confirm_amount"),
    "system_down": (),
    "other": (),
}

BAD = """
excuses:
  - code: Already-Paid
    title: ""
    facts:
      - {name: date, label: 日期, type: calendar}
      - {label: 没有名字}
    follow_ups: [verify_payment, call_the_police]
  - code: boss_away
    title: 老板不在
    colour: red
  - code: boss_away
    title: 老板又不在
    active: maybe
"""


def test_defaults_install_once_with_meaning_reply_facts_and_follow_ups(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        assert install_default_excuses(session, actor=ACTOR, company_id=company.id) == 11
    with unit_of_work(factory) as session:
        assert install_default_excuses(session, actor=ACTOR, company_id=company.id) == 0
        found = list_excuses(session, company_id=company.id)
    assert {e.code: e.follow_ups for e in found} == CLASSIC
    assert [e.code for e in found][-1] == "other"
    for e in found:
        assert e.meaning and e.reply and " / " in e.title
        assert set(e.follow_ups) <= set(FOLLOW_UP_KINDS)
    paid = next(e for e in found if e.code == "already_paid")
    assert [(f.name, f.type) for f in paid.facts] == [
        ("date", "date"),
        ("amount", "amount"),
        ("reference", "text"),
    ]
    away = next(e for e in found if e.code == "boss_away")
    assert {f.name for f in away.facts if not f.optional} == {"deputy", "deputy_phone"}


def test_a_bad_file_is_refused_with_every_problem_and_nothing_saved(
    factory: sessionmaker[Session], company: Company
) -> None:
    with pytest.raises(InvalidInput) as refused, unit_of_work(factory) as session:
        import_excuses(session, actor=ACTOR, company_id=company.id, text=BAD)
    problems = refused.value.message.split("；")
    text = refused.value.message
    assert "excuses[0].code" in text
    assert "title" in text
    assert "type" in text and "calendar" not in text.split("type")[0]
    assert "facts[1].name" in text
    assert "call_the_police" in text
    assert "unknown field colour" in text
    assert "boss_away appears twice" in text
    assert "active" in text
    assert len(problems) >= 8
    with pytest.raises(InvalidInput, match="not valid YAML"), unit_of_work(factory) as session:
        import_excuses(session, actor=ACTOR, company_id=company.id, text="excuses: [")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Excuse)) == 0


def test_export_imports_back_unchanged_and_an_edit_is_audited(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        install_default_excuses(session, actor=ACTOR, company_id=company.id)
        exported = export_excuses(session, company_id=company.id)
    with unit_of_work(factory) as session:
        counts = import_excuses(session, actor=ACTOR, company_id=company.id, text=exported)
    assert counts == {"created": 0, "updated": 0, "unchanged": 11}
    edited = exported.replace(
        "follow_ups: []\n  position: 10", "follow_ups: [credit_review]\n  position: 10"
    )
    assert edited != exported
    with unit_of_work(factory) as session:
        counts = import_excuses(session, actor=ACTOR, company_id=company.id, text=edited)
        again = import_excuses(session, actor=ACTOR, company_id=company.id, text=edited)
        updates = session.scalars(
            select(AuditRecord.entity_id).where(
                AuditRecord.entity == "excuse", AuditRecord.action == "update"
            )
        ).all()
    assert counts["updated"] == 1 and again == {"created": 0, "updated": 0, "unchanged": 11}
    assert updates == ["system_down"]
    with unit_of_work(factory) as session:  # installing again keeps the company's edit
        install_default_excuses(session, actor=ACTOR, company_id=company.id)
        system_down = session.scalars(select(Excuse).where(Excuse.code == "system_down")).one()
        assert system_down.follow_ups == "credit_review"


def test_the_excuse_commands(database_url: str, company: Company, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = typer.Typer()
    app.add_typer(excuse_app, name="excuse")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--db", database_url])
        assert result.exit_code == code, result.output
        return result.output

    assert "added 11" in run("excuse", "install")
    listed = run("excuse", "list")
    assert "already_paid" in listed and "verify_payment" in listed
    shown = run("excuse", "show", "boss_away")
    assert "--fact deputy_phone=" in shown and "suggested reply" in shown
    out = tmp_path / "excuses.yaml"
    run("excuse", "export", "-o", str(out))
    assert "unchanged 11" in run("excuse", "import", str(out))
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    refused = run("excuse", "import", str(bad), code=1)
    assert "nothing saved" in refused and "call_the_police" in refused and "colour" in refused
