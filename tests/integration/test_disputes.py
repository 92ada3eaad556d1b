"""Disputes on SQLite and PostgreSQL: the contract's window (in time, late), a partial dispute
leaving the rest chased by the daily run, resolution by credit note (to the fen, audited),
rejection returning the amount to dunning, and the ageing report's totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from huikuan.collections import disputes
from huikuan.collections.models import CollectionAction, CollectionActionItem, Dispute
from huikuan.core.audit import AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Contract
from huikuan.ledger.models import CreditNote, Invoice
from tests.actors import ACTOR
from tests.integration.collection_builders import actions_of, bill, debtor, run, with_strategies

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date


def dispute(session: Session, company: Company, number: str, amount: int, day: dt.date,
            reason: str = "quality") -> Dispute:  # fmt: skip
    return disputes.raise_dispute(
        session, actor=ACTOR, company_id=company.id, invoice_number=number, amount=amount,
        reason=reason, raised_on=day, note="到货破损",
    )  # fmt: skip


def test_a_claim_within_the_window_is_in_time_and_a_later_one_is_recorded_as_late(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        session.add(
            Contract(
                company_id=company.id,
                customer_id=c.id,
                number="HT-1",
                signed_on=D(2026, 1, 1),
                dispute_window_days=15,
            )
        )
        bill(session, company, c, "INV-1", D(2026, 11, 30), 10_000_00, issued=D(2026, 11, 1))
        in_time = dispute(session, company, "INV-1", 1_000_00, D(2026, 11, 16))
        late = dispute(session, company, "INV-1", 1_000_00, D(2026, 11, 17), "price")
        assert (in_time.window_ends_on, in_time.within_window) == (D(2026, 11, 16), True)
        assert (late.window_ends_on, late.within_window) == (D(2026, 11, 16), False)
        # At most what is open less the other open disputes.
        with pytest.raises(InvalidInput):
            dispute(session, company, "INV-1", 8_000_01, D(2026, 11, 17))
        with pytest.raises(InvalidInput):
            dispute(session, company, "INV-1", 1_00, D(2026, 11, 17), "weather")
        assert disputes.disputable_amount(session, company_id=company.id, invoice_number="INV-1") == 8_000_00  # fmt: skip


def test_a_partial_dispute_leaves_the_rest_chased_and_a_rejection_chases_it_again(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    day = D(2026, 12, 2)
    with unit_of_work(factory) as session:
        for code in ("PART", "WHOLE"):
            c = debtor(session, company, code)
            bill(session, company, c, f"I-{code}", D(2026, 11, 20), 10_000_00)
        dispute(session, company, "I-PART", 2_500_00, D(2026, 11, 21))
        whole = dispute(session, company, "I-WHOLE", 10_000_00, D(2026, 11, 21))
    run(factory, company, day)
    with factory() as session:
        assert {code for code, _, _, _ in actions_of(session, company)} == {"PART"}
        action = session.scalars(select(CollectionAction)).one()
        assert action.amount == 7_500_00
    with unit_of_work(factory) as session:
        disputes.resolve_dispute(
            session, actor=ACTOR, company_id=company.id, dispute_id=whole.id,
            resolution="rejected", note="验收单已签字", resolved_on=D(2026, 12, 3),
        )  # fmt: skip
    run(factory, company, D(2026, 12, 3))
    with factory() as session:
        chased = session.scalars(
            select(CollectionAction)
            .join(CollectionActionItem)
            .join(Invoice, Invoice.id == CollectionActionItem.invoice_id)
            .where(Invoice.number == "I-WHOLE")
        ).all()
        assert chased and all(a.amount == 10_000_00 for a in chased)
        audit = session.scalars(
            select(AuditRecord.action).where(
                AuditRecord.entity == "dispute", AuditRecord.entity_id == str(whole.id)
            )
        ).all()
        assert list(audit) == ["create", "resolve_rejected"]


def test_resolution_by_credit_note_lowers_the_open_amount_to_the_fen_and_is_audited(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 11, 30), 10_000_00)
        row = dispute(session, company, "INV-1", 1_234_56, D(2026, 11, 10))
    with unit_of_work(factory) as session:
        resolved = disputes.resolve_dispute(
            session, actor=ACTOR, company_id=company.id, dispute_id=row.id,
            resolution="credit_note", note="同意折让", resolved_on=D(2026, 11, 20),
        )  # fmt: skip
        assert resolved.credit_note_id is not None
    with factory() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.number == "INV-1")).one()
        assert invoice.open_amount == 10_000_00 - 1_234_56
        note = session.get_one(CreditNote, resolved.credit_note_id)
        assert (note.number, note.amount, note.unapplied_amount) == ("CN-INV-1-D1", 1_234_56, 0)
        found = session.get_one(Dispute, row.id)
        assert (found.status, found.resolution, found.resolved_by) == (
            "resolved", "credit_note", ACTOR.name,
        )  # fmt: skip
        entities = session.execute(
            select(AuditRecord.entity, AuditRecord.action).order_by(AuditRecord.seq)
        ).all()
        assert ("dispute", "resolve_credit_note") in entities
        assert ("credit_note", "create") in entities
        with pytest.raises(Conflict):
            disputes.resolve_dispute(
                session, actor=ACTOR, company_id=company.id, dispute_id=row.id,
                resolution="rejected", note="", resolved_on=D(2026, 11, 21),
            )  # fmt: skip


def test_the_ageing_report_adds_up_by_customer_and_bucket(
    factory: sessionmaker[Session], company: Company
) -> None:
    as_of = D(2026, 12, 31)
    with unit_of_work(factory) as session:
        a = debtor(session, company, "A")
        b = debtor(session, company, "B")
        bill(session, company, a, "A-1", D(2026, 6, 30), 10_000_00, issued=D(2026, 6, 1))
        bill(session, company, b, "B-1", D(2026, 6, 30), 10_000_00, issued=D(2026, 6, 1))
        dispute(session, company, "A-1", 100_00, as_of)  # 0 days: 0-30
        dispute(session, company, "A-1", 200_00, as_of - dt.timedelta(days=31))  # 31-60
        dispute(session, company, "B-1", 400_00, as_of - dt.timedelta(days=90))  # 61-90
        dispute(session, company, "B-1", 800_00, as_of - dt.timedelta(days=91))  # 90+
        closed = dispute(session, company, "B-1", 1_600_00, D(2026, 7, 1))
        dispute(session, company, "B-1", 3_200_00, as_of + dt.timedelta(days=1))  # not yet
        disputes.resolve_dispute(
            session, actor=ACTOR, company_id=company.id, dispute_id=closed.id,
            resolution="correction", note="已重开发票", resolved_on=D(2026, 12, 1),
        )  # fmt: skip
    with factory() as session:
        report = disputes.dispute_ageing(session, company_id=company.id, as_of=as_of)
        assert [(r.customer, r.count, r.total) for r in report.rows] == [
            ("A", 2, 300_00), ("B", 2, 1_200_00),
        ]  # fmt: skip
        assert report.bucket_totals == {
            "0-30": 100_00, "31-60": 200_00, "61-90": 400_00, "90+": 800_00,
        }  # fmt: skip
        assert (report.count, report.total) == (4, 1_500_00)
        # Before the correction on 12-01 the corrected dispute was still open (153 days).
        earlier = disputes.dispute_ageing(session, company_id=company.id, as_of=D(2026, 11, 30))
        assert earlier.bucket_totals["90+"] == 1_600_00


def test_the_dispute_commands(tmp_path: Path, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the command is tested once, on SQLite")
    import typer

    import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
    from huikuan.collections.cli_disputes_plans import dispute_app
    from tests.integration.test_cli import prepared_database

    url = prepared_database(tmp_path)
    app = typer.Typer()
    app.add_typer(dispute_app, name="dispute")
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code == 0, result.output
        return result.stdout

    shown = ok("dispute", "raise", "INV-2", "--amount", "20.00", "--reason", "quantity",
               "--date", "2024-06-01", "--note", "少发两件")  # fmt: skip
    assert "dispute #1" in shown and "¥20.00" in shown
    assert "quantity" in ok("dispute", "list", "--open")
    csv_out = ok("dispute", "ageing", "--as-of", "2024-06-30", "--format", "csv")
    assert "C1" in csv_out and "20.00" in csv_out
    target = tmp_path / "ageing.xlsx"
    ok("dispute", "ageing", "--as-of", "2024-06-30", "--format", "xlsx", "-o", str(target))
    assert target.exists()
    assert "rejected" in ok("dispute", "resolve", "1", "--as", "rejected", "--note", "不成立",
                            "--date", "2024-06-05")  # fmt: skip
    refused = runner.invoke(app, ["dispute", "resolve", "1", "--as", "rejected", "--db", url])
    assert refused.exit_code == 1 and "already resolved" in refused.output
