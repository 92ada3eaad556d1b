"""The aging page as a person sees it, and the real server answering on loopback."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.web.app import create_app

from .ledger_builders import customer, invoice
from .web_helpers import make_user, sign_in

D = dt.date


def test_the_aging_page_in_chinese_then_english_remembered(
    database_url: str, session: Session, company: Company
) -> None:
    east = customer(session, company, "C001", "华东建材有限公司", customer_type="dealer")
    invoice(session, company, east, "INV-1", D(2024, 1, 1), 123456789, terms=30)
    invoice(session, company, east, "INV-2", D(2024, 3, 1), 5000, terms=30)
    session.commit()
    make_user(session, company, "finance", "finance")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        sign_in(client, "finance")
        page = client.get("/", params={"as_of": "2024-03-15"})
        assert page.status_code == 200
        html = page.text
        assert '<html lang="zh-CN">' in html
        assert "应收账款账龄分析" in html
        assert 'value="2024-03-15"' in html
        assert "¥1,234,617.89" in html  # total receivable
        assert "¥1,234,567.89" in html  # the overdue invoice, in bucket 31-60 and overdue card
        assert "华东建材有限公司" in html
        assert "<svg" in html and "<script" not in html
        assert (
            'id="dso-trend"' in html and html.count('text-anchor="middle" class="bar-label"') == 12
        )
        assert ">2023-04<" in html and ">2024-03<" in html  # twelve month ends up to the date
        top = html.split('id="top-overdue"')[1].split("</table>")[0]
        assert "华东建材有限公司" in top and "¥1,234,567.89" in top

        english = client.get("/", params={"as_of": "2024-03-15", "lang": "en"})
        assert "Receivables aging" in english.text
        remembered = client.get("/", params={"as_of": "2024-03-15"})
        assert '<html lang="en">' in remembered.text

        grouped = client.get(
            "/", params={"as_of": "2024-03-15", "by": "customer_type", "lang": "zh"}
        )
        assert "厂商型" in grouped.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_huikuan_serve_answers_on_loopback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    subprocess.run(
        [sys.executable, "-m", "huikuan", "init", "--db", url], check=True, capture_output=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "huikuan", "serve", "--db", url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.json()["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True)
        assert "登录" in page.text and 'name="password"' in page.text
        css = httpx.get(f"http://127.0.0.1:{port}/static/huikuan.css", timeout=5)
        assert css.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
