"""What the daily run sends, received on loopback: email with the statement attached, SMS
through the gateway (not in quiet hours), group-robot alerts, retries without duplicates,
interrupted sends held for a person, and letters as PDFs with Chinese text."""

from __future__ import annotations

import datetime as dt
import io

import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.channels.alerts import RobotSettings
from huikuan.channels.email import SmtpSettings
from huikuan.channels.sms import SmsGatewaySettings
from huikuan.collections.models import CollectionAction, Delivery, Document
from huikuan.collections.sending import Transports, send_due
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from tests.integration.collection_builders import bill, debtor, run, with_strategies
from tests.loopback import HttpReceiver, SmtpServer
from tests.loopback_fixtures import http_receiver_fixture, smtp_server_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
DAY = D(2026, 12, 2)  # Wednesday


def smtp(server: SmtpServer) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=server.port,
        security="none",
        user="",
        password="",
        sender="ar@example.com",
        sender_name="示例贸易 应收账款部",
    )


def gateway(receiver: HttpReceiver) -> SmsGatewaySettings:
    return SmsGatewaySettings(url=receiver.url + "/sms", auth_header="Bearer test-token")


def one_debtor_due_today(
    factory: sessionmaker[Session],
    company: Company,
    phone: str = "138-0013-8000",
    **settings: object,
) -> None:
    with_strategies(factory, company, **settings)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001", name="杭州顺达建材有限公司", phone=phone)
        bill(session, company, c, "INV-2026-001", DAY, 12_345_67)
        bill(session, company, c, "INV-2026-002", DAY, 100_00)


def test_email_and_sms_arrive_once_with_the_statement_attached(
    factory: sessionmaker[Session],
    company: Company,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
) -> None:
    one_debtor_due_today(factory, company, statement_format="xlsx")
    transports = Transports(smtp=smtp(smtp_server), sms=gateway(http_receiver))
    summary = run(factory, company, DAY, transports=transports)
    assert summary.deliveries == {"sent": 2}
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("c001@example.com",)
    message = mail.message
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "杭州顺达建材有限公司" in text and "¥12,445.67" in text
    assert "INV-2026-001" in text and "INV-2026-002" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"对账明细-C001-{DAY.isoformat()}.xlsx"
    sheet = load_workbook(io.BytesIO(attachment.get_content())).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "INV-2026-001" in cells and "INV-2026-002" in cells

    [sms] = http_receiver.requests
    assert sms.path == "/sms" and sms.headers["authorization"] == "Bearer test-token"
    assert sms.json["to"] == "13800138000"
    assert "¥12,445.67" in sms.json["text"]

    again = run(factory, company, DAY, transports=transports)
    assert again.actions == {} and again.deliveries == {}
    assert len(smtp_server.messages) == 1 and len(http_receiver.requests) == 1


def test_sms_is_held_during_quiet_hours_and_sent_after_them(
    factory: sessionmaker[Session], company: Company, http_receiver: HttpReceiver
) -> None:
    one_debtor_due_today(factory, company, quiet_start="21:00", quiet_end="08:30")
    transports = Transports(sms=gateway(http_receiver))
    late = run(factory, company, DAY, at=dt.time(22, 15), transports=transports)
    assert late.actions == {"email": 1, "sms": 1}
    assert http_receiver.requests == []
    with factory() as session:
        sms = session.scalars(select(Delivery).where(Delivery.channel == "sms")).one()
        assert (sms.status, sms.send_after) == ("pending", dt.datetime(2026, 12, 3, 8, 30))
    send_due(
        factory, company_id=company.id, now=dt.datetime(2026, 12, 3, 8, 0), transports=transports
    )
    assert http_receiver.requests == []
    sent = send_due(
        factory, company_id=company.id, now=dt.datetime(2026, 12, 3, 8, 31), transports=transports
    )
    assert sent == {"sent": 1, "not_configured": 1}  # the email waits for an SMTP server
    assert len(http_receiver.requests) == 1


