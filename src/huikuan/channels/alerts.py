"""Internal alerts (to salespeople and collectors) through a group robot's webhook.

Chinese companies run their day in WeCom (企业微信) or DingTalk (钉钉) groups, so an alert posted
there by the group's robot is read, and the people it concerns are @-mentioned by mobile number.

Error codes: both robots answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success.
Any other errcode is a failure, transient only when retrying later can help:

- WeCom: ``45009`` (API frequency limit, 20 messages a minute) and ``-1`` (system busy);
- DingTalk: ``130101`` (sending too fast, 20 a minute) and ``-1`` (system busy).

Everything else (a wrong key or token, a failed signature or keyword check, an IP not on the
robot's allow list, a message too long) is final until someone fixes the settings. HTTP 429 and
5xx, timeouts and refused connections are transient, as for any gateway.

DingTalk's "加签" (signing) is applied when a secret is set: the timestamp in milliseconds (from
``now``: nothing here reads the clock), ``"{timestamp}\\n{secret}"`` signed with HMAC-SHA256 keyed
with the secret, base64, URL-encoded, appended as ``&timestamp=…&sign=…``. DingTalk refuses a
timestamp more than an hour away from its own clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from huikuan.channels.gateway import HttpReply, check_url, parse_timeout, post_json, refusal
from huikuan.channels.outcome import SendOutcome, failed, sent
from huikuan.channels.sms import normalise_mobile
from huikuan.core.errors import InvalidInput

WECOM = "wecom"
DINGTALK = "dingtalk"
TRANSIENT_ERRCODES = {WECOM: frozenset({-1, 45009}), DINGTALK: frozenset({-1, 130101})}
# Content limits: WeCom documents 2048 bytes; DingTalk's is larger, 4000 bytes is safe.
MAX_CONTENT_BYTES = {WECOM: 2048, DINGTALK: 4000}
HOSTS = {"qyapi.weixin.qq.com": WECOM, "oapi.dingtalk.com": DINGTALK}
MENTION_ALL = "@all"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class RobotSettings:
    """``kind`` is ``"wecom"`` or ``"dingtalk"``; ``secret`` is DingTalk's signing secret."""

    kind: str
    url: str
    secret: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        check_url(self.url, "HUIKUAN_ROBOT_URL")
        if self.kind not in TRANSIENT_ERRCODES:
            raise InvalidInput(
                "HUIKUAN_ROBOT_KIND 须为 wecom 或 dingtalk / "
                "HUIKUAN_ROBOT_KIND must be wecom or dingtalk"
            )
        if self.secret and self.kind == WECOM:
            raise InvalidInput(
                "企业微信机器人没有签名密钥，请去掉 HUIKUAN_ROBOT_SECRET / "
                "WeCom robots have no signing secret: unset HUIKUAN_ROBOT_SECRET"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RobotSettings | None:
        """Settings from ``HUIKUAN_ROBOT_*``; None when ``HUIKUAN_ROBOT_URL`` is not set.

        ``HUIKUAN_ROBOT_KIND`` may be left out for the robots' usual hosts
        (qyapi.weixin.qq.com, oapi.dingtalk.com)."""
        url = environ.get("HUIKUAN_ROBOT_URL", "").strip()
        if not url:
            return None
        host = urllib.parse.urlsplit(url).hostname or ""
        return cls(
            kind=environ.get("HUIKUAN_ROBOT_KIND", "").strip().lower() or HOSTS.get(host, ""),
            url=url,
            secret=environ.get("HUIKUAN_ROBOT_SECRET", "").strip(),
            timeout=parse_timeout(
                environ.get("HUIKUAN_ROBOT_TIMEOUT"), "HUIKUAN_ROBOT_TIMEOUT", DEFAULT_TIMEOUT
            ),
        )


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, ending in "…" when it was cut."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    cut = text.encode("utf-8")[: max_bytes - len("…".encode())]
    return cut.decode("utf-8", "ignore") + "…"


def mentions(mobiles: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The valid mobile numbers (normalised, once each) and whether ``"@all"`` was asked for.
    Entries that are neither are dropped."""
    numbers = (normalise_mobile(m) for m in mobiles if m != MENTION_ALL)
    return tuple(dict.fromkeys(n for n in numbers if n)), MENTION_ALL in mobiles


def robot_body(kind: str, text: str, mention_mobiles: tuple[str, ...] = ()) -> dict[str, Any]:
    """The webhook's JSON body. DingTalk only highlights a mention written in the text too,
    so ``@mobile`` is appended there."""
    mobiles, everyone = mentions(mention_mobiles)
    content = truncate_utf8(text, MAX_CONTENT_BYTES[kind])
    if kind == WECOM:
        listed = [*mobiles, MENTION_ALL] if everyone else list(mobiles)
        return {"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": listed}}
    content += "".join(f" @{m}" for m in mobiles if f"@{m}" not in content)
    return {
        "msgtype": "text",
        "text": {"content": content},
        "at": {"atMobiles": list(mobiles), "isAtAll": everyone},
    }


def epoch_milliseconds(now: dt.datetime) -> int:
    """Exact milliseconds since 1970 (a naive ``now`` is local time, as in Python)."""
    return (now.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        milliseconds=1
    )


def dingtalk_signed_url(url: str, secret: str, now: dt.datetime) -> str:
    """``url`` with DingTalk's ``timestamp`` and ``sign`` parameters (see the module docstring)."""
    timestamp = str(epoch_milliseconds(now))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign}"


def send_alert(
    settings: RobotSettings,
    *,
    text: str,
    mention_mobiles: tuple[str, ...] = (),
    now: dt.datetime,
) -> SendOutcome:
    """Post ``text`` to the group, @-mentioning ``mention_mobiles`` (``"@all"`` for everyone).

    Never raises for a network or robot problem; see the module docstring for the errcodes.
    """
    url = settings.url
    if settings.kind == DINGTALK and settings.secret:
        url = dingtalk_signed_url(url, settings.secret, now)
    body = json.dumps(robot_body(settings.kind, text, mention_mobiles), ensure_ascii=False)
    reply = post_json(url, body.encode("utf-8"), headers={}, timeout=settings.timeout)
    if isinstance(reply, SendOutcome):
        return reply
    return refusal(reply) or _robot_answer(settings.kind, reply)


def _robot_answer(kind: str, reply: HttpReply) -> SendOutcome:
    answer = reply.json_object()
    errcode = answer.get("errcode")
    if errcode == 0:
        return sent()
    if not isinstance(errcode, int):
        return failed(
            f"机器人应答无法识别 / unexpected robot answer: {reply.text()[:300]}", transient=False
        )
    return failed(
        f"机器人拒绝 / refused by the robot: {errcode} {answer.get('errmsg', '')}",
        transient=errcode in TRANSIENT_ERRCODES[kind],
    )
