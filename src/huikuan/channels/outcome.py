"""What became of one attempt to send a message, whatever the channel.

Every transport (SMTP, the SMS gateway, the group robots) answers with a ``SendOutcome`` instead
of raising, so the collections run can record the attempt and decide by ``transient`` alone
whether to try again later: a refused connection, a timeout, an SMTP 4xx or an HTTP 5xx/429 may
pass; a bounced address, a wrong password or a rejected request will not.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

SENT = "sent"
BOUNCED = "bounced"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """``status`` is ``"sent"``, ``"bounced"`` (the address is bad) or ``"failed"``."""

    status: str
    transient: bool  # True when retrying later may succeed
    detail: str  # bilingual "中文 / English" when the words are ours, else the server's text
    provider_id: str = ""  # the gateway's message id or the SMTP queue id, when known

    @property
    def ok(self) -> bool:
        return self.status == SENT


def sent(provider_id: str = "", detail: str = "已发送 / sent") -> SendOutcome:
    return SendOutcome(SENT, False, detail, provider_id)


def bounced(detail: str) -> SendOutcome:
    return SendOutcome(BOUNCED, False, detail)


def failed(detail: str, *, transient: bool) -> SendOutcome:
    return SendOutcome(FAILED, transient, detail)


def network_failure(error: BaseException) -> SendOutcome:
    """A connection that could not be made or broke off; only a bad certificate is final."""
    # urllib wraps the socket error in URLError.reason; smtplib raises SMTPServerDisconnected
    # from it (a read timeout): classify the socket error itself.
    reason = getattr(error, "reason", None)
    if isinstance(reason, BaseException):
        error = reason
    elif isinstance(error.__context__, OSError):
        error = error.__context__
    if isinstance(error, ssl.SSLCertVerificationError):
        return failed(f"证书验证失败 / certificate verification failed: {error}", transient=False)
    if isinstance(error, TimeoutError):
        return failed("连接超时 / timed out", transient=True)
    if isinstance(error, ConnectionRefusedError):
        return failed("连接被拒绝 / connection refused", transient=True)
    if isinstance(error, socket.gaierror):
        return failed(f"无法解析主机名 / host name not resolved: {error}", transient=True)
    return failed(f"网络错误 / network error: {error or type(error).__name__}", transient=True)
