"""Every money change is in the audit trail, and any tampering with the trail is detected."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from huikuan.cli import app
from huikuan.core.audit import Actor, AuditRecord, history, record_change, verify_chain
from huikuan.core.company import create_company
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.models import Company
from huikuan.ledger import service
from huikuan.models import metadata

from .ledger_builders import customer, invoice

D = dt.date
CLERK = Actor(name="li.na", source="192.0.2.10", at=dt.datetime(2026, 3, 1, 10, 0))


def payment_history(session: Session, company: Company) -> list[AuditRecord]:
    cust = customer(session, company)
    invoice(session, company, cust, "INV-1", D(2024, 1, 1), 30000)
    payment = service.record_payment(
        session,
        actor=CLERK,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 2, 1),
        amount=50000,
    )
    service.reverse_payment(
        session,
        actor=CLERK,
        company_id=company.id,
        payment_id=payment.id,
        reversed_on=D(2024, 2, 3),
    )
    session.commit()
    return history(session, company_id=company.id, entity="payment", entity_id=payment.id)


def test_a_payment_its_allocation_and_its_reversal_are_recorded_with_who_and_what(
    session: Session, company: Company
) -> None:
    records = payment_history(session, company)
    assert [(r.action, r.actor, r.source) for r in records] == [
        ("create", "li.na", "192.0.2.10"),
        ("allocate", "li.na", "192.0.2.10"),
        ("reverse", "li.na", "192.0.2.10"),
    ]
    assert json.loads(records[0].after)["amount"] == 50000
    assert json.loads(records[1].after) == {
        "allocations": [["INV-1", 30000, "2024-02-01"]],
        "unapplied": 20000,
    }
    assert json.loads(records[2].after)["reopened"] == [["INV-1", 30000]]
    assert records[0].at == dt.datetime(2026, 3, 1, 10, 0)
    assert verify_chain(session, company_id=company.id) == []


def test_an_edited_record_is_detected(engine: Engine, session: Session, company: Company) -> None:
    records = payment_history(session, company)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_record SET after = :a WHERE id = :i"),
            {"a": records[0].after.replace("50000", "5000"), "i": records[0].id},
        )
    session.expire_all()
    breaks = verify_chain(session, company_id=company.id)
    assert [(b.seq, "changed" in b.reason) for b in breaks] == [(records[0].seq, True)]


def test_a_deleted_record_is_detected_in_the_middle_and_at_the_end(
    engine: Engine, session: Session, company: Company
) -> None:
    ids = [r.id for r in payment_history(session, company)]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE id = :i"), {"i": ids[1]})
    session.expire_all()
    reasons = " ".join(b.reason for b in verify_chain(session, company_id=company.id))
    assert "missing" in reasons and "link" in reasons
    with engine.begin() as conn:  # now cut off the tail instead: the head no longer matches
        conn.execute(text("DELETE FROM audit_record WHERE id >= :i"), {"i": ids[1]})
    session.expire_all()
    assert any("at the end" in b.reason for b in verify_chain(session, company_id=company.id))


def test_audit_verify_command(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'a.db'}"
    runner.invoke(app, ["init", "--db", url])
    created = runner.invoke(
        app,
        ["user", "create", "wang", "--role", "finance", "--name", "王强", "--db", url],
        input="secret123\nsecret123\n",
    )
    assert created.exit_code == 0, created.output
    assert "audit chain intact" in runner.invoke(app, ["audit", "verify", "--db", url]).output
    shown = runner.invoke(app, ["audit", "show", "user", "wang", "--db", url])
    assert "create" in shown.output and "cli:" in shown.output
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET actor = 'someone else'"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--db", url])
    assert broken.exit_code == 1
    assert "record content was changed" in broken.output


def test_concurrent_writers_keep_one_unbroken_chain(postgres_url: str | None) -> None:
    """Two sessions appending at once on PostgreSQL: the head row lock orders them."""
    if postgres_url is None:
        import pytest

        pytest.skip("needs PostgreSQL (HUIKUAN_TEST_DATABASE_URL); CI always sets it")
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE "
                + ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                + " RESTART IDENTITY CASCADE"
            )
        )
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        company_id = create_company(session, code="c", name="并发").id
    barrier = threading.Barrier(2)

    def write(n: int) -> None:
        with unit_of_work(factory) as session:
            barrier.wait(timeout=10)
            for i in range(20):
                record_change(
                    session,
                    actor=CLERK,
                    company_id=company_id,
                    entity="x",
                    entity_id=f"{n}-{i}",
                    action="t",
                )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with factory() as session:
        seqs = list(session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
        assert seqs == list(range(1, 41))
        assert verify_chain(session, company_id=company_id) == []
    engine.dispose()


def test_records_written_in_a_batch_are_those_written_one_by_one(
    engine: Engine, session: Session, company: Company
) -> None:
    """A batch (``record_changes``, used for thousands of late-fee charges) writes the same
    records and hashes as one call per change: two companies, same changes, same actor; the
    records agree field by field and both chains verify, batches mixed with single calls."""
    from huikuan.core.audit import Change, record_changes

    other = create_company(session, code="twin", name="另一公司")
    session.commit()
    actor = Actor(name="mgr", source="pytest", at=dt.datetime(2026, 12, 1, 9, 0, 0, 123456))
    changes = [
        Change("late_fee_charge", n, "charge", after={"amount": 100 * n, "note": f"第{n}期"})
        for n in range(1, 8)
    ]
    for change in changes:
        record_change(
            session, actor=actor, company_id=company.id, entity=change.entity,
            entity_id=change.entity_id, action=change.action, after=change.after,
        )  # fmt: skip
    record_changes(session, actor=actor, company_id=other.id, changes=changes[:3])
    record_change(
        session, actor=actor, company_id=other.id, entity="late_fee_charge", entity_id=4,
        action="charge", after=changes[3].after,
    )  # fmt: skip
    record_changes(session, actor=actor, company_id=other.id, changes=changes[4:])
    session.commit()

    def rows(company_id: int) -> list[tuple[object, ...]]:
        return [
            (r.seq, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after)
            for r in session.scalars(
                select(AuditRecord)
                .where(AuditRecord.company_id == company_id)
                .order_by(AuditRecord.seq)
            )
        ]

    assert rows(other.id) == rows(company.id)
    assert len(rows(other.id)) == 7
    assert verify_chain(session, company_id=company.id) == []
    assert verify_chain(session, company_id=other.id) == []