def test_a_transient_failure_is_retried_later_and_delivered_once(
    factory: sessionmaker[Session], company: Company, smtp_server: SmtpServer
) -> None:
    one_debtor_due_today(factory, company, phone="")
    smtp_server.reject("c001@example.com", 451)
    transports = Transports(smtp=smtp(smtp_server))
    first = run(factory, company, DAY, transports=transports)
    assert first.deliveries == {"retry": 1}
    with factory() as session:
        email = session.scalars(select(Delivery)).one()
        assert email.attempts == 1 and email.send_after == dt.datetime(2026, 12, 2, 9, 5)
        assert "451" in email.last_error
    smtp_server.recorder.refusals.clear()
    assert (
        send_due(
            factory,
            company_id=company.id,
            now=dt.datetime(2026, 12, 2, 9, 1),
            transports=transports,
        )
        == {}
    )
    later = send_due(
        factory, company_id=company.id, now=dt.datetime(2026, 12, 2, 9, 6), transports=transports
    )
    assert later == {"sent": 1}
    assert (
        send_due(
            factory, company_id=company.id, now=dt.datetime(2026, 12, 2, 12), transports=transports
        )
        == {}
    )
    assert len(smtp_server.messages) == 1
    with factory() as session:
        email = session.scalars(select(Delivery)).one()
        assert (email.status, email.attempts) == ("sent", 2)


def test_a_bounce_marks_the_action_with_the_servers_reason(
    factory: sessionmaker[Session], company: Company, smtp_server: SmtpServer
) -> None:
    one_debtor_due_today(factory, company, phone="")
    smtp_server.reject("c001@example.com", 550)
    summary = run(factory, company, DAY, transports=Transports(smtp=smtp(smtp_server)))
    assert summary.deliveries == {"bounced": 1}
    with factory() as session:
        action = session.scalars(
            select(CollectionAction).where(CollectionAction.channel == "email")
        ).one()
        assert action.status == "bounced" and "550" in action.detail


def test_a_send_interrupted_after_it_left_is_not_repeated_but_held_for_a_person(
    factory: sessionmaker[Session], company: Company, smtp_server: SmtpServer
) -> None:
    one_debtor_due_today(factory, company)
    run(factory, company, DAY, send=False)
    with unit_of_work(factory) as session:  # as a crash between sending and recording leaves it
        email = session.scalars(select(Delivery).where(Delivery.channel == "email")).one()
        email.status, email.attempts = "sending", 1
    counts = send_due(
        factory,
        company_id=company.id,
        now=dt.datetime(2026, 12, 2, 10),
        transports=Transports(smtp=smtp(smtp_server)),
    )
    assert counts == {"uncertain": 1, "not_configured": 1}
    assert smtp_server.messages == []
    with factory() as session:
        email = session.scalars(select(Delivery).where(Delivery.channel == "email")).one()
        assert email.status == "uncertain" and "人工" in email.last_error


def test_internal_alerts_go_to_the_group_robot(
    factory: sessionmaker[Session], company: Company, http_receiver: HttpReceiver
) -> None:
    ladder = """
strategies:
  - code: alerting
    name: 提醒销售
    steps:
      - {name: 提醒销售跟进, trigger: -2, channel: alert, template: internal_alert}
default: alerting
"""
    with_strategies(factory, company, text=ladder)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001", name="杭州顺达建材有限公司")
        bill(session, company, c, "INV-1", D(2026, 12, 4), 9_999_00)
    robot = RobotSettings(kind="wecom", url=http_receiver.url + "/cgi-bin/webhook/send?key=k")
    summary = run(factory, company, DAY, transports=Transports(robot=robot))
    assert summary.actions == {"alert": 1} and summary.deliveries == {"sent": 1}
    [request] = http_receiver.requests
    content = request.json["text"]["content"]
    assert request.json["msgtype"] == "text"
    assert "杭州顺达建材有限公司" in content and "¥9,999.00" in content


def test_a_dunning_letter_is_a_pdf_with_the_customers_chinese_name_and_total(
    factory: sessionmaker[Session], company: Company, smtp_server: SmtpServer
) -> None:
    ladder = """
strategies:
  - code: letters
    name: 书面催款
    steps:
      - {name: 催款函, trigger: 30, channel: letter, template: dunning_letter}
default: letters
"""
    with_strategies(factory, company, text=ladder)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001", name="杭州顺达建材有限公司")
        bill(session, company, c, "INV-9", D(2026, 10, 9), 1_234_567_89)
    summary = run(factory, company, DAY, transports=Transports(smtp=smtp(smtp_server)))
    assert summary.actions == {"letter": 1}
    with factory() as session:
        document = session.scalars(select(Document)).one()
        action = session.get_one(CollectionAction, document.action_id)
        assert action.status == "open" and "挂号" in action.detail
    text = pypdfium2.PdfDocument(document.content)[0].get_textpage().get_text_range()
    assert "催款函" in text and "杭州顺达建材有限公司" in text and "¥1,234,567.89" in text
    [mail] = smtp_server.wait_for(1)
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content() == document.content  # the copy sent is the one kept
