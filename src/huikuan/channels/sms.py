"""SMS reminders to customers through an HTTP gateway the company already pays for.

Every SMS provider has its own API, so the request body is a JSON template set by the operator
(``HUIKUAN_SMS_BODY``) with three placeholders, ``{phone}``, ``{text}`` and ``{message_id}``,
written *without* quotes: each is replaced by a JSON string literal (``json.dumps``), so a quote,
a backslash, a line break or Chinese text in a message can never break the JSON or inject a
field. ``{phone}`` is the 11-digit mainland number without +86; ``{message_id}`` is our
idempotency key, the same on every retry, for gateways that de-duplicate.

``HUIKUAN_SMS_AUTH`` is sent as the ``Authorization`` header (``Bearer xyz``, ``Basic …``),
unless it is written ``Header-Name: value`` (a header name, a colon, the value; e.g.
``X-Api-Key: xyz``), in which case it is sent as that header instead.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from huikuan.channels.gateway import HttpReply, check_url, parse_timeout, post_json, refusal
from huikuan.channels.outcome import SendOutcome, bounced, sent
from huikuan.core.errors import InvalidInput

DEFAULT_BODY = '{"to": {phone}, "text": {text}, "id": {message_id}}'
DEFAULT_TIMEOUT = 10.0

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s()\-]")
_PLACEHOLDER = re.compile(r"\{(phone|text|message_id)\}")
_CUSTOM_HEADER = re.compile(r"([A-Za-z0-9-]+):\s*(\S.*)")


def normalise_mobile(text: str) -> str | None:
    """The 11-digit mainland mobile number in ``text``, or None.

    Accepts full-width digits, spaces, hyphens and brackets, and a +86, 0086 or 86 prefix:
    ``+86 138-1234-5678`` → ``13812345678``.
    """
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits if _MOBILE.fullmatch(digits) else None


def render_body(template: str, *, phone: str, text: str, message_id: str) -> str:
    """The template with each placeholder replaced by a JSON string literal, in one pass
    (a ``{text}`` inside the message itself is never replaced again)."""
    values = {"phone": phone, "text": text, "message_id": message_id}
    return _PLACEHOLDER.sub(
        lambda match: json.dumps(values[match.group(1)], ensure_ascii=False), template
    )


def check_body_template(template: str) -> str:
    """The template when it renders to a JSON object that carries ``{phone}`` and ``{text}``."""
    sample = render_body(template, phone="13800000000", text='"\\\n', message_id="x")
    try:
        valid = isinstance(json.loads(sample), dict)
    except ValueError:
        valid = False
    if not valid or "{phone}" not in template or "{text}" not in template:
        raise InvalidInput(
            "HUIKUAN_SMS_BODY 须为含 {phone} 和 {text} 的 JSON 对象，占位符不加引号 / "
            "HUIKUAN_SMS_BODY must be a JSON object with {phone} and {text}, placeholders unquoted"
        )
    return template


def auth_headers(auth: str) -> dict[str, str]:
    """``Name: value`` → that header; anything else → ``Authorization``; empty → none."""
    auth = auth.strip()
    if not auth:
        return {}
    custom = _CUSTOM_HEADER.fullmatch(auth)
    return {custom.group(1): custom.group(2)} if custom else {"Authorization": auth}


@dataclass(frozen=True, slots=True)
class SmsGatewaySettings:
    url: str
    auth_header: str = field(default="", repr=False)  # see the module docstring
    body_template: str = DEFAULT_BODY
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        check_url(self.url, "HUIKUAN_SMS_URL")
        check_body_template(self.body_template)
        if not all(" " <= c <= "~" for c in self.auth_header):
            raise InvalidInput(
                "HUIKUAN_SMS_AUTH 只能含可打印 ASCII 字符 / "
                "HUIKUAN_SMS_AUTH may hold printable ASCII characters only"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SmsGatewaySettings | None:
        """Settings from ``HUIKUAN_SMS_*``; None when ``HUIKUAN_SMS_URL`` is not set."""
        url = environ.get("HUIKUAN_SMS_URL", "").strip()
        if not url:
            return None
        return cls(
            url=url,
            auth_header=environ.get("HUIKUAN_SMS_AUTH", "").strip(),
            body_template=environ.get("HUIKUAN_SMS_BODY", "").strip() or DEFAULT_BODY,
            timeout=parse_timeout(
                environ.get("HUIKUAN_SMS_TIMEOUT"), "HUIKUAN_SMS_TIMEOUT", DEFAULT_TIMEOUT
            ),
        )


def send_sms(
    settings: SmsGatewaySettings, *, phone: str, text: str, message_id: str
) -> SendOutcome:
    """POST one SMS to the gateway; never raises for a network or gateway problem.

    sent: a 2xx (``provider_id`` from the reply's ``id``/``message_id`` when present).
    bounced: ``phone`` is not a mainland mobile number (nothing is sent). failed, transient: 429,
    5xx, timeout, connection refused or dropped. failed, not transient: other 4xx, a 3xx.
    """
    mobile = normalise_mobile(phone)
    if mobile is None:
        return bounced(f"手机号码无效 / invalid mobile number: {phone}")
    body = render_body(settings.body_template, phone=mobile, text=text, message_id=message_id)
    reply = post_json(
        settings.url,
        body.encode("utf-8"),
        headers=auth_headers(settings.auth_header),
        timeout=settings.timeout,
    )
    if isinstance(reply, SendOutcome):
        return reply
    return refusal(reply) or sent(_provider_id(reply))


def _provider_id(reply: HttpReply) -> str:
    answer = reply.json_object()
    for key in ("id", "message_id", "messageId"):
        value = answer.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return ""
