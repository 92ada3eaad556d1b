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

from huikuan.core.audit import Actor, AuditRecord, verify_chain
from huikuan.core.company import create_company
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger.models import Allocation, Invoice, LedgerDay, Payment
from huikuan.ledger.service import NewPayment, record_payments
from huikuan.reconciliation import matching_rules as rules
from huikuan.reconciliation.bank_import import import_bank_statement
from huikuan.reconciliation.matching import (
    apply_line,
    incoming,
    load_book,
    match_waiting,
    undo_line,
)
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


def written(session: Session, company_id: int) -> dict[str, list[object]]:
    """What applying lines wrote for a company, with its own ids replaced by their order (two
    companies get different ids for the same facts) and invoices by their numbers."""
    lines = {
        line_id: n
        for n, line_id in enumerate(
            session.scalars(
                select(BankLine.id).where(BankLine.company_id == company_id).order_by(BankLine.id)
            )
        )
    }
    payments = {
        payment_id: n
        for n, payment_id in enumerate(
            session.scalars(
                select(Payment.id).where(Payment.company_id == company_id).order_by(Payment.id)
            )
        )
    }
    numbers = dict(
        session.execute(
            select(Invoice.id, Invoice.number).where(Invoice.company_id == company_id)
        ).all()
    )
    codes = dict(
        session.execute(
            select(Customer.id, Customer.code).where(Customer.company_id == company_id)
        ).all()
    )

    def line_key(import_key: str | None) -> str:  # bank-line:<line id>:<application>
        _, line_id, application = (import_key or "::").split(":")
        return f"bank-line:{lines.get(int(line_id or 0))}:{application}"

    def audit_facts(entity: str, entity_id: str, after: str) -> tuple[object, ...]:
        facts = json.loads(after)
        if "payment" in facts:
            facts["payment"] = payments[facts["payment"]]
        number = payments[int(entity_id)] if entity == "payment" else lines[int(entity_id)]
        return (entity, number, json.dumps(facts, sort_keys=True, ensure_ascii=False))

    return {
        "payments": [
            (payments[p.id], codes[p.customer_id], p.received_on, p.amount, p.currency, p.method,
             p.reference, p.payer_name, p.unapplied_amount, p.reversed_on,
             line_key(p.import_key))
            for p in session.scalars(select(Payment).where(Payment.company_id == company_id))
        ],
        "allocations": sorted(
            (numbers[a.invoice_id], payments[a.payment_id or 0], a.amount, a.effective_on)
            for a in session.scalars(select(Allocation).where(Allocation.company_id == company_id))
        ),
        "invoices": sorted(
            (i.number, i.open_amount, i.status, i.settled_on)
            for i in session.scalars(select(Invoice).where(Invoice.company_id == company_id))
        ),
        "days": sorted(
            (d.currency, d.day, d.invoiced, d.applied)
            for d in session.scalars(select(LedgerDay).where(LedgerDay.company_id == company_id))
        ),
        "lines": sorted(
            (lines[line.id], line.status, codes.get(line.customer_id or 0),
             payments.get(line.payment_id or 0), line.decided_by, line.confidence, line.reasons,
             line.applications)
            for line in session.scalars(
                select(BankLine).where(BankLine.company_id == company_id, BankLine.status == "applied")
            )
        ),
        "audit": sorted(
            audit_facts(r.entity, r.entity_id, r.after)
            for r in session.scalars(
                select(AuditRecord).where(
                    AuditRecord.company_id == company_id,
                    AuditRecord.entity.in_(["payment", "bank_line"]),
                )
            )
        ),
    }  # fmt: skip


