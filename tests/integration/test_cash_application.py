"""Bank statements imported and applied, on SQLite and PostgreSQL: re-imports and overlapping
statements add nothing twice, sure lines become payments applied to the fen, unsure ones wait
with their candidates, a clerk's confirmation teaches the payer name, every automatic decision
can be undone, and two clerks applying one line at once record exactly one payment."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.core.audit import Actor
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice, Payment
from huikuan.reconciliation.bank_import import import_bank_statement
from huikuan.reconciliation.matching import apply_line, match_waiting, undo_line
from huikuan.reconciliation.models import BankLine, MatchSuggestion, PayerAlias
from tests.integration.collection_builders import bill, debtor

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
SAMPLES = Path(__file__).parent.parent / "samples" / "bank"
FIRST = (SAMPLES / "icbc_2024-03a_gbk.csv").read_bytes()
SECOND = (SAMPLES / "icbc_2024-03b_gbk.csv").read_bytes()
CLERK = Actor(name="lijing", source="pytest", at=dt.datetime(2024, 3, 21, 9, 30))


def ledger(factory: sessionmaker[Session], company: Company) -> None:
    """The customers behind the sample ICBC export and what they owe."""
    with unit_of_work(factory) as session:
        mingyuan = debtor(session, company, "C001", name="杭州明远五金制品有限公司")
        bill(session, company, mingyuan, "INV-2024-0102", D(2024, 3, 10), 50_000_00, issued=D(2024, 2, 10))  # fmt: skip
        bill(session, company, mingyuan, "INV-2024-0110", D(2024, 3, 30), 8_000_00, issued=D(2024, 2, 28))  # fmt: skip
        qihang = debtor(session, company, "C002", name="苏州工业园区启航电子有限公司")
        bill(session, company, qihang, "INV-2024-0088", D(2024, 2, 28), 13_456_78, issued=D(2024, 1, 28))  # fmt: skip
        jingbei = debtor(session, company, "C003", name="北京京北重工机械股份有限公司")
        bill(session, company, jingbei, "INV-2024-0095", D(2024, 3, 1), 70_000_00, issued=D(2024, 2, 1))  # fmt: skip
        bill(session, company, jingbei, "INV-2024-0096", D(2024, 3, 5), 50_000_00, issued=D(2024, 2, 5))  # fmt: skip
        # The plastics works pays as its owner's company: the name is not the customer's.
        yongjiang = debtor(session, company, "C004", name="宁波市鄞州甬江塑料有限公司")
        bill(session, company, yongjiang, "INV-2024-0120", D(2024, 4, 10), 1_000_00, issued=D(2024, 3, 10))  # fmt: skip


def imported(factory: sessionmaker[Session], company: Company, data: bytes, name: str):  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        return import_bank_statement(
            session, actor=CLERK, company_id=company.id, data=data, filename=name
        )


def matched(factory: sessionmaker[Session], company: Company):  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        return match_waiting(session, actor=CLERK, company_id=company.id)


def line_of(session: Session, payer: str, amount: int) -> BankLine:
    return session.scalars(
        select(BankLine)
        .where(BankLine.payer_name == payer, BankLine.amount == amount)
        .order_by(BankLine.id)
    ).first()  # type: ignore[return-value]


def open_amounts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Invoice.number, Invoice.open_amount)).all())  # type: ignore[arg-type]


def test_the_same_statement_twice_or_overlapping_adds_no_line_twice(
    factory: sessionmaker[Session], company: Company
) -> None:
    first = imported(factory, company, FIRST, "icbc-a.csv")
    assert (first.lines, first.added, first.known) == (5, 5, 0)
    assert first.account == "1001234567890123456"
    assert first.money_in == 50_000_00 + 3_456_78 + 500_00
    again = imported(factory, company, FIRST, "icbc-a.csv")
    assert (again.added, again.known, again.statement_id) == (0, 5, None)
    # The second file repeats the 500.00 of 03-12 and adds an equal second one the same day.
    overlap = imported(factory, company, SECOND, "icbc-b.csv")
    assert (overlap.lines, overlap.added, overlap.known) == (3, 2, 1)
    with factory() as session:
        statuses = dict(
            session.execute(select(BankLine.status, func.count()).group_by(BankLine.status)).all()
        )
        assert statuses == {"new": 5, "outgoing": 2}
        kept = session.scalars(select(BankLine.raw).where(BankLine.amount == 120_000_00)).one()
        assert "北京京北重工机械股份有限公司" in kept and "INV-2024-0095, INV-2024-0096" in kept


def test_a_file_that_is_not_a_statement_writes_nothing(
    factory: sessionmaker[Session], company: Company
) -> None:
    with pytest.raises(InvalidInput, match=r"empty\.csv"):
        imported(factory, company, b"", "empty.csv")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(BankLine)) == 0


def test_sure_lines_are_applied_to_the_fen_and_the_rest_wait_with_reasons(
    factory: sessionmaker[Session], company: Company
) -> None:
    ledger(factory, company)
    imported(factory, company, FIRST, "icbc-a.csv")
    imported(factory, company, SECOND, "icbc-b.csv")
    run = matched(factory, company)
    assert (run.lines, run.auto) == (5, 3)
    assert run.suggested + run.unknown == 2
    with factory() as session:
        assert open_amounts(session) == {
            "INV-2024-0102": 0,  # 50,000.00 with its number in the remittance
            "INV-2024-0110": 8_000_00,
            "INV-2024-0088": 10_000_00,  # 3,456.78 of 13,456.78: a part payment named by number
            "INV-2024-0095": 0,  # 120,000.00 = both invoices named
            "INV-2024-0096": 0,
            "INV-2024-0120": 1_000_00,  # the plastics works waits for a clerk
        }
        payments = session.scalars(select(Payment).order_by(Payment.id)).all()
        assert [(p.amount, p.unapplied_amount, p.received_on) for p in payments] == [
            (50_000_00, 0, D(2024, 3, 1)),
            (3_456_78, 0, D(2024, 3, 5)),
            (120_000_00, 0, D(2024, 3, 15)),
        ]
        applied = line_of(session, "北京京北重工机械股份有限公司", 120_000_00)
        assert applied.status == "applied" and applied.decided_by == "auto"
        assert "reference" in {code for code, _, _ in json.loads(applied.reasons)}
        waiting = line_of(session, "宁波甬江塑料制品厂", 500_00)
        assert waiting.status in ("suggested", "unknown")


def test_a_clerk_confirms_a_waiting_line_and_the_payer_name_is_learned(
    factory: sessionmaker[Session], company: Company
) -> None:
    ledger(factory, company)
    imported(factory, company, FIRST, "icbc-a.csv")
    matched(factory, company)
    with unit_of_work(factory) as session:
        waiting = line_of(session, "宁波甬江塑料制品厂", 500_00)
        customer = session.scalars(select(Customer).where(Customer.code == "C004")).one()
        invoice = session.scalars(select(Invoice).where(Invoice.number == "INV-2024-0120")).one()
        apply_line(
            session, actor=CLERK, company_id=company.id, line_id=waiting.id,
            customer_id=customer.id, allocations=[(invoice.id, 500_00)], by=CLERK.name,
            learn_payer=True,
        )  # fmt: skip
    with factory() as session:
        assert open_amounts(session)["INV-2024-0120"] == 500_00
        alias = session.scalars(select(PayerAlias)).one()
        assert (alias.name, alias.account, alias.learned_by) == (
            "宁波甬江塑料制品厂",
            "390100123456789",
            "lijing",
        )
        assert session.scalar(select(func.count()).select_from(MatchSuggestion)) == 0
    # The next statement's 500.00 from the same payer is now known to be the plastics works.
    imported(factory, company, SECOND, "icbc-b.csv")
    with unit_of_work(factory) as session:
        match_waiting(session, actor=CLERK, company_id=company.id)
        second = session.scalars(
            select(BankLine)
            .where(BankLine.payer_name == "宁波甬江塑料制品厂")
            .order_by(BankLine.id.desc())
        ).first()
        assert second is not None
        assert second.status == "applied"
        assert second.customer_id == customer.id


def test_an_automatic_decision_is_undone_and_never_made_again_by_itself(
    factory: sessionmaker[Session], company: Company
) -> None:
    ledger(factory, company)
    imported(factory, company, FIRST, "icbc-a.csv")
    matched(factory, company)
    with unit_of_work(factory) as session:
        line = line_of(session, "杭州明远五金制品有限公司", 50_000_00)
        payment_id = line.payment_id
        undo_line(
            session, actor=CLERK, company_id=company.id, line_id=line.id, on=D(2024, 3, 21),
            reason="客户说这笔是替关联公司付的",
        )  # fmt: skip
    with factory() as session:
        assert open_amounts(session)["INV-2024-0102"] == 50_000_00
        payment = session.get_one(Payment, payment_id)
        assert payment.reversed_on == D(2024, 3, 21)
        line = line_of(session, "杭州明远五金制品有限公司", 50_000_00)
        assert line.status == "suggested" and line.payment_id is None
        top = session.scalars(
            select(MatchSuggestion).where(MatchSuggestion.bank_line_id == line.id)
        ).first()
        assert top is not None and top.confidence >= 0.9  # still the best guess, for a person
    matched(factory, company)
    with factory() as session:
        assert line_of(session, "杭州明远五金制品有限公司", 50_000_00).status == "suggested"
    with unit_of_work(factory) as session, pytest.raises(Conflict, match="not applied"):
        undo_line(
            session, actor=CLERK, company_id=company.id, line_id=line.id, on=D(2024, 3, 21),
            reason="again",
        )  # fmt: skip


def test_applying_a_line_already_applied_is_refused(
    factory: sessionmaker[Session], company: Company
) -> None:
    ledger(factory, company)
    imported(factory, company, FIRST, "icbc-a.csv")
    matched(factory, company)
    with unit_of_work(factory) as session:
        line = line_of(session, "杭州明远五金制品有限公司", 50_000_00)
        with pytest.raises(Conflict, match="already applied by auto"):
            apply_line(
                session, actor=CLERK, company_id=company.id, line_id=line.id,
                customer_id=line.customer_id or 0, allocations=[], by=CLERK.name,
            )  # fmt: skip


def run_together(work: list[Callable[[], object]]) -> list[BaseException]:
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            job()
        except BaseException as exc:  # collected for the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


def test_two_clerks_applying_the_same_line_at_once_record_one_payment(
    backend: str, factory: sessionmaker[Session], company: Company
) -> None:
    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite lets one writer at a time anyway")
    ledger(factory, company)
    imported(factory, company, FIRST, "icbc-a.csv")
    matched(factory, company)
    with factory() as session:
        line_id = line_of(session, "宁波甬江塑料制品厂", 500_00).id
        customer_id = session.scalars(select(Customer.id).where(Customer.code == "C004")).one()
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.number == "INV-2024-0120")
        ).one()

    def clerk(name: str) -> Callable[[], None]:
        def confirm() -> None:
            with unit_of_work(factory) as session:
                apply_line(
                    session, actor=Actor(name, "pytest", CLERK.at), company_id=company.id,
                    line_id=line_id, customer_id=customer_id, allocations=[(invoice_id, 500_00)],
                    by=name,
                )  # fmt: skip

        return confirm

    errors = run_together([clerk("lijing"), clerk("wangfang")])
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    with factory() as session:
        assert open_amounts(session)["INV-2024-0120"] == 500_00  # applied once, not twice
        assert (
            session.scalar(
                select(func.count()).select_from(Payment).where(Payment.amount == 500_00)
            )
            == 1
        )


def test_the_bank_commands(
    backend: str,
    factory: sessionmaker[Session],
    company: Company,
    database_url: str,
    tmp_path: Path,
) -> None:
    if backend != "sqlite":
        pytest.skip("the commands are tested once, on SQLite")
    from typer.testing import CliRunner

    import huikuan.cli

    def bank(*args: str) -> str:
        result = CliRunner().invoke(huikuan.cli.app, ["bank", *args, "--db", database_url])
        assert result.exit_code == 0, result.output
        return result.output

    ledger(factory, company)
    sample = tmp_path / "工行3月.csv"
    sample.write_bytes(FIRST)
    out = bank("import", str(sample))
    assert "5 笔 lines, 新增 added 5, 已导入过 already imported 0" in out
    assert "自动核销 applied 2 (¥53,456.78), 待确认 to confirm 0, 无法识别 unknown 1" in out
    assert "新增 added 0, 已导入过 already imported 5" in bank("import", str(sample))
    queue_text = bank("queue")
    assert "宁波甬江塑料制品厂" in queue_text and "PO-7781" in queue_text
    with factory() as session:
        waiting = line_of(session, "宁波甬江塑料制品厂", 500_00)
    out = bank("apply", str(waiting.id), "--customer", "C004", "--invoice", "INV-2024-0120=500.00")
    assert f"流水 {waiting.id} 已核销为收款" in out and "¥500.00" in out
    refused = CliRunner().invoke(
        huikuan.cli.app,
        ["bank", "apply", str(waiting.id), "--customer", "C004", "--db", database_url],
    )
    assert refused.exit_code != 0 and "already applied by cli:" in refused.output
    out = bank("undo", str(waiting.id), "--reason", "录错客户", "--as-of", "2024-03-21")
    assert "undone" in out
    with factory() as session:
        assert open_amounts(session)["INV-2024-0120"] == 1_000_00
