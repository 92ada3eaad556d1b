"""Customer statements as records, on SQLite and PostgreSQL: issued once per period with the PDF
kept, emailed once by the daily run on the scheduled day (loopback SMTP), confirmed with who
signed and the signed copy, disputed line by line and the differences resolved, all audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.channels.email import SmtpSettings
from huikuan.collections.models import Delivery, Document
from huikuan.collections.sending import Transports
from huikuan.core.audit import AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger import service as ledger
from huikuan.reconciliation.models import CustomerStatement, StatementDifference
from huikuan.reconciliation.statements import (
    DifferenceInput,
    confirm_statement,
    dispute_statement,
    issue_statements,
    resolve_difference,
    send_statement,
    set_schedule,
)
from tests.actors import ACTOR
from tests.integration.collection_builders import bill, debtor, run, with_strategies
from tests.loopback import SmtpServer
from tests.loopback_fixtures import smtp_server_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date


def books(factory: sessionmaker[Session], company: Company) -> None:
    """C001 owes 30,000.00 from October, is invoiced 20,000.00 and pays 12,000.00 in November."""
    with unit_of_work(factory) as session:
        customer = debtor(session, company, "C001", name="杭州顺达建材有限公司")
        bill(session, company, customer, "INV-10", D(2026, 11, 10), 30_000_00, issued=D(2026, 10, 10))  # fmt: skip
        bill(session, company, customer, "INV-11", D(2026, 12, 15), 20_000_00, issued=D(2026, 11, 15))  # fmt: skip
        ledger.record_payment(
            session, actor=ACTOR, company_id=company.id, customer=customer,
            received_on=D(2026, 11, 20), amount=12_000_00, reference="HQ1120",
        )  # fmt: skip


def customer(session: Session) -> Customer:
    return session.scalars(select(Customer).where(Customer.code == "C001")).one()


def issue_november(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        [statement] = issue_statements(
            session, actor=ACTOR, customer=customer(session), start=D(2026, 11, 1),
            end=D(2026, 11, 30), issued_on=D(2026, 12, 1),
        )  # fmt: skip
        return statement.id


def test_a_statement_is_issued_once_with_its_figures_and_pdf(
    factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    first = issue_november(factory)
    assert issue_november(factory) == first
    with factory() as session:
        statement = session.get_one(CustomerStatement, first)
        assert (statement.opening, statement.closing) == (30_000_00, 38_000_00)
        assert (statement.status, statement.issued_on) == ("issued", D(2026, 12, 1))
        document = session.get_one(Document, statement.document_id)
        assert document.filename == "DZ-20261130-C001.pdf"
        pdf = pypdfium2.PdfDocument(document.content)
        try:
            text = pdf[0].get_textpage().get_text_range()
        finally:
            pdf.close()
        assert "杭州顺达建材有限公司" in text and "¥38,000.00" in text
        assert session.scalar(select(func.count()).select_from(CustomerStatement)) == 1


def test_a_confirmation_records_who_signed_with_the_signed_copy(
    factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    statement_id = issue_november(factory)
    with (
        unit_of_work(factory) as session,
        pytest.raises(InvalidInput, match="before the period end"),
    ):
        confirm_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            confirmed_by="王会计", confirmed_on=D(2026, 11, 29),
        )  # fmt: skip
    with unit_of_work(factory) as session:
        confirm_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            confirmed_by="王会计", confirmed_on=D(2026, 12, 8),
            signed_copy=("回执.pdf", b"%PDF-1.4 signed"),
        )  # fmt: skip
    with factory() as session:
        statement = session.get_one(CustomerStatement, statement_id)
        assert (statement.status, statement.confirmed_by, statement.confirmed_on) == (
            "confirmed",
            "王会计",
            D(2026, 12, 8),
        )
        copy = session.get_one(Document, statement.signed_copy_id)
        assert (copy.kind, copy.mime_type, copy.content) == (
            "signed_statement",
            "application/pdf",
            b"%PDF-1.4 signed",
        )
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.entity == "customer_statement")
        ).all()
        assert list(actions) == ["issue", "confirm"]
    with unit_of_work(factory) as session, pytest.raises(Conflict, match="already confirmed"):
        confirm_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            confirmed_by="王会计", confirmed_on=D(2026, 12, 9),
        )  # fmt: skip


def test_differences_are_tasks_until_resolved_then_the_statement_can_be_confirmed(
    factory: sessionmaker[Session], company: Company
) -> None:
    books(factory, company)
    statement_id = issue_november(factory)
    with unit_of_work(factory) as session:
        rows = dispute_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            raised_on=D(2026, 12, 5),
            differences=[
                DifferenceInput("11 月 30 日另付 5,000.00，贵司未入账", "", 0, 5_000_00),
                DifferenceInput("INV-11 数量少 10 件", "INV-11", 20_000_00, 19_000_00),
            ],
        )  # fmt: skip
        ids = [r.id for r in rows]
    with (
        unit_of_work(factory) as session,
        pytest.raises(Conflict, match="differences are still open"),
    ):
        confirm_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            confirmed_by="王会计", confirmed_on=D(2026, 12, 8),
        )  # fmt: skip
    with unit_of_work(factory) as session:
        with pytest.raises(InvalidInput, match="say what was done"):
            resolve_difference(
                session, actor=ACTOR, company_id=company.id, difference_id=ids[0],
                resolution="explained", note=" ", resolved_on=D(2026, 12, 6),
            )  # fmt: skip
        resolve_difference(
            session, actor=ACTOR, company_id=company.id, difference_id=ids[0],
            resolution="explained", note="款项 12 月 1 日到账，在途", resolved_on=D(2026, 12, 6),
        )  # fmt: skip
        assert session.get_one(CustomerStatement, statement_id).status == "disputed"
        resolve_difference(
            session, actor=ACTOR, company_id=company.id, difference_id=ids[1],
            resolution="adjusted", note="开具红字发票 CN-7 冲减 1,000.00", resolved_on=D(2026, 12, 7),
        )  # fmt: skip
    with factory() as session:
        assert session.get_one(CustomerStatement, statement_id).status == "resolved"
        done = session.scalars(
            select(StatementDifference.resolution).order_by(StatementDifference.id)
        ).all()
        assert list(done) == ["explained", "adjusted"]
        assert (
            session.scalar(select(func.count()).where(AuditRecord.entity == "statement_difference"))
            == 2
        )
    with unit_of_work(factory) as session:
        confirm_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            confirmed_by="王会计", confirmed_on=D(2026, 12, 8),
        )  # fmt: skip


def test_a_statement_without_an_email_address_is_not_queued(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        debtor(session, company, "C001", email="")
    statement_id = issue_november(factory)
    with unit_of_work(factory) as session, pytest.raises(InvalidInput, match="no email address"):
        send_statement(
            session, actor=ACTOR, company_id=company.id, statement_id=statement_id,
            now=dt.datetime(2026, 12, 1, 9),
        )  # fmt: skip


def test_the_daily_run_emails_the_scheduled_statement_once(
    factory: sessionmaker[Session], company: Company, smtp_server: SmtpServer
) -> None:
    with_strategies(factory, company)
    books(factory, company)
    with unit_of_work(factory) as session:
        set_schedule(
            session, actor=ACTOR, customer=customer(session), frequency="monthly", day=3,
            starts_on=D(2026, 12, 1),
        )  # fmt: skip
    transports = Transports(
        smtp=SmtpSettings(
            host="127.0.0.1", port=smtp_server.port, security="none", user="", password="",
            sender="ar@example.com", sender_name="示例贸易 应收账款部",
        )
    )  # fmt: skip
    before = run(factory, company, D(2026, 12, 2), transports=transports)
    assert before.desk.get("statements_issued", 0) == 0
    # Due on Thursday 3 December for November; a run on the 4th would catch it up too.
    summary = run(factory, company, D(2026, 12, 3), transports=transports)
    assert summary.desk["statements_issued"] == 1 and summary.desk["statements_queued"] == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("c001@example.com",)
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_filename() == "DZ-20261130-C001.pdf"
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None and "¥38,000.00" in body.get_content()
    again = run(factory, company, D(2026, 12, 4), transports=transports)
    assert again.desk["statements_issued"] == 0
    assert len(smtp_server.messages) == 1
    with factory() as session:
        statement = session.scalars(select(CustomerStatement)).one()
        delivery = session.get_one(Delivery, statement.delivery_id)
        assert (statement.status, statement.sent_to, delivery.status) == (
            "sent",
            "c001@example.com",
            "sent",
        )


def test_the_statement_commands(
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

    def statement(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(huikuan.cli.app, ["statement", *args, "--db", database_url])
        assert result.exit_code == code, result.output
        return result.output

    books(factory, company)
    out = statement("issue", "C001", "--from", "2026-11-01", "--to", "2026-11-30")
    assert "期初 opening ¥30,000.00 期末 closing ¥38,000.00 [issued]" in out
    statement_id = out.split()[0].lstrip("#")
    pdf = tmp_path / "nov.pdf"
    statement("pdf", statement_id, "-o", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    out = statement(
        "dispute", statement_id, "--on", "2026-12-05",
        "--difference", "INV-11 少 10 件|INV-11|20,000.00|19,000.00",
    )  # fmt: skip
    difference_id = out.split("#")[1].split()[0]
    assert "open differences 1" in statement("list", "--status", "disputed")
    refused = statement("resolve", difference_id, "--as", "forgiven", "--note", "x", code=1)
    assert "resolution must be one of adjusted, explained, rejected" in refused
    statement("resolve", difference_id, "--as", "adjusted", "--note", "开红字 CN-7", "--on", "2026-12-06")  # fmt: skip
    copy = tmp_path / "回执.jpg"
    copy.write_bytes(b"\xff\xd8 photo")
    statement("confirm", statement_id, "--by", "王会计", "--on", "2026-12-08", "--copy", str(copy))
    assert "王会计 2026-12-08" in statement("list", "--customer", "C001")
    assert "C001: monthly day 5 on" in statement("schedule", "C001", "--day", "5")
    refused = statement("schedule", "C001", "--day", "31", code=1)
    assert "the day must be 1 to 28" in refused
