"""Shared pieces of the benchmarks: building the data once, copying it, timing, reporting."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy import text

from huikuan.core.company import create_company
from huikuan.core.db import make_engine, normalise_url, session_factory
from huikuan.core.migrate import MIGRATIONS, upgrade_to_head
from huikuan.demo.generator import DemoSpec, build_demo

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
PG_ADMIN = os.environ.get("HUIKUAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
COPIED_TABLES = (
    "company",
    "customer",
    "contact",
    "contract",
    "invoice",
    "payment",
    "credit_note",
    "allocation",
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_sqlite(path: Path, spec: DemoSpec, customers_label: str) -> None:
    """Generate the company into a SQLite file (kept in bench/results/ and reused)."""
    if path.exists():
        say(f"reusing {path}")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{tmp}"
    upgrade_to_head(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as session:
        company_id = create_company(session, code="bench", name="基准测试公司").id
        session.commit()
    with engine.begin() as conn:
        build_demo(
            conn,
            company_id=company_id,
            spec=spec,
            progress=lambda done, total: say(
                f"  generating {customers_label}: {done}/{total} customers"
            ),
        )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    os.replace(tmp, path)
    say(f"generated in {time.perf_counter() - started:.0f} s")


def sqlite_rows(path: Path, table: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    cursor = conn.execute(f"SELECT * FROM {table}")
    columns = [d[0] for d in cursor.description]

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            while batch := cursor.fetchmany(50_000):
                yield from batch
        finally:
            conn.close()

    return columns, rows()


def copy_to_postgres(sqlite_path: Path, database: str, *, reuse: bool = False) -> str:
    """A fresh PostgreSQL database with the schema, filled from the SQLite file by COPY.
    With ``reuse``, a database left by an earlier run with as many invoices is used as it is."""
    admin = normalise_url(PG_ADMIN).replace("postgresql+psycopg://", "postgresql://")
    url = admin.rsplit("/", 1)[0] + f"/{database}"
    if reuse and _same_copy(admin, url, database, sqlite_path):
        say(f"reusing PostgreSQL database {database}")
        return url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    upgrade_to_head(url)
    with psycopg.connect(url) as conn:
        for table in COPIED_TABLES:
            columns, rows = sqlite_rows(sqlite_path, table)
            started, count = time.perf_counter(), 0
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
                    if count % 1_000_000 == 0:
                        say(f"  copying {table}: {count:,} rows")
            conn.commit()
            say(f"  {table}: {count:,} rows in {time.perf_counter() - started:.0f} s")
        for table in COPIED_TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # visibility map for index-only scans, fresh statistics
    return url


def _same_copy(admin: str, url: str, database: str, sqlite_path: Path) -> bool:
    with psycopg.connect(admin, autocommit=True) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            is None
        ):
            return False
    expected = sqlite3.connect(sqlite_path).execute("SELECT COUNT(*) FROM invoice").fetchone()[0]
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM invoice").fetchone()
    return row is not None and row[0] == expected


def drop_postgres(database: str) -> None:
    admin = normalise_url(PG_ADMIN).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of a few runs (the first warms caches) and the last result."""
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def write_section(marker: str, body: str) -> None:
    """Replace (or append) the section between ``<!-- marker -->`` comments in BENCHMARKS.md."""
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    current = (
        BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    )
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1]
        current = before + block + after
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(current, encoding="utf-8")


def today_label(day: dt.date) -> str:
    return day.isoformat()


def migration_head() -> str:
    """The schema's migration head: cached benchmark databases carry it in their names, so a
    cache built before a schema change is never reused."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or "none"