def test_the_run_writes_for_its_sure_lines_what_applying_each_by_hand_writes(
    factory: sessionmaker[Session], company: Company
) -> None:
    """The run applies its automatic lines together (one ledger call, audit records at once);
    the payments, allocations, balances, day totals, lines and audit records are those that
    ``apply_line`` writes for each line in turn."""
    with unit_of_work(factory) as session:
        by_hand = create_company(session, code="byhand", name="逐笔核销公司")
    for each in (company, by_hand):
        ledger(factory, each)
        imported(factory, each, FIRST, "icbc-a.csv")
        imported(factory, each, SECOND, "icbc-b.csv")
    assert matched(factory, company).auto == 3
    with unit_of_work(factory) as session:
        book = load_book(session, company_id=by_hand.id)
        waiting = session.scalars(
            select(BankLine)
            .where(BankLine.company_id == by_hand.id, BankLine.amount > 0)
            .order_by(BankLine.booked_on, BankLine.id)
        ).all()
        for line in waiting:
            found = rules.candidates(incoming(line), book.references, book.names, book.items)
            decision = rules.decide(incoming(line), found)
            if decision.kind == "auto" and decision.chosen is not None:
                apply_line(
                    session, actor=CLERK, company_id=by_hand.id, line_id=line.id,
                    customer_id=decision.chosen.customer_id,
                    allocations=decision.chosen.allocations,
                    confidence=decision.chosen.confidence, reasons=decision.chosen.reasons,
                    by="auto",
                )  # fmt: skip
    with factory() as session:
        together, one_by_one = written(session, company.id), written(session, by_hand.id)
        # each line: the payment created, its allocations, the line applied
        assert len(together["payments"]) == 3 and len(together["audit"]) == 3 * 3
        assert together == one_by_one
        assert verify_chain(session, company_id=company.id) == []


def test_payments_recorded_together_are_refused_together_when_one_does_not_fit(
    factory: sessionmaker[Session], company: Company
) -> None:
    ledger(factory, company)
    with factory() as session:
        customers = dict(session.execute(select(Customer.code, Customer.id)).all())
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.number == "INV-2024-0102")
        ).one()  # 50,000.00 of C001

    def record(*payments: tuple[str, int]) -> None:
        with unit_of_work(factory) as session:
            record_payments(
                session, actor=CLERK, company_id=company.id,
                payments=[
                    NewPayment(session.get_one(Customer, customers[code]), D(2024, 3, 20), amount,
                               ((invoice_id, amount),))
                    for code, amount in payments
                ],
            )  # fmt: skip

    with pytest.raises(Conflict, match="over-allocation"):  # 30,000 + 30,000 > 50,000 open
        record(("C001", 30_000_00), ("C001", 30_000_00))
    with pytest.raises(InvalidInput, match="belongs to another customer"):
        record(("C001", 10_000_00), ("C002", 10_000_00))
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
        assert open_amounts(session)["INV-2024-0102"] == 50_000_00


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


def test_a_clerk_confirming_a_line_while_the_run_holds_it_waits_and_then_applies_it(
    backend: str, factory: sessionmaker[Session], company: Company
) -> None:
    """The run locks the lines it reads: a clerk confirming one meanwhile waits for the run to
    commit, then applies it; the run's suggestions for it do not overwrite the clerk's work."""
    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite lets one writer at a time anyway")
    ledger(factory, company)
    imported(factory, company, FIRST, "icbc-a.csv")
    with factory() as session:
        line_id = line_of(session, "宁波甬江塑料制品厂", 500_00).id  # the run leaves it waiting
        customer_id = session.scalars(select(Customer.id).where(Customer.code == "C004")).one()
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.number == "INV-2024-0120")
        ).one()
    deciding = threading.Event()

    def run() -> None:
        def progress(done: int, total: int) -> None:
            deciding.set()  # the lines are read and locked: the clerk tries now
            threading.Event().wait(0.5)  # and gets as far as the lock

        with unit_of_work(factory) as session:
            match_waiting(session, actor=CLERK, company_id=company.id, progress=progress)

    def clerk() -> None:
        deciding.wait(timeout=10)
        with unit_of_work(factory) as session:
            apply_line(
                session, actor=CLERK, company_id=company.id, line_id=line_id,
                customer_id=customer_id, allocations=[(invoice_id, 500_00)], by=CLERK.name,
            )  # fmt: skip

    assert run_together([run, clerk]) == []
    with factory() as session:
        line = session.get_one(BankLine, line_id)
        assert (line.status, line.decided_by) == ("applied", CLERK.name)
        assert line.payment_id is not None
        assert open_amounts(session)["INV-2024-0120"] == 500_00
        suggestions = select(func.count()).where(MatchSuggestion.bank_line_id == line_id)
        assert session.scalar(suggestions) == 0


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
