"""Pure channel rules: mobile numbers, email addresses, the SMS body template, settings from the
environment, robot bodies and truncation. No sockets."""

from __future__ import annotations

import datetime as dt
import json
from email import message_from_string, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.channels.alerts import RobotSettings, epoch_milliseconds, robot_body, truncate_utf8
from huikuan.channels.email import SmtpSettings, message_id_header, normalise_email
from huikuan.channels.sms import (
    DEFAULT_BODY,
    SmsGatewaySettings,
    auth_headers,
    check_body_template,
    normalise_mobile,
    render_body,
)
from huikuan.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("86 19912345678", "19912345678"),
        ("(+86)13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("12812345678", None),  # 12x is not a mobile prefix
        ("1381234567", None),  # ten digits
        ("138123456789", None),  # twelve
        ("021-68888888", None),  # a landline
        ("+1 415 555 0100", None),
        ("", None),
        ("١٣٨١٢٣٤٥٦٧٨", None),  # Arabic-Indic digits are not accepted
    ],
)
def test_normalise_mobile(text: str, expected: str | None) -> None:
    assert normalise_mobile(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("finance@customer.example.com", "finance@customer.example.com"),
        ("  Wang.Li@Customer.COM ", "Wang.Li@customer.com"),
        ("wang＠customer．cn", "wang@customer.cn"),  # full-width ＠ and ．
        ("wang@customer。cn", "wang@customer.cn"),
        ("wang@localhost", None),
        ("王经理@customer.cn", None),
        ("wang@@customer.cn", None),
        ("wang customer.cn", None),
        ("a..b@customer.cn", None),
        ("", None),
    ],
)
def test_normalise_email(text: str, expected: str | None) -> None:
    assert normalise_email(text) == expected


@given(text=st.text(), phone=st.text(), message_id=st.text())
def test_any_text_in_the_body_template_yields_json_that_round_trips(
    text: str, phone: str, message_id: str
) -> None:
    body = json.loads(render_body(DEFAULT_BODY, phone=phone, text=text, message_id=message_id))
    assert body == {"to": phone, "text": text, "id": message_id}


@given(text=st.text())
def test_a_nested_template_round_trips_and_placeholders_in_the_text_stay_literal(
    text: str,
) -> None:
    template = '{"a": [{text}, {"b": {phone}}], "c": {message_id}, "d": 1}'
    text = text + "{phone}{text}"
    body = json.loads(render_body(template, phone="p", text=text, message_id="m"))
    assert body == {"a": [text, {"b": "p"}], "c": "m", "d": 1}


@pytest.mark.parametrize(
    "template",
    [
        '{"to": "{phone}", "text": {text}}',  # a quoted placeholder
        '{"to": {phone}}',  # no text
        "[{phone}, {text}]",  # not an object
        '{"to": {phone}, "text": {text}',  # not JSON
    ],
)
def test_a_bad_body_template_is_refused(template: str) -> None:
    with pytest.raises(InvalidInput, match=" / "):
        check_body_template(template)


def test_auth_header_forms() -> None:
    assert auth_headers("Bearer xyz") == {"Authorization": "Bearer xyz"}
    assert auth_headers("Basic dXNlcjpwYXNz") == {"Authorization": "Basic dXNlcjpwYXNz"}
    assert auth_headers("X-Api-Key: abc:def") == {"X-Api-Key": "abc:def"}
    assert auth_headers("  ") == {}


def test_message_id_header_is_a_valid_msg_id_that_keeps_our_id() -> None:
    header = message_id_header("run 2024-03-05/客户.A", "ar@huikuan-demo.cn")
    assert header == "<run%202024-03-05%2F%E5%AE%A2%E6%88%B7%2EA@huikuan-demo.cn>"
    parsed = message_from_string(f"Message-ID: {header}\n\n", policy=policy.default)
    assert parsed["Message-ID"] == header
    assert parsed["Message-ID"].defects == ()


# ---------------------------------------------------------------------------- from_env


def test_nothing_configured_gives_none() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmsGatewaySettings.from_env({"HUIKUAN_SMS_URL": " "}) is None
    assert RobotSettings.from_env({}) is None


