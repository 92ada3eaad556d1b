"""POST a JSON body to an HTTP gateway (the SMS gateway, the group robots) and classify the answer.

The standard library's ``urllib.request`` is enough for one POST and keeps the runtime free of an
HTTP client dependency. Redirects are not followed: urllib would turn a redirected POST into a
GET without its body, so a message would be silently lost; a 3xx is reported instead. Proxies
from the environment (``https_proxy``, ``no_proxy``) are honoured, as for any urllib request.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from huikuan.channels.outcome import SendOutcome, failed, network_failure
from huikuan.core.errors import InvalidInput

MAX_REPLY_BYTES = 64 * 1024
DETAIL_CHARS = 300


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace").strip()

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or ``{}`` when it is not one."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def post_json(
    url: str, body: bytes, *, headers: Mapping[str, str], timeout: float
) -> HttpReply | SendOutcome:
    """The server's reply (any status), or a failed outcome when no reply came."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return HttpReply(response.status, response.read(MAX_REPLY_BYTES))
    except urllib.error.HTTPError as error:
        with error:
            return HttpReply(error.code, error.read(MAX_REPLY_BYTES))
    except (OSError, http.client.HTTPException) as error:
        return network_failure(error)
    except ValueError as error:  # an unusable URL or header
        return failed(f"请求无效 / invalid request: {error}", transient=False)


def refusal(reply: HttpReply) -> SendOutcome | None:
    """None for a 2xx; else failed, transient for 429 and 5xx (the gateway may recover)."""
    if 200 <= reply.status < 300:
        return None
    transient = reply.status == 429 or reply.status >= 500
    text = reply.text()[:DETAIL_CHARS]
    return failed(
        f"网关返回 HTTP {reply.status} / gateway answered HTTP {reply.status}: {text}",
        transient=transient,
    )


def check_url(url: str, variable: str) -> str:
    """An http(s) URL with a host, else InvalidInput naming the setting."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{variable} 须为 http:// 或 https:// 网址 / {variable} must be an http:// or https:// URL"
        )
    return url.strip()


def parse_timeout(text: str | None, variable: str, default: float) -> float:
    """Seconds, a positive number; the default when unset."""
    if text is None or not text.strip():
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise InvalidInput(
            f"{variable} 须为 0 到 600 之间的秒数 / {variable} must be seconds between 0 and 600"
        )
    return seconds
