"""The transports over real sockets on 127.0.0.1: SMTP (aiosmtpd), the SMS gateway and the group
robots (a local HTTP receiver). What arrives is parsed as the far side would parse it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import shutil
import socket
import ssl
import subprocess
import urllib.parse
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from huikuan.channels.alerts import RobotSettings, send_alert
from huikuan.channels.email import Attachment, OutgoingEmail, SmtpSettings, send_email
from huikuan.channels.sms import SmsGatewaySettings, send_sms
from tests.loopback import (
    LOOPBACK,
    HttpReceiver,
    Reply,
    SmtpServer,
    closed_port,
    running_smtp_server,
)
from tests.loopback_fixtures import http_receiver_fixture, smtp_server_fixture  # noqa: F401

# Plain-connection AUTH is what these tests mean to exercise (aiosmtpd warns about it).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUBJECT = '应收账款对账单（2024年3月）"请核对"'
FILENAME = "对账单-上海某某机电设备有限公司-2024年3月.xlsx"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 3, 5, 9, 30, 0, tzinfo=SHANGHAI)


def smtp_settings(port: int, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": LOOPBACK,
        "port": port,
        "security": "none",
        "user": "",
        "password": "",
        "sender": "ar@huikuan-demo.cn",
        "sender_name": "华东机电 应收账款部",
        "timeout": 5.0,
    }
    values.update(changes)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def workbook_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["发票号", "到期日", "未付金额"])
    sheet.append(["INV-2024-001", dt.date(2024, 2, 1), 12345.67])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def letter(*to: str, message_id: str = "run-20240305/ACME/1") -> OutgoingEmail:
    return OutgoingEmail(
        to=to or ("finance@customer.example.com",),
        subject=SUBJECT,
        text="王经理您好：\n截至 2024-03-05，贵司尚欠 ¥12,345.67，请于 3 月 15 日前付款。\n",
        html="<p>王经理您好：</p><p>贵司尚欠 <b>¥12,345.67</b>。</p>",
        attachments=(Attachment(FILENAME, workbook_bytes(), XLSX),),
        message_id=message_id,
    )


# ---------------------------------------------------------------------------- email


def test_an_email_arrives_with_chinese_subject_text_html_and_attachment_decodable(
    smtp_server: SmtpServer,
) -> None:
    email = letter()
    outcome = send_email(smtp_settings(smtp_server.port), email, now=NOW)

    assert (outcome.status, outcome.transient, outcome.provider_id) == ("sent", False, "HK000001")
    (mail,) = smtp_server.messages
    assert mail.mail_from == "ar@huikuan-demo.cn"
    assert mail.rcpt_tos == ("finance@customer.example.com",)
    assert mail.raw.isascii()  # 7-bit: no server needs 8BITMIME or SMTPUTF8
    message = mail.message
    assert message["Subject"] == SUBJECT
    assert message["From"].addresses[0].display_name == "华东机电 应收账款部"
    assert message["Message-ID"] == "<run-20240305%2FACME%2F1@huikuan-demo.cn>"
    assert message["X-Huikuan-Message-Id"] == email.message_id
    assert parsedate_to_datetime(message["Date"]) == NOW
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().splitlines() == email.text.splitlines()
    assert "<b>¥12,345.67</b>" in html.get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == FILENAME
    assert attachment.get_content_type() == XLSX
    content = attachment.get_content()
    assert content == email.attachments[0].content
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None and sheet["A2"].value == "INV-2024-001"


def test_a_retried_email_carries_the_same_message_id(smtp_server: SmtpServer) -> None:
    settings = smtp_settings(smtp_server.port)
    send_email(settings, letter())
    send_email(settings, letter())
    first, second = smtp_server.messages
    assert first.message["Message-ID"] == second.message["Message-ID"]


def test_a_recipient_refused_with_550_is_a_bounce(smtp_server: SmtpServer) -> None:
    smtp_server.reject("gone@customer.example.com", 550)
    outcome = send_email(smtp_settings(smtp_server.port), letter("gone@customer.example.com"))
    assert (outcome.status, outcome.transient) == ("bounced", False)
    assert "gone@customer.example.com: 550" in outcome.detail
    assert smtp_server.messages == []


def test_a_recipient_refused_with_451_is_a_transient_failure(smtp_server: SmtpServer) -> None:
    smtp_server.reject("busy@customer.example.com", 451)
    outcome = send_email(smtp_settings(smtp_server.port), letter("busy@customer.example.com"))
    assert (outcome.status, outcome.transient) == ("failed", True)
    assert "451" in outcome.detail


def test_when_one_of_two_recipients_is_refused_the_other_still_gets_it(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.reject("gone@customer.example.com", 550)
    email = letter("gone@customer.example.com", "boss@customer.example.com")
    outcome = send_email(smtp_settings(smtp_server.port), email)
    assert outcome.status == "sent"
    assert "gone@customer.example.com: 550" in outcome.detail
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ("boss@customer.example.com",)


def test_an_address_that_is_not_one_bounces_without_a_connection() -> None:
    outcome = send_email(smtp_settings(closed_port()), letter("王经理 at customer"))
    assert (outcome.status, outcome.transient) == ("bounced", False)
    assert outcome.detail == "收件地址无效 / invalid recipient address: 王经理 at customer"


def test_an_invalid_address_beside_a_good_one_is_named_and_the_good_one_gets_it(
    smtp_server: SmtpServer,
) -> None:
    outcome = send_email(smtp_settings(smtp_server.port), letter("wang@", "boss@customer.cn"))
    assert outcome.status == "sent"
    assert outcome.detail.endswith("some recipients refused: wang@: invalid address")
    assert smtp_server.messages[0].rcpt_tos == ("boss@customer.cn",)


def test_a_closed_port_is_a_transient_failure_saying_connection_refused() -> None:
    outcome = send_email(smtp_settings(closed_port()), letter())
    assert (outcome.status, outcome.transient) == ("failed", True)
    assert outcome.detail == "连接被拒绝 / connection refused"


def test_a_server_that_never_answers_times_out_transiently() -> None:
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()  # accepts the connection in the backlog, never greets
        settings = smtp_settings(silent.getsockname()[1], timeout=0.3)
        outcome = send_email(settings, letter())
    assert (outcome.status, outcome.transient) == ("failed", True)
    assert outcome.detail == "连接超时 / timed out"


def test_login_with_the_right_password_sends_and_a_wrong_one_fails_for_good() -> None:
    with running_smtp_server(users={"ar@huikuan-demo.cn": "right-pass-1"}) as server:
        right = smtp_settings(server.port, user="ar@huikuan-demo.cn", password="right-pass-1")
        wrong = smtp_settings(server.port, user="ar@huikuan-demo.cn", password="wrong")
        assert send_email(right, letter()).status == "sent"
        outcome = send_email(wrong, letter())
    assert (outcome.status, outcome.transient) == ("failed", False)
    assert "535" in outcome.detail
    assert len(server.messages) == 1


def test_starttls_asked_of_a_server_without_it_fails_for_good(smtp_server: SmtpServer) -> None:
    outcome = send_email(smtp_settings(smtp_server.port, security="starttls"), letter())
    assert (outcome.status, outcome.transient) == ("failed", False)
    assert "STARTTLS" in outcome.detail


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 that the client trusts (through SSL_CERT_FILE)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    yield context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_connections_send_and_log_in(certificate: ssl.SSLContext, security: str) -> None:
    users = {"ar": "secret"}
    implicit = security == "ssl"
    with running_smtp_server(users=users, tls_context=certificate, implicit_tls=implicit) as server:
        settings = smtp_settings(server.port, security=security, user="ar", password="secret")
        outcome = send_email(settings, letter())
    assert outcome.status == "sent", outcome.detail
    assert len(server.messages) == 1


def test_an_untrusted_certificate_fails_for_good(
    certificate: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    with running_smtp_server(tls_context=certificate, implicit_tls=True) as server:
        outcome = send_email(smtp_settings(server.port, security="ssl"), letter())
    assert (outcome.status, outcome.transient) == ("failed", False)
    assert "certificate verification failed" in outcome.detail


# ---------------------------------------------------------------------------- SMS

SMS_TEXT = '【华东机电】王经理您好，贵司"INV-001"尚欠¥12,345.67，\\请于3月15日前付款。\n回T退订'


def sms_settings(receiver: HttpReceiver, **changes: object) -> SmsGatewaySettings:
    values: dict[str, object] = {"url": receiver.url + "/sms/send", "auth_header": "Bearer tok-1"}
    values.update(changes)
    return SmsGatewaySettings(**values)  # type: ignore[arg-type]


def test_an_sms_arrives_with_the_authorization_header_and_a_valid_json_body(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.script(Reply(200, {"id": "sms-778899", "status": "queued"}))
    outcome = send_sms(
        sms_settings(http_receiver), phone="+86 138-1234-5678", text=SMS_TEXT, message_id="m-1"
    )
    assert (outcome.status, outcome.provider_id) == ("sent", "sms-778899")
    (request,) = http_receiver.requests
    assert (request.method, request.path) == ("POST", "/sms/send")
    assert request.headers["authorization"] == "Bearer tok-1"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json == {"to": "13812345678", "text": SMS_TEXT, "id": "m-1"}


def test_a_custom_header_and_body_template_are_used(http_receiver: HttpReceiver) -> None:
    template = '{"PhoneNumbers": {phone}, "Params": {"content": {text}}, "OutId": {message_id}}'
    settings = sms_settings(http_receiver, auth_header="X-Api-Key: k-9", body_template=template)
    outcome = send_sms(settings, phone="13912345678", text='含"引号"', message_id="m-2")
    assert outcome.status == "sent"
    (request,) = http_receiver.requests
    assert request.headers["x-api-key"] == "k-9"
    assert "authorization" not in request.headers
    assert request.json == {
        "PhoneNumbers": "13912345678",
        "Params": {"content": '含"引号"'},
        "OutId": "m-2",
    }


def test_a_503_is_transient_and_the_retry_goes_through(http_receiver: HttpReceiver) -> None:
    http_receiver.script(Reply(503, "upstream busy"), Reply(200, {"message_id": 42}))
    settings = sms_settings(http_receiver)
    first = send_sms(settings, phone="13812345678", text="提醒", message_id="m-3")
    second = send_sms(settings, phone="13812345678", text="提醒", message_id="m-3")
    assert (first.status, first.transient) == ("failed", True)
    assert "503" in first.detail and "upstream busy" in first.detail
    assert (second.status, second.provider_id) == ("sent", "42")
    assert [r.json["id"] for r in http_receiver.requests] == ["m-3", "m-3"]


@pytest.mark.parametrize(
    ("status", "transient"), [(400, False), (401, False), (429, True), (500, True), (302, False)]
)
def test_gateway_statuses_are_classified(
    http_receiver: HttpReceiver, status: int, transient: bool
) -> None:
    http_receiver.script(Reply(status, {"error": "号码格式错误"}))
    outcome = send_sms(sms_settings(http_receiver), phone="13812345678", text="x", message_id="m")
    assert (outcome.status, outcome.transient) == ("failed", transient)
    assert f"HTTP {status}" in outcome.detail
    assert len(http_receiver.requests) == 1  # a redirect is not followed


def test_a_slow_gateway_times_out_transiently(http_receiver: HttpReceiver) -> None:
    http_receiver.script(Reply(200, {"id": "late"}, delay=1.0))
    settings = sms_settings(http_receiver, timeout=0.2)
    outcome = send_sms(settings, phone="13812345678", text="x", message_id="m")
    assert (outcome.status, outcome.transient) == ("failed", True)
    assert outcome.detail == "连接超时 / timed out"


def test_a_closed_gateway_port_is_transient() -> None:
    settings = SmsGatewaySettings(url=f"http://{LOOPBACK}:{closed_port()}/sms")
    outcome = send_sms(settings, phone="13812345678", text="x", message_id="m")
    assert (outcome.status, outcome.transient) == ("failed", True)
    assert outcome.detail == "连接被拒绝 / connection refused"


def test_a_number_that_is_not_a_mobile_bounces_without_a_request(
    http_receiver: HttpReceiver,
) -> None:
    outcome = send_sms(sms_settings(http_receiver), phone="021-6888 8888", text="x", message_id="m")
    assert (outcome.status, outcome.transient) == ("bounced", False)
    assert http_receiver.requests == []


# ---------------------------------------------------------------------------- robots


def test_a_wecom_alert_mentions_by_mobile(http_receiver: HttpReceiver) -> None:
    settings = RobotSettings("wecom", http_receiver.url + "/cgi-bin/webhook/send?key=k1")
    outcome = send_alert(
        settings, text="客户 ACME 逾期 45 天", mention_mobiles=("+86 13812345678", "@all"), now=NOW
    )
    assert outcome.status == "sent"
    (request,) = http_receiver.requests
    assert request.path == "/cgi-bin/webhook/send?key=k1"
    assert request.json == {
        "msgtype": "text",
        "text": {
            "content": "客户 ACME 逾期 45 天",
            "mentioned_mobile_list": ["13812345678", "@all"],
        },
    }


def test_a_dingtalk_alert_is_signed_and_mentions_in_the_text(http_receiver: HttpReceiver) -> None:
    secret = "SEC0123456789abcdef+/="
    settings = RobotSettings("dingtalk", http_receiver.url + "/robot/send?access_token=t1", secret)
    outcome = send_alert(
        settings, text="客户 ACME 逾期", mention_mobiles=("13812345678", "13912345678"), now=NOW
    )
    assert outcome.status == "sent"
    (request,) = http_receiver.requests
    assert request.json == {
        "msgtype": "text",
        "text": {"content": "客户 ACME 逾期 @13812345678 @13912345678"},
        "at": {"atMobiles": ["13812345678", "13912345678"], "isAtAll": False},
    }
    path, _, query = request.path.partition("?")
    params = urllib.parse.parse_qs(query, strict_parsing=True)
    assert path == "/robot/send"
    assert params["access_token"] == ["t1"]
    assert params["timestamp"] == ["1709602200000"]  # 2024-03-05 01:30:00 UTC
    expected = hmac.new(secret.encode(), f"1709602200000\n{secret}".encode(), hashlib.sha256)
    assert base64.b64decode(params["sign"][0]) == expected.digest()


@pytest.mark.parametrize(
    ("kind", "errcode", "transient"),
    [
        ("wecom", 45009, True),
        ("wecom", -1, True),
        ("wecom", 93000, False),
        ("dingtalk", 130101, True),
        ("dingtalk", 310000, False),
        ("dingtalk", 300001, False),
    ],
)
def test_robot_errcodes_are_classified(
    http_receiver: HttpReceiver, kind: str, errcode: int, transient: bool
) -> None:
    http_receiver.script(Reply(200, {"errcode": errcode, "errmsg": "refused"}))
    outcome = send_alert(RobotSettings(kind, http_receiver.url + "/hook"), text="x", now=NOW)
    assert (outcome.status, outcome.transient) == ("failed", transient)
    assert f"{errcode} refused" in outcome.detail


def test_a_robot_answer_that_is_not_json_fails_and_a_502_is_transient(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.script(Reply(200, "<html>login</html>"), Reply(502, "bad gateway"))
    settings = RobotSettings("wecom", http_receiver.url + "/hook")
    unexpected = send_alert(settings, text="x", now=NOW)
    gateway_down = send_alert(settings, text="x", now=NOW)
    assert (unexpected.status, unexpected.transient) == ("failed", False)
    assert (gateway_down.status, gateway_down.transient) == ("failed", True)
