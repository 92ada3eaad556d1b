"""The credit blacklist on SQLite and PostgreSQL: listing, matching customers, removal kept as
history, and sharing the list as CSV with every bad row named and nothing duplicated."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.audit import history
from huikuan.core.company import create_company
from huikuan.core.errors import Conflict, ImportRejected, InvalidInput, RowError
from huikuan.core.models import Company
from huikuan.core.tabular import read_table
from huikuan.core.uscc import uscc_check_character
from huikuan.credit.blacklist import (
    EXPORT_HEADERS,
    active_entries,
    add_to_blacklist,
    blacklist_matches,
    export_blacklist,
    import_blacklist,
    remove_from_blacklist,
    write_blacklist_csv,
)
from huikuan.credit.models import BlacklistEntry
from tests.actors import ACTOR
from tests.integration.ledger_builders import customer

D = dt.date
BODY_A, BODY_B = "91310115MA1K4LXY0", "91440300MA5DC0QX1"
USCC_A = BODY_A + uscc_check_character(BODY_A)
USCC_B = BODY_B + uscc_check_character(BODY_B)
WRONG_CHECK = next(c for c in "0123456789" if c != USCC_B[-1])


def listed(session: Session, company: Company, name: str, **kw: object) -> BlacklistEntry:
    options: dict = {"reason": "长期拖欠货款", "listed_on": D(2025, 3, 1), **kw}
    return add_to_blacklist(session, actor=ACTOR, company_id=company.id, name=name, **options)


def count(session: Session, company: Company) -> int:
    query = select(func.count()).where(BlacklistEntry.company_id == company.id)
    return session.scalar(query.select_from(BlacklistEntry)) or 0


def csv_path(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "b.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_customer_with_a_listed_code_matches_whatever_its_name(
    session: Session, company: Company
) -> None:
    entry = listed(session, company, "上海坏账贸易有限公司", uscc=USCC_A.lower())
    cust = customer(session, company, name="改了名的公司")
    found = blacklist_matches(session, company_id=company.id, customer=cust, uscc=USCC_A)
    assert [(m.key, m.how, m.matched) for m in found] == [(entry.id, "uscc", USCC_A)]
    assert entry.uscc == USCC_A  # stored normalised
    assert entry.listed_by == ACTOR.name


def test_a_customers_own_credit_code_is_checked_and_matched(
    session: Session, company: Company, tmp_path: Path
) -> None:
    """Customers keep their code: a wrong one is refused with the reason, and a customer
    under a new name is still recognised by it."""
    from huikuan.customers.imports import import_customers

    entry = listed(session, company, "上海坏账贸易有限公司", uscc=USCC_A)
    with pytest.raises(InvalidInput, match="wrong check character"):
        customer(session, company, "C9", "新公司", uscc=USCC_B[:-1] + WRONG_CHECK)
    renamed = customer(session, company, "C1", "改了名的公司", uscc=USCC_A.lower())
    assert renamed.uscc == USCC_A
    found = blacklist_matches(session, company_id=company.id, customer=renamed)
    assert [(m.key, m.how) for m in found] == [(entry.id, "uscc")]
    bad = csv_path(
        tmp_path,
        f"客户编码,客户名称,统一社会信用代码\nC2,华南公司,{USCC_B[:-1] + WRONG_CHECK}\n",
        "gbk",
    )
    with pytest.raises(ImportRejected) as caught:
        import_customers(session, actor=ACTOR, company_id=company.id, table=read_table(bad),
                         overrides={}, as_of=D(2025, 3, 1))  # fmt: skip
    [error] = caught.value.errors
    assert (error.row, error.column) == (2, "统一社会信用代码") and "校验位错误" in error.reason


def test_a_name_matches_across_spacing_full_width_brackets_and_suffix(
    session: Session, company: Company
) -> None:
    entry = listed(session, company, "华东建材（上海）有限公司")
    cust = customer(session, company, name="华东 建材(上海)")
    found = blacklist_matches(session, company_id=company.id, customer=cust)
    assert [(m.key, m.how) for m in found] == [(entry.id, "name")]


def test_an_alias_on_the_entry_or_the_customer_matches(session: Session, company: Company) -> None:
    entry = listed(session, company, "北方重工股份有限公司", aliases=["北重集团"])
    by_their_alias = customer(session, company, "C1", name="北重集团有限公司")
    by_our_alias = customer(session, company, "C2", name="新名字", aliases="旧名|北方重工")
    for cust in (by_their_alias, by_our_alias):
        found = blacklist_matches(session, company_id=company.id, customer=cust)
        assert [(m.key, m.how) for m in found] == [(entry.id, "alias")]
    unrelated = customer(session, company, "C3", name="南方物流有限公司")
    assert blacklist_matches(session, company_id=company.id, customer=unrelated) == []


def test_a_second_entry_with_the_same_code_or_name_is_refused(
    session: Session, company: Company
) -> None:
    listed(session, company, "华东建材有限公司", uscc=USCC_A)
    with pytest.raises(Conflict, match="already listed"):
        listed(session, company, "别的名字", uscc=USCC_A)
    with pytest.raises(Conflict, match="already listed"):
        listed(session, company, "华东建材 有限公司")
    assert count(session, company) == 1


def test_name_reason_and_code_are_checked(session: Session, company: Company) -> None:
    with pytest.raises(InvalidInput, match="name is empty"):
        listed(session, company, "  ")
    with pytest.raises(InvalidInput, match="reason is empty"):
        listed(session, company, "某公司", reason="")
    with pytest.raises(InvalidInput, match=f"expected {USCC_B[-1]}, got {WRONG_CHECK}"):
        listed(session, company, "某公司", uscc=USCC_B[:-1] + WRONG_CHECK)
    assert count(session, company) == 0


def test_removal_keeps_the_row_and_stops_matching(session: Session, company: Company) -> None:
    entry = listed(session, company, "华东建材有限公司", uscc=USCC_A)
    cust = customer(session, company, name="华东建材有限公司")
    remove_from_blacklist(
        session, actor=ACTOR, company_id=company.id, entry_id=entry.id, removed_on=D(2025, 6, 1)
    )
    session.commit()
    assert blacklist_matches(session, company_id=company.id, customer=cust, uscc=USCC_A) == []
    assert active_entries(session, company_id=company.id) == []
    kept = session.get(BlacklistEntry, entry.id)
    assert kept is not None
    assert (kept.removed_on, kept.removed_by) == (D(2025, 6, 1), ACTOR.name)
    with pytest.raises(Conflict, match="already removed"):
        remove_from_blacklist(
            session, actor=ACTOR, company_id=company.id, entry_id=entry.id, removed_on=D(2025, 7, 1)
        )
    listed(session, company, "华东建材有限公司", uscc=USCC_A)  # may be listed again


def test_every_change_is_in_the_audit_trail(session: Session, company: Company) -> None:
    entry = listed(session, company, "华东建材有限公司", uscc=USCC_A)
    remove_from_blacklist(
        session, actor=ACTOR, company_id=company.id, entry_id=entry.id, removed_on=D(2025, 6, 1)
    )
    records = history(session, company_id=company.id, entity="blacklist", entity_id=entry.id)
    assert [r.action for r in records] == ["add", "remove"]
    assert json.loads(records[0].after)["uscc"] == USCC_A
    assert json.loads(records[1].after)["removed_on"] == "2025-06-01"
    assert {r.actor for r in records} == {ACTOR.name}


HEADER = "名称,别名,统一社会信用代码,列入原因,证据说明,来源,列入日期\n"


def test_an_import_with_bad_rows_writes_nothing_and_names_each_row_and_column(
    session: Session, company: Company, tmp_path: Path
) -> None:
    text = HEADER + (
        f"好公司有限公司,,{USCC_A},拖欠,,,2025-01-05\n"
        ",,,拖欠,,,2025-01-05\n"
        f"坏码公司,,{USCC_B[:-1]}{WRONG_CHECK},拖欠,,,2025-01-05\n"
        "坏日期公司,,,拖欠,,,2025-02-30\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        import_blacklist(
            session, actor=ACTOR, company_id=company.id, table=read_table(csv_path(tmp_path, text))
        )
    errors = rejected.value.errors
    assert [(e.row, e.column) for e in errors] == [
        (3, "名称"),
        (4, "统一社会信用代码"),
        (5, "列入日期"),
    ]
    assert f"expected {USCC_B[-1]}" in errors[1].reason
    assert "no such date" in errors[2].reason
    session.rollback()
    assert count(session, company) == 0


def test_a_repeated_row_in_one_file_is_reported(
    session: Session, company: Company, tmp_path: Path
) -> None:
    text = HEADER + "甲公司,,,拖欠,,,\n甲 公司,,,拖欠,,,\n"
    with pytest.raises(ImportRejected) as rejected:
        import_blacklist(
            session, actor=ACTOR, company_id=company.id, table=read_table(csv_path(tmp_path, text))
        )
    assert rejected.value.errors == [RowError(3, "名称", "与第 2 行重复 / duplicate of row 2")]


def test_a_gbk_file_imports_and_importing_it_again_adds_nothing(
    session: Session, company: Company, tmp_path: Path
) -> None:
    text = HEADER + (
        f"华东建材有限公司,华东集团|华东建材厂,{USCC_A},拖欠货款两年,判决书（2024）沪01,,2024/12/1\n"
        "南方贸易有限公司,,,空壳公司,,,\n"
    )
    table = read_table(csv_path(tmp_path, text, "gbk"))
    first = import_blacklist(
        session, actor=ACTOR, company_id=company.id, table=table, source="伙伴甲"
    )
    again = import_blacklist(
        session, actor=ACTOR, company_id=company.id, table=table, source="伙伴甲"
    )
    session.commit()
    assert (first.created, first.unchanged, again.created, again.unchanged) == (2, 0, 0, 2)
    entries = active_entries(session, company_id=company.id)
    assert [(e.name, e.aliases, e.source, e.listed_on) for e in entries] == [
        ("华东建材有限公司", "华东集团|华东建材厂", "伙伴甲", D(2024, 12, 1)),
        ("南方贸易有限公司", "", "伙伴甲", ACTOR.at.date()),
    ]
    imports = history(session, company_id=company.id, entity="import", entity_id="blacklist")
    assert len(imports) == 2
    assert json.loads(imports[0].after)["file_sha256"] == table.sha256


def test_an_export_imported_into_another_company_round_trips(
    session: Session, company: Company, tmp_path: Path
) -> None:
    listed(session, company, "华东建材有限公司", uscc=USCC_A, aliases=["华东集团", "华东厂"],
           evidence="判决书, \"2024\" 号", source="ours")  # fmt: skip
    listed(session, company, "南方贸易有限公司", reason="空壳公司\n法人失联")
    gone = listed(session, company, "已移出公司")
    remove_from_blacklist(
        session, actor=ACTOR, company_id=company.id, entry_id=gone.id, removed_on=D(2025, 4, 1)
    )
    rows = export_blacklist(session, company_id=company.id)
    path = tmp_path / "share.csv"
    assert write_blacklist_csv(path, rows) == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbfname,aliases,uscc,reason")
    partner = create_company(session, code="partner", name="伙伴")
    result = import_blacklist(session, actor=ACTOR, company_id=partner.id, table=read_table(path))
    session.commit()
    assert result.created == 2
    assert export_blacklist(session, company_id=partner.id) == rows
    assert list(rows[0]) == list(EXPORT_HEADERS)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert [r["name"] for r in csv.DictReader(handle)] == [
            "华东建材有限公司",
            "南方贸易有限公司",
        ]
