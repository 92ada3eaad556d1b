"""pytest fixtures over ``tests/loopback.py``: a fresh loopback SMTP server or HTTP receiver per
test. Import them into a test module (or a conftest) to use them::

    from tests.loopback_fixtures import http_receiver_fixture, smtp_server_fixture  # noqa: F401

and ask for ``smtp_server`` / ``http_receiver`` as arguments. The functions have other names than
the fixtures (``name=``) so that ruff does not see the arguments as redefining the imports (F811).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.loopback import HttpReceiver, SmtpServer, running_http_receiver, running_smtp_server


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture(name="http_receiver")
def http_receiver_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    # urllib honours proxy variables: make sure a request to the receiver never leaves loopback.
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with running_http_receiver() as receiver:
        yield receiver
