"""Servers on 127.0.0.1 that stand in for the outside world in tests: a mail server and an HTTP
gateway (SMS gateway, group robot), each recording what it received.

Both are context managers and need no pytest (``tests/loopback_fixtures.py`` wraps them as
fixtures). They listen on loopback only, on a free port, and never forward anything.

- ``running_smtp_server()`` → ``SmtpServer``: aiosmtpd; ``server.messages`` holds each
  ``ReceivedMail`` (envelope sender and recipients, the parsed ``EmailMessage``, the raw bytes);
  ``server.reject(address, 550)`` (or 451) refuses that recipient at RCPT; ``users`` turns on
  AUTH PLAIN/LOGIN; ``tls_context`` offers STARTTLS, or with ``implicit_tls`` the whole
  connection is TLS (port-465 style).
- ``running_http_receiver()`` → ``HttpReceiver``: ``receiver.requests`` holds each
  ``ReceivedRequest`` (method, path and query, headers, raw body, parsed JSON);
  ``receiver.script(503, 200)`` or ``receiver.script(Reply(200, {"errcode": 45009}))`` sets the
  next answers in order, after which ``receiver.default`` answers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SmtpProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def closed_port() -> int:
    """A loopback port where a connection is refused."""
    return free_port()


# ---------------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class _Recorder:
    """aiosmtpd handler: refuses the scripted recipients, records every accepted message."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self.refusals: dict[str, str] = {}
        self._lock = threading.Lock()

    async def handle_RCPT(
        self,
        server: SmtpProtocol,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.refusals.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SmtpProtocol, session: Session, envelope: Envelope) -> str:
        raw = cast(bytes, envelope.original_content or envelope.content)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        mail = ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, raw)
        with self._lock:
            self.messages.append(mail)
            number = len(self.messages)
        return f"250 2.0.0 Ok: queued as HK{number:06d}"


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: _Recorder

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.recorder.messages

    def reject(self, address: str, code: int = 550, text: str = "") -> None:
        """Refuse ``address`` at RCPT with ``code`` (550: no such user; 451: try again later)."""
        default = "5.1.1 No such user" if code >= 500 else "4.7.1 Try again later"
        self.recorder.refusals[address.lower()] = f"{code} {text or default}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """The messages once ``count`` have arrived (delivery is synchronous; this is a guard)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)


class _Authenticator:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(
        self, server: SmtpProtocol, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


@contextlib.contextmanager
def running_smtp_server(
    *,
    users: dict[str, str] | None = None,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 recording what it receives.

    ``users`` ({login: password}) offers AUTH and requires it; ``tls_context`` offers STARTTLS
    (or, with ``implicit_tls``, wraps the whole connection like port 465).
    """
    recorder = _Recorder()
    options: dict[str, Any] = {}
    if users is not None:
        options.update(authenticator=_Authenticator(users), auth_required=True)
        options.update(auth_require_tls=tls_context is not None and not implicit_tls)
    if tls_context is not None and not implicit_tls:
        options.update(tls_context=tls_context, require_starttls=True)
    controller = _start_controller(recorder, options, tls_context if implicit_tls else None)
    try:
        yield SmtpServer(LOOPBACK, controller.port, recorder)
    finally:
        controller.stop()


def _start_controller(
    recorder: _Recorder, options: dict[str, Any], ssl_context: ssl.SSLContext | None
) -> Controller:
    """aiosmtpd cannot listen on port 0, so try a few free ports (another process may win one)."""
    for _attempt in range(5):
        controller = Controller(
            recorder, hostname=LOOPBACK, port=free_port(), ssl_context=ssl_context, **options
        )
        try:
            controller.start()
        except OSError:
            continue
        return controller
    raise RuntimeError("no free loopback port for the SMTP server")


# ---------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, a JSON body (or text), and an optional delay in seconds."""

    status: int = 200
    body: Any = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any  # the parsed body, None when it is not JSON


class HttpReceiver:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.requests: list[ReceivedRequest] = []
        self.default = Reply(200, {"errcode": 0, "errmsg": "ok", "id": "gw-1"})
        self._script: list[Reply] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123``; append any path."""
        return f"http://{LOOPBACK}:{self.server.server_address[1]}"

    def script(self, *replies: int | Reply) -> None:
        """The next answers, in order: a status alone answers ``{}``."""
        with self._lock:
            self._script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._script.pop(0) if self._script else self.default


class _Handler(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = ReceivedRequest(self.command, self.path, headers, body, _json_or_none(body))
        reply = self.server.receiver._record(request)
        time.sleep(reply.delay)
        payload = reply.body if isinstance(reply.body, bytes | str) else json.dumps(reply.body)
        data = payload.encode() if isinstance(payload, str) else payload
        with contextlib.suppress(OSError):  # the client may have given up (a timeout test)
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError:
        return None


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    receiver: HttpReceiver


@contextlib.contextmanager
def running_http_receiver() -> Iterator[HttpReceiver]:
    """An HTTP server on 127.0.0.1 (free port) recording requests, answering as scripted."""
    server = _ReceiverServer((LOOPBACK, 0), _Handler)
    receiver = HttpReceiver(server)
    server.receiver = receiver
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
