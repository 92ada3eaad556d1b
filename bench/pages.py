"""Page timings with 100k customers: every main page, signed in, on a copy of the aging
benchmark's SQLite database (built by bench/aging.py if missing).

    .venv/bin/python bench/pages.py --invoices 1000000

Each page is timed on its first view (cold: nothing cached, as after a ledger change) and on
the next view (warm). Results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, build_sqlite, machine, say, write_section
from huikuan.core.audit import Actor
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.migrate import upgrade_to_head
from huikuan.core.settings import Settings
from huikuan.demo.generator import DemoSpec
from huikuan.users.service import create_user
from huikuan.web import pages
from huikuan.web.app import create_app

AS_OF = "2026-11-24"
PAGES = [
    "/api/health",
    "/?as_of=" + AS_OF,
    "/?as_of=" + AS_OF + "&by=customer_type",
    "/customers",
    "/customers?q=C00012",
    "/customers/C000123",
    "/invoices?bucket=31-60&as_of=" + AS_OF,
    "/payments",
    "/api/customers?page_size=50",
    "/api/aging?as_of=" + AS_OF + "&by=collector",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    spec = DemoSpec(
        as_of=dt.date(2026, 11, 24), customers=args.customers, years=args.years, seed=2026,
        invoices_per_customer_year=args.invoices / args.customers / args.years, with_orders=False,
    )  # fmt: skip
    source = RESULTS / f"aging-{args.invoices}-{args.customers}-{args.years}.db"
    build_sqlite(source, spec, f"{args.invoices:,} invoices")
    copy = RESULTS / "pages.db"
    shutil.copyfile(source, copy)
    url = f"sqlite:///{copy}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        actor = Actor("bench", "bench", dt.datetime(2026, 11, 24, 9, 0))
        create_user(session, actor=actor, company_id=1, username="bench", display_name="基准",
                    role="finance", password="bench-2026")  # fmt: skip
    engine.dispose()
    rows = []
    with TestClient(create_app(Settings(database_url=url))) as client:
        form = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        client.post(
            "/login", data={"username": "bench", "password": "bench-2026", "csrf": csrf.group(1)}
        )
        for path in PAGES:
            pages._DASHBOARD.clear()  # first view = nothing cached, as after a ledger change
            timings = []
            for _ in range(2):
                started = time.perf_counter()
                response = client.get(path, follow_redirects=False)
                status = response.status_code
                timings.append((time.perf_counter() - started) * 1000)
            assert status == 200, (path, status, response.headers.get("location"))
            rows.append((path, timings[0], timings[1]))
            say(f"{path}: {timings[0]:.0f} ms, then {timings[1]:.0f} ms")
    copy.unlink()
    report(args, rows)


def report(args: argparse.Namespace, rows: list[tuple[str, float, float]]) -> None:
    lines = [
        f"## Pages with {args.customers:,} customers and {args.invoices:,} invoices",
        "",
        f"Command: `.venv/bin/python bench/pages.py --invoices {args.invoices} --customers {args.customers} --years {args.years}`  ",
        f"Run {time.strftime('%Y-%m-%d')} on {machine()}; SQLite, one signed-in user (finance), "
        "server-side time of the request in the test client. First view = nothing cached (as after "
        "any change to the ledger); next view = the same page again.",
        "",
        "| page | first view (ms) | next view (ms) |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{path}` | {first:.0f} | {second:.0f} |" for path, first, second in rows]
    text = "\n".join(lines)
    print(text)
    write_section(f"pages-{args.invoices}", text)


if __name__ == "__main__":
    main()
