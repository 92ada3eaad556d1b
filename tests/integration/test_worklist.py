"""The collector's worklist on 2 December 2026: a call task, a broken promise, a new dispute,
a large new overdue and a promise due today each appear with their reason, ranked by the
expected value of acting today; a quiet overdue customer and another collector's customers
do not; the filters; the payment habits from history; the workbook. Both backends."""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction

import pytest
import typer
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections.cli_worklist import worklist_command
from huikuan.collections.contact_log import log_contact
from huikuan.collections.disputes import raise_dispute
from huikuan.collections.models import CollectionAction, StrategyStep
from huikuan.collections.promises import check_promises, record_promise
from huikuan.collections.worklist import worklist, worklist_xlsx
from huikuan.core.calendar import load_calendar
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.ledger.service import record_payment
from tests.actors import ACTOR

from .collection_builders import bill, debtor, with_strategies

D = dt.date
AS_OF = D(2026, 12, 2)
ORDER = ["LARGE", "DISPUTE", "BROKEN", "TASK", "PROMISE"]


@pytest.fixture
def desk(factory: sessionmaker[Session], company: Company) -> sessionmaker[Session]:
    """王芳's customers, each with one reason to call today (values with no credit grade,
    collectability 0.75):

    * LARGE (dealer, salesperson 周杰): ¥80,000 fallen due 4 days ago → 80,000 × 0.75 × 1.3;
    * DISPUTE: ¥50,000 due 22 days ago, ¥10,000 disputed yesterday → 40,000 × 0.675 × 1.3;
    * BROKEN: ¥30,000 due 17 days ago, promise broken yesterday → 30,000 × 0.6 × 1.5;
    * TASK: ¥20,000 due 10 days ago, an open call task → 20,000 × 0.75 × 1.5, with history;
    * PROMISE: ¥15,000 promised today → 15,000 × 0.75 × 1.5;
    * QUIET: ¥10,000 overdue 30 days, nothing new — not listed.
    赵六's OTHER has a large new overdue: on his list, never on 王芳's."""
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        large = debtor(session, company, "LARGE", kind="dealer")
        large.salesperson = "周杰"
        bill(session, company, large, "L-1", D(2026, 11, 28), 8_000_000)
        disputed = debtor(session, company, "DISPUTE")
        bill(session, company, disputed, "D-1", D(2026, 11, 10), 5_000_000)
        raise_dispute(
            session,
            actor=ACTOR,
            company_id=company.id,
            invoice_number="D-1",
            amount=1_000_000,
            reason="quality",
            raised_on=D(2026, 12, 1),
        )
        broken = debtor(session, company, "BROKEN")
        bill(session, company, broken, "B-1", D(2026, 11, 15), 3_000_000)
        record_promise(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=broken,
            invoice_numbers=["B-1"],
            instalments=[(D(2026, 11, 20), 3_000_000)],
            made_on=D(2026, 11, 16),
        )
        promised = debtor(session, company, "PROMISE")
        bill(session, company, promised, "P-1", D(2026, 11, 1), 1_500_000)
        record_promise(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=promised,
            invoice_numbers=["P-1"],
            instalments=[(AS_OF, 1_500_000)],
            made_on=D(2026, 11, 25),
        )
        check_promises(session, company_id=company.id, as_of=D(2026, 12, 1), actor=ACTOR)
        quiet = debtor(session, company, "QUIET")
        bill(session, company, quiet, "Q-1", D(2026, 11, 2), 1_000_000)
        other = debtor(session, company, "OTHER", collector="赵六")
        bill(session, company, other, "O-1", D(2026, 11, 30), 9_000_000)
        _task_customer(session, company)
    return factory


def _task_customer(session: Session, company: Company) -> None:
    """TASK: paid four invoices late (20, 5, 15 and 5 days, on the 30th, 15th, 25th and 15th),
    reached 李会计 twice at about ten and 张总 once; the last call went unanswered."""
    customer = debtor(session, company, "TASK")
    history = [
        ("H-1", D(2026, 6, 10), D(2026, 6, 30)),
        ("H-2", D(2026, 8, 10), D(2026, 8, 15)),
        ("H-3", D(2026, 9, 10), D(2026, 9, 25)),
        ("H-4", D(2026, 10, 10), D(2026, 10, 15)),
    ]
    for number, due, paid in history:
        bill(session, company, customer, number, due, 500_000)
        record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=customer,
            received_on=paid,
            amount=500_000,
            invoice_numbers=[number],
        )
    bill(session, company, customer, "T-1", D(2026, 11, 22), 2_000_000)
    calendar = load_calendar(session, company_id=company.id)
    for at, reached, outcome in [
        (dt.datetime(2026, 11, 10, 10, 30), "李会计", "reached"),
        (dt.datetime(2026, 11, 20, 10, 5), "李会计", "reached"),
        (dt.datetime(2026, 11, 25, 15, 0), "张总", "reached"),
        (dt.datetime(2026, 12, 1, 9, 0), "", "no_answer"),
    ]:
        log_contact(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=customer,
            contacted_at=at,
            channel="phone",
            outcome=outcome,
            reached=reached,
            calendar=calendar,
        )
    step = session.scalars(select(StrategyStep).where(StrategyStep.channel == "phone_task")).one()
    session.add(
        CollectionAction(
            company_id=company.id,
            customer_id=customer.id,
            as_of=D(2026, 12, 1),
            strategy_id=step.strategy_id,
            step_id=step.id,
            step_name=step.name,
            channel="phone_task",
            amount=2_000_000,
            invoice_count=1,
            status="open",
            assignee="王芳",
            created_at=dt.datetime(2026, 12, 1, 8, 0),
        )
    )


