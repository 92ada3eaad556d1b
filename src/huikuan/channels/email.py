"""Email to customers over SMTP: reminders, statements of open items, dunning letters.

The standard library's ``smtplib`` and ``email`` are enough and need no dependency. The message
is built entirely in 7-bit form (RFC 2047 encoded-words for Chinese subjects and names, RFC 2231
for Chinese attachment file names, base64 or quoted-printable bodies), so any server accepts it
without the 8BITMIME or SMTPUTF8 extensions.

Our ``message_id`` (the idempotency key the collections run keeps for each message) becomes the
``Message-ID`` header, so a message sent again after a timeout is recognisable as the same one,
by us and by the customer's mail client. MAIL/RCPT/DATA are sent one by one rather than through
``sendmail`` so the server's answer to DATA (which carries its queue id) is kept, and a message
the server accepted is never reported as failed because the goodbye (QUIT) went wrong.

Nothing here raises for a send that went wrong: ``send_email`` answers with a ``SendOutcome``.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from huikuan.channels.gateway import parse_timeout
from huikuan.channels.outcome import SendOutcome, bounced, failed, network_failure, sent
from huikuan.core.errors import InvalidInput

SECURITY_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_TIMEOUT = 30.0
# 7-bit bodies (base64 or quoted-printable, whichever is shorter) and CRLF line ends.
MESSAGE_POLICY = policy.SMTP.clone(cte_type="7bit")

_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_DOMAIN}")
_QUEUE_ID = re.compile(rb"queued as ([A-Za-z0-9._-]+)", re.IGNORECASE)


def normalise_email(text: str) -> str | None:
    """The address in ``text`` (full-width ＠ and ． accepted, domain lower-cased), or None.

    Only ASCII addresses with a dotted domain: an address needing SMTPUTF8 is refused here
    rather than by the customer's server days later.
    """
    address = unicodedata.normalize("NFKC", text).replace("。", ".").strip()
    if not _ADDRESS.fullmatch(address):
        return None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the outgoing mail server. ``security``: ``"none"``, ``"starttls"``, ``"ssl"``."""

    host: str
    port: int
    security: str
    user: str
    password: str = field(repr=False)
    sender: str  # the From address
    sender_name: str = ""  # the From display name, e.g. the company's name
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        _check_settings(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SmtpSettings | None:
        """Settings from ``HUIKUAN_SMTP_*``; None when ``HUIKUAN_SMTP_HOST`` is not set."""
        host = environ.get("HUIKUAN_SMTP_HOST", "").strip()
        if not host:
            return None
        security = _security(environ)
        user = environ.get("HUIKUAN_SMTP_USER", "").strip()
        return cls(
            host=host,
            port=_port(environ.get("HUIKUAN_SMTP_PORT"), SECURITY_PORTS[security]),
            security=security,
            user=user,
            password=environ.get("HUIKUAN_SMTP_PASSWORD", ""),
            sender=environ.get("HUIKUAN_SMTP_FROM", "").strip() or (user if "@" in user else ""),
            sender_name=environ.get("HUIKUAN_SMTP_FROM_NAME", "").strip(),
            timeout=parse_timeout(
                environ.get("HUIKUAN_SMTP_TIMEOUT"), "HUIKUAN_SMTP_TIMEOUT", DEFAULT_TIMEOUT
            ),
        )


def _security(environ: Mapping[str, str]) -> str:
    """As set, else ``ssl`` on port 465 and ``starttls`` anywhere else."""
    text = environ.get("HUIKUAN_SMTP_SECURITY", "").strip().lower()
    if not text:
        return "ssl" if environ.get("HUIKUAN_SMTP_PORT", "").strip() == "465" else "starttls"
    if text not in SECURITY_PORTS:
        raise InvalidInput(
            "HUIKUAN_SMTP_SECURITY 须为 none、starttls 或 ssl / "
            "HUIKUAN_SMTP_SECURITY must be none, starttls or ssl"
        )
    return text


def _port(text: str | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    if not text.strip().isdigit():
        raise InvalidInput("HUIKUAN_SMTP_PORT 须为端口号 / HUIKUAN_SMTP_PORT must be a port number")
    return int(text)


def _check_settings(settings: SmtpSettings) -> None:
    if settings.security not in SECURITY_PORTS:
        raise InvalidInput(
            "SMTP 加密方式须为 none、starttls 或 ssl / SMTP security must be none, starttls or ssl"
        )
    if not 0 < settings.port < 65536:
        raise InvalidInput("SMTP 端口须在 1 到 65535 之间 / SMTP port must be between 1 and 65535")
    if normalise_email(settings.sender) != settings.sender:
        raise InvalidInput(
            f"发件地址无效（HUIKUAN_SMTP_FROM）: {settings.sender!r} / "
            f"invalid sender address (HUIKUAN_SMTP_FROM): {settings.sender!r}"
        )
    if not (settings.user + settings.password).isascii():
        # smtplib sends AUTH PLAIN/LOGIN as ASCII; providers issue ASCII app passwords (授权码).
        raise InvalidInput(
            "SMTP 用户名和密码只能含 ASCII 字符 / SMTP user and password must be ASCII"
        )
    if settings.password and not settings.user:
        raise InvalidInput("设置了 SMTP 密码却没有用户名 / an SMTP password is set without a user")
    if not settings.timeout > 0:
        raise InvalidInput("SMTP 超时须为正数 / SMTP timeout must be positive")


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str  # may be Chinese: encoded per RFC 2231
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One message. ``message_id`` is our idempotency key, the same on every retry."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    message_id: str

    def __post_init__(self) -> None:
        if not self.to:
            raise InvalidInput("邮件没有收件人 / the email has no recipient")
        if not self.message_id:
            raise InvalidInput("邮件缺少 message_id / the email has no message_id")


def message_id_header(message_id: str, sender: str) -> str:
    """``<message_id@sender's domain>``; characters not allowed there are percent-encoded."""
    local = urllib.parse.quote(message_id, safe="").replace(".", "%2E")
    return f"<{local}@{sender.rpartition('@')[2]}>"


def build_message(
    settings: SmtpSettings,
    email: OutgoingEmail,
    recipients: tuple[str, ...] | None = None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The MIME message: text (+ HTML alternative) and attachments. Pure: no clock, no network.

    ``recipients`` are the addresses for the To header (default ``email.to``); ``now``, when
    given, becomes the Date header (servers add one when it is missing).
    """
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = Address(settings.sender_name, addr_spec=settings.sender)
    message["To"] = ", ".join(recipients or email.to)
    message["Subject"] = " ".join(email.subject.split())  # a line break would end the header
    message["Message-ID"] = message_id_header(email.message_id, settings.sender)
    message["X-Huikuan-Message-Id"] = email.message_id
    if now is not None:
        message["Date"] = format_datetime(now if now.tzinfo else now.astimezone())
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def send_email(
    settings: SmtpSettings, email: OutgoingEmail, *, now: dt.datetime | None = None
) -> SendOutcome:
    """Send one email; never raises for a network or server problem.

    sent: the server accepted it for at least one recipient (the others are named in ``detail``).
    bounced: every recipient was refused with 5xx, or no address was valid. failed, transient:
    a 4xx, a refused connection, a timeout, a dropped connection. failed, not transient: login
    refused, a 5xx to the sender or to the message itself, STARTTLS/AUTH not offered, a bad
    certificate.
    """
    recipients = tuple(a for a in map(normalise_email, email.to) if a)
    # Code 0: refused here, never offered to the server.
    invalid = {a: (0, b"invalid address") for a in email.to if normalise_email(a) is None}
    if not recipients:
        return bounced(f"收件地址无效 / invalid recipient address: {', '.join(email.to)}")
    data = build_message(settings, email, recipients, now).as_bytes()
    try:
        refused, reply = _deliver(settings, recipients, data)
    except smtplib.SMTPRecipientsRefused as error:
        return _all_refused({**invalid, **error.recipients})
    except smtplib.SMTPAuthenticationError as error:
        return failed(f"SMTP 登录被拒绝 / SMTP login refused: {_reply(error)}", transient=False)
    except smtplib.SMTPNotSupportedError as error:
        return failed(
            f"邮件服务器不支持 / not supported by the mail server: {error}", transient=False
        )
    except smtplib.SMTPResponseException as error:
        return failed(
            f"邮件服务器拒绝 / refused by the mail server: {_reply(error)}",
            transient=not 500 <= error.smtp_code < 600,
        )
    except (smtplib.SMTPException, OSError) as error:
        return network_failure(error)
    return _accepted(reply, {**invalid, **refused})


def _deliver(
    settings: SmtpSettings, recipients: tuple[str, ...], data: bytes
) -> tuple[dict[str, tuple[int, bytes]], bytes]:
    smtp = _connect(settings)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password)
        return _transmit(smtp, settings.sender, recipients, data)
    finally:
        _quit(smtp)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


def _transmit(
    smtp: smtplib.SMTP, sender: str, recipients: tuple[str, ...], data: bytes
) -> tuple[dict[str, tuple[int, bytes]], bytes]:
    """MAIL, RCPT for each recipient, DATA: the refused recipients and the answer to DATA."""
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return refused, reply


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{a}: {code} {_text(reply)}" if code else f"{a}: {_text(reply)}"
        for a, (code, reply) in refused.items()
    )


def _all_refused(refused: Mapping[str, tuple[int, bytes]]) -> SendOutcome:
    """Every recipient refused: a bounce when all refusals are final (5xx), else retry later."""
    if all(code == 0 or 500 <= code < 600 for code, _ in refused.values()):
        return bounced(f"收件人被拒收 / recipient refused: {_refusals(refused)}")
    return failed(f"收件人暂时被拒 / recipient deferred: {_refusals(refused)}", transient=True)


def _accepted(reply: bytes, refused: Mapping[str, tuple[int, bytes]]) -> SendOutcome:
    match = _QUEUE_ID.search(reply)
    queue_id = match.group(1).decode("ascii") if match else ""
    if not refused:
        return sent(queue_id)
    return sent(
        queue_id, f"已发送，部分收件人被拒收 / sent; some recipients refused: {_refusals(refused)}"
    )
