"""Contracts on SQLite and PostgreSQL: set and changed by the command (audited, idempotent),
refused terms, and their late-fee terms charged: an annual rate with its day count, and
compounding only when the contract says so. The promise grace comes from the settings."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli
from huikuan.collections import fee_rules
from huikuan.collections.late_fees import charge_late_fees
from huikuan.collections.models import CollectionSettings, LateFeeCharge
from huikuan.collections.promises import promise_grace
from huikuan.core.audit import AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.customers.contracts import DAY_COUNTS, ContractTerms, set_contract
from huikuan.customers.models import Contract
from tests.actors import ACTOR
from tests.integration.collection_builders import bill, debtor

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
runner = CliRunner()


def invoke(database_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(huikuan.cli.app, [*args, "--db", database_url])
    return result.exit_code, result.output


def test_the_day_counts_are_those_the_fee_rules_know() -> None:
    assert set(DAY_COUNTS) == {d.value for d in fee_rules.DayCount}


def test_a_contract_is_set_changed_and_audited_by_the_command(
    factory: sessionmaker[Session], company: Company, database_url: str
) -> None:
    with unit_of_work(factory) as session:
        debtor(session, company, "C001")
    code, out = invoke(
        database_url, "contract", "set", "C001", "HT-2026-01", "--signed-on", "2026-01-05",
        "--annual-rate", "18%", "--day-count", "actual/360", "--grace", "3",
    )  # fmt: skip
    assert code == 0, out
    # The same terms again change nothing; other terms are an audited update.
    assert invoke(
        database_url, "contract", "set", "C001", "HT-2026-01", "--signed-on", "2026-01-05",
        "--annual-rate", "0.18", "--day-count", "actual/360", "--grace", "3",
    )[0] == 0  # fmt: skip
    code, out = invoke(
        database_url, "contract", "set", "C001", "HT-2026-01", "--signed-on", "2026-01-05",
        "--daily-rate", "0.0005",
    )  # fmt: skip
    assert code == 0, out
    with factory() as session:
        contract = session.scalars(select(Contract)).one()
        assert contract.late_fee_rate_per_day == Decimal("0.0005")
        assert contract.late_fee_rate_per_year == 0
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.entity == "contract").order_by(AuditRecord.id)
        ).all()
    assert [r.action for r in records] == ["create", "update"]
    assert json.loads(records[1].before or "{}")["late_fee_rate_per_year"] == "0.18"
    code, out = invoke(database_url, "contract", "list", "--customer", "C001")
    assert code == 0
    assert "HT-2026-01" in out and "0.0005/day" in out and "grace 0d" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--daily-rate", "0.0005", "--annual-rate", "0.18"), "not both"),
        (("--annual-rate", "0.18", "--day-count", "30/360"), "day count must be one of"),
        (("--daily-rate", "0.02"), "daily rate must be 0 to 0.01"),
        (("--daily-rate", "0.00051234"), "at most six decimals"),
        (("--ends-on", "2025-12-31"), "ends before it was signed"),
        (("--daily-rate", "abc"), "cannot read abc"),
    ],
)
def test_refused_terms_say_why_and_write_nothing(
    factory: sessionmaker[Session],
    company: Company,
    database_url: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    with unit_of_work(factory) as session:
        debtor(session, company, "C001")
    code, out = invoke(
        database_url, "contract", "set", "C001", "HT-1", "--signed-on", "2026-01-05", *args
    )
    assert code != 0
    assert message in out
    with factory() as session:
        assert session.scalars(select(Contract)).all() == []


def _contract(factory: sessionmaker[Session], company: Company, terms: ContractTerms) -> None:
    with unit_of_work(factory) as session:
        customer = debtor(session, company, "C001")
        set_contract(session, actor=ACTOR, customer=customer, number="HT-1", terms=terms)
        # Due 2026-09-30 (a Wednesday, a working day): the fee runs from 10-01 …
        bill(session, company, customer, "INV-1", D(2026, 9, 30), 100_000_00)


def _charged(factory: sessionmaker[Session], company: Company) -> list[tuple[dt.date, int, str]]:
    with unit_of_work(factory) as session:
        charge_late_fees(session, company_id=company.id, as_of=D(2026, 12, 1), actor=ACTOR)
    with factory() as session:
        return [
            (row.period_end, row.amount, row.rate)
            for row in session.scalars(select(LateFeeCharge).order_by(LateFeeCharge.period_end))
        ]


def test_an_annual_rate_is_charged_with_its_day_count(
    factory: sessionmaker[Session], company: Company
) -> None:
    _contract(
        factory,
        company,
        ContractTerms(
            signed_on=D(2026, 1, 1),
            late_fee_rate_per_year=Decimal("0.18"),
            late_fee_day_count="actual/360",
        ),
    )
    # October: 31 days × 100,000.00 × 18% / 360 = 1,550.00; November: 30 days → 1,500.00.
    assert _charged(factory, company) == [
        (D(2026, 10, 31), 1_550_00, "0.18/year actual/360"),
        (D(2026, 11, 30), 1_500_00, "0.18/year actual/360"),
    ]


def test_fees_compound_monthly_only_when_the_contract_says_so(
    factory: sessionmaker[Session], company: Company
) -> None:
    _contract(
        factory,
        company,
        ContractTerms(
            signed_on=D(2026, 1, 1),
            late_fee_rate_per_day=Decimal("0.001"),
            late_fee_compound=True,
        ),
    )
    # October: 31 × 100,000.00 × 0.1% = 3,100.00; November on 103,100.00: 30 × 103.10 = 3,093.00.
    assert _charged(factory, company) == [
        (D(2026, 10, 31), 3_100_00, "0.001/day compound"),
        (D(2026, 11, 30), 3_093_00, "0.001/day compound"),
    ]


def test_simple_fees_do_not_compound(factory: sessionmaker[Session], company: Company) -> None:
    _contract(
        factory,
        company,
        ContractTerms(signed_on=D(2026, 1, 1), late_fee_rate_per_day=Decimal("0.001")),
    )
    assert [amount for _, amount, _ in _charged(factory, company)] == [3_100_00, 3_000_00]


def test_the_promise_grace_is_the_company_setting(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        assert promise_grace(session, company_id=company.id) == 2
        session.add(CollectionSettings(company_id=company.id, promise_grace_workdays=5))
    with factory() as session:
        assert promise_grace(session, company_id=company.id) == 5