def test_each_reason_appears_ranked_by_expected_value(
    desk: sessionmaker[Session], company: Company
) -> None:
    with desk() as session:
        rows = worklist(session, company_id=company.id, collector="王芳", as_of=AS_OF)
    assert [r.code for r in rows] == ORDER
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5]
    reasons = {r.code: [reason.code for reason in r.reasons] for r in rows}
    assert reasons == {
        "LARGE": ["large_new_overdue"],
        "DISPUTE": ["new_dispute"],
        "BROKEN": ["broken_promise"],
        "TASK": ["call_due"],
        "PROMISE": ["promise_today"],
    }
    by_code = {r.code: r for r in rows}
    assert by_code["TASK"].why == "电话任务到期 / call due"
    assert [r.value for r in rows] == [7_800_000, 3_510_000, 2_700_000, 2_250_000, 1_687_500]
    assert by_code["DISPUTE"].at_stake == 4_000_000  # the disputed part is not chased
    assert by_code["PROMISE"].at_stake == 1_500_000 and by_code["PROMISE"].chased_overdue == 0
    assert by_code["TASK"].task_id is not None and by_code["LARGE"].task_id is None
    assert by_code["BROKEN"].days_overdue == 17


def test_habits_from_history(desk: sessionmaker[Session], company: Company) -> None:
    with desk() as session:
        rows = worklist(session, company_id=company.id, collector="王芳", as_of=AS_OF)
    habits = {r.code: r.habits for r in rows}["TASK"]
    assert habits.typical_pay_day == 15
    assert habits.average_days_late == Fraction(45, 4)  # 20, 5, 15, 5
    assert habits.recent_days_late == Fraction(25, 3)  # the last three: 5, 15, 5
    assert habits.last_contact_at == dt.datetime(2026, 12, 1, 9, 0)
    assert habits.last_outcome == "no_answer"
    assert habits.best_contact == "李会计"
    assert habits.best_hour == 10
    quiet = {r.code: r.habits for r in rows}["LARGE"]
    assert quiet.typical_pay_day is None and quiet.last_contact_at is None


def test_other_collectors_and_filters(desk: sessionmaker[Session], company: Company) -> None:
    with desk() as session:

        def codes(**kw: object) -> list[str]:
            base: dict[str, object] = {"company_id": company.id, "as_of": AS_OF}
            return [r.code for r in worklist(session, **(base | kw))]  # type: ignore[arg-type]

        assert codes(collector="赵六") == ["OTHER"]
        assert codes(collector=None) == ["OTHER", *ORDER]
        assert codes(collector="王芳", customer_type="dealer") == ["LARGE"]
        assert codes(collector="王芳", salesperson="李强") == ORDER[1:]
        assert codes(collector="王芳", min_amount=2_500_000) == ["LARGE", "DISPUTE", "BROKEN"]
        assert codes(collector="王芳", min_amount=1_500_000, max_amount=2_000_000) == [
            "TASK",
            "PROMISE",
        ]
        assert codes(collector="王芳", limit=2) == ORDER[:2]
        assert codes(collector="nobody") == []


def test_workbook_and_command(
    desk: sessionmaker[Session], company: Company, database_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with desk() as session:
        rows = worklist(session, company_id=company.id, collector="王芳", as_of=AS_OF)
    sheet = load_workbook(io.BytesIO(worklist_xlsx(rows))).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    assert len(table) == 1 + len(ORDER)
    header = list(table[0])
    assert [row[header.index("客户编码 Code")] for row in table[1:]] == ORDER
    value = header.index("期望回收 Expected value")
    stake = header.index("涉及金额 At stake")
    assert [row[value] for row in table[1:]] == [78000, 35100, 27000, 22500, 16875]
    assert table[2][stake] == 40000
    cell = sheet.cell(row=2, column=value + 1)
    assert cell.number_format == "#,##0.00"
    task = table[1 + ORDER.index("TASK")]
    assert task[header.index("最近联系 Last contact")] == dt.datetime(2026, 12, 1)
    assert task[header.index("最佳联系人 Best contact")] == "李会计"

    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("worklist")(worklist_command)
    runner = CliRunner()
    common = ["--collector", "王芳", "--as-of", "2026-12-02", "--db", database_url]
    shown = runner.invoke(app, ["worklist", *common])
    assert shown.exit_code == 0, shown.output
    assert shown.output.index("LARGE") < shown.output.index("DISPUTE") < shown.output.index("TASK")
    assert "电话任务到期 / call due" in shown.output and "李会计" in shown.output
    assert "OTHER" not in shown.output
    path = tmp_path / "w.xlsx"
    saved = runner.invoke(app, ["worklist", *common, "--min", "50000", "--format", "xlsx",
                                "-o", str(path)])  # fmt: skip
    assert saved.exit_code == 0, saved.output
    written = load_workbook(path).active
    assert written is not None and written.max_row == 2 and written.cell(2, 2).value == "LARGE"
    refused = runner.invoke(app, ["worklist", *common, "--format", "xlsx"])
    assert refused.exit_code == 1 and "-o" in refused.output