def test_smtp_settings_from_env_with_defaults() -> None:
    settings = SmtpSettings.from_env(
        {"HUIKUAN_SMTP_HOST": "smtp.exmail.qq.com", "HUIKUAN_SMTP_PORT": "465",
         "HUIKUAN_SMTP_USER": "ar@acme.cn", "HUIKUAN_SMTP_PASSWORD": "pw"}
    )  # fmt: skip
    assert settings == SmtpSettings(
        host="smtp.exmail.qq.com", port=465, security="ssl", user="ar@acme.cn", password="pw",
        sender="ar@acme.cn", sender_name="", timeout=30.0,
    )  # fmt: skip
    assert "pw" not in repr(settings)
    plain = SmtpSettings.from_env(
        {"HUIKUAN_SMTP_HOST": "mail", "HUIKUAN_SMTP_SECURITY": "NONE",
         "HUIKUAN_SMTP_FROM": "ar@acme.cn", "HUIKUAN_SMTP_FROM_NAME": "华东机电",
         "HUIKUAN_SMTP_TIMEOUT": "7.5"}
    )  # fmt: skip
    assert plain is not None
    assert (plain.port, plain.security, plain.sender_name, plain.timeout) == (
        25,
        "none",
        "华东机电",
        7.5,
    )
    starttls = SmtpSettings.from_env({"HUIKUAN_SMTP_HOST": "mail", "HUIKUAN_SMTP_FROM": "a@b.cn"})
    assert starttls is not None and (starttls.port, starttls.security) == (587, "starttls")


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"HUIKUAN_SMTP_PORT": "smtp"}, "HUIKUAN_SMTP_PORT"),
        ({"HUIKUAN_SMTP_PORT": "70000"}, "65535"),
        ({"HUIKUAN_SMTP_SECURITY": "tls"}, "HUIKUAN_SMTP_SECURITY"),
        ({"HUIKUAN_SMTP_FROM": ""}, "HUIKUAN_SMTP_FROM"),
        ({"HUIKUAN_SMTP_FROM": "not an address"}, "HUIKUAN_SMTP_FROM"),
        ({"HUIKUAN_SMTP_PASSWORD": "pw"}, "password"),
        ({"HUIKUAN_SMTP_USER": "ar", "HUIKUAN_SMTP_PASSWORD": "密码"}, "ASCII"),
        ({"HUIKUAN_SMTP_TIMEOUT": "-1"}, "HUIKUAN_SMTP_TIMEOUT"),
        ({"HUIKUAN_SMTP_TIMEOUT": "soon"}, "HUIKUAN_SMTP_TIMEOUT"),
    ],
)
def test_bad_smtp_settings_are_refused_bilingually(changes: dict[str, str], mentions: str) -> None:
    environ = {"HUIKUAN_SMTP_HOST": "mail", "HUIKUAN_SMTP_FROM": "ar@acme.cn", **changes}
    with pytest.raises(InvalidInput, match=" / ") as refused:
        SmtpSettings.from_env(environ)
    assert mentions in refused.value.message


def test_sms_settings_from_env() -> None:
    settings = SmsGatewaySettings.from_env(
        {"HUIKUAN_SMS_URL": "https://sms.example.com/send", "HUIKUAN_SMS_AUTH": "Bearer t"}
    )
    assert settings == SmsGatewaySettings("https://sms.example.com/send", "Bearer t", DEFAULT_BODY)
    with pytest.raises(InvalidInput, match="HUIKUAN_SMS_URL"):
        SmsGatewaySettings.from_env({"HUIKUAN_SMS_URL": "ftp://sms.example.com"})
    with pytest.raises(InvalidInput, match="HUIKUAN_SMS_BODY"):
        SmsGatewaySettings.from_env(
            {"HUIKUAN_SMS_URL": "https://sms.example.com", "HUIKUAN_SMS_BODY": '{"to": "{phone}"}'}
        )
    with pytest.raises(InvalidInput, match="HUIKUAN_SMS_AUTH"):
        SmsGatewaySettings.from_env(
            {"HUIKUAN_SMS_URL": "https://sms.example.com", "HUIKUAN_SMS_AUTH": "Bearer 令牌"}
        )


def test_robot_settings_from_env() -> None:
    wecom = RobotSettings.from_env(
        {"HUIKUAN_ROBOT_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
    )
    assert wecom is not None and wecom.kind == "wecom"
    ding = RobotSettings.from_env(
        {"HUIKUAN_ROBOT_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
         "HUIKUAN_ROBOT_SECRET": "SECabc", "HUIKUAN_ROBOT_TIMEOUT": "3"}
    )  # fmt: skip
    assert ding is not None and (ding.kind, ding.secret, ding.timeout) == (
        "dingtalk",
        "SECabc",
        3.0,
    )
    assert "SECabc" not in repr(ding)
    with pytest.raises(InvalidInput, match="HUIKUAN_ROBOT_KIND"):
        RobotSettings.from_env({"HUIKUAN_ROBOT_URL": "https://robots.internal/hook"})
    with pytest.raises(InvalidInput, match="HUIKUAN_ROBOT_SECRET"):
        RobotSettings.from_env(
            {"HUIKUAN_ROBOT_URL": "https://qyapi.weixin.qq.com/x", "HUIKUAN_ROBOT_SECRET": "s"}
        )


# ---------------------------------------------------------------------------- robots


def test_robot_bodies_drop_bad_mentions_and_repeat_none() -> None:
    body = robot_body("wecom", "逾期提醒", ("138 1234 5678", "13812345678", "not a phone"))
    assert body["text"]["mentioned_mobile_list"] == ["13812345678"]
    ding = robot_body("dingtalk", "请 @13812345678 跟进", ("13812345678", "@all"))
    assert ding["text"]["content"] == "请 @13812345678 跟进"
    assert ding["at"] == {"atMobiles": ["13812345678"], "isAtAll": True}


def test_a_long_wecom_alert_is_cut_to_2048_bytes() -> None:
    body = robot_body("wecom", "逾期" * 2000)
    content = body["text"]["content"]
    assert len(content.encode()) <= 2048
    assert content.endswith("…")


@given(text=st.text(), limit=st.integers(min_value=3, max_value=64))
def test_truncate_utf8_stays_within_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    cut = truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    if cut != text:
        assert cut.endswith("…") and text.startswith(cut[:-1])


def test_epoch_milliseconds_of_a_naive_now_is_local_time() -> None:
    aware = dt.datetime(2024, 3, 5, 9, 30, 0, 123000, tzinfo=dt.UTC)
    assert epoch_milliseconds(aware) == 1709631000123
    naive = dt.datetime(2024, 3, 5, 9, 30)
    assert epoch_milliseconds(naive) == int(naive.timestamp()) * 1000
