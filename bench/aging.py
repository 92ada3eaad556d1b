"""Aging benchmark: today's and a past date's aging of N invoices over 100k customers, on SQLite
and PostgreSQL through Huikuan's own code, against DuckDB over the same rows in the same run.

    .venv/bin/python bench/aging.py --invoices 1000000
    .venv/bin/python bench/aging.py --invoices 10000000 --years 5

The data is the demo generator at scale (about a fifth to a third of invoices open at the end),
kept in bench/results/ and reused. PostgreSQL gets a copy by COPY in a database of its own,
dropped afterwards. Every engine's buckets are compared per customer to the fen. The result
table is printed and written into docs/BENCHMARKS.md with the command that produced it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sqlite3
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    best_of,
    build_sqlite,
    copy_to_postgres,
    drop_postgres,
    machine,
    say,
    write_section,
)
from huikuan.core.db import make_engine, session_factory
from huikuan.demo.generator import DemoSpec
from huikuan.ledger import rules
from huikuan.ledger.aging import AgingBy, aging_report

AS_OF = dt.date(2026, 11, 24)
PAST = dt.date(2026, 5, 24)
Buckets = dict[str, dict[str, int]]
DATE_COLUMNS = ("issue_date", "due_date", "settled_on", "effective_on", "reversed_on")


def huikuan_aging(url: str, as_of: dt.date) -> tuple[float, Buckets, str]:
    engine = make_engine(url)
    factory = session_factory(engine)

    def run():  # type: ignore[no-untyped-def]
        with factory() as session:
            return aging_report(
                session, company_id=1, as_of=as_of, by=AgingBy.CUSTOMER, with_dso=False
            )

    seconds, report = best_of(3, run)
    engine.dispose()
    return seconds, {r.key: r.buckets for r in report.rows}, report.exact_from


def export_csv(sqlite_path: Path, query: str, target: Path) -> None:
    conn = sqlite3.connect(sqlite_path)
    cursor = conn.execute(query)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([d[0] for d in cursor.description])
        while batch := cursor.fetchmany(100_000):
            writer.writerows(batch)
    conn.close()


def duckdb_database(sqlite_path: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB with the same invoices, allocations and customers, loaded from CSV exports."""
    con = duckdb.connect()
    for name, query in (
        ("customer", "SELECT id, code FROM customer"),
        (
            "invoice",
            "SELECT id, customer_id, issue_date, due_date, amount, open_amount, settled_on, currency, status FROM invoice",
        ),
        ("allocation", "SELECT invoice_id, amount, effective_on, reversed_on FROM allocation"),
    ):
        path = RESULTS / f"{name}.csv"
        export_csv(sqlite_path, query, path)
        # A date column that is empty throughout would be guessed as text: say what it is.
        dates = [c for c in DATE_COLUMNS if c in query]
        types = "{" + ", ".join(f"'{c}': 'DATE'" for c in dates) + "}"
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv('{path}', header=true, types={types})"
        )
        path.unlink()
    return con


def bucket_sql(due: str, as_of: dt.date) -> list[str]:
    parts = []
    for bucket in rules.aging_buckets():
        earliest, latest = rules.due_date_bounds(bucket, as_of)
        conds = [
            f"{due} >= DATE '{earliest}'" if earliest else None,
            f"{due} <= DATE '{latest}'" if latest else None,
        ]
        cond = " AND ".join(c for c in conds if c) or "TRUE"
        parts.append(f"SUM(CASE WHEN {cond} THEN open ELSE 0 END)")
    return parts


def duckdb_aging(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, historical: bool
) -> tuple[float, Buckets]:
    if historical:
        items = f"""
            SELECT i.customer_id, i.due_date,
                   GREATEST(i.amount - COALESCE(SUM(a.amount), 0), 0) AS open
            FROM invoice i LEFT JOIN allocation a
              ON a.invoice_id = i.id AND a.effective_on <= DATE '{as_of}'
             AND (a.reversed_on IS NULL OR a.reversed_on > DATE '{as_of}')
            WHERE i.issue_date <= DATE '{as_of}' AND i.status <> 'void'
              AND (i.settled_on IS NULL OR i.settled_on > DATE '{as_of}')
            GROUP BY i.id, i.customer_id, i.due_date, i.amount"""
    else:
        items = f"""
            SELECT customer_id, due_date, open_amount AS open FROM invoice
            WHERE open_amount > 0 AND issue_date <= DATE '{as_of}'"""
    query = f"""
        SELECT c.code, {", ".join(bucket_sql("due_date", as_of))}
        FROM ({items}) x JOIN customer c ON c.id = x.customer_id
        GROUP BY c.code HAVING SUM(open) <> 0"""
    names = [b.name for b in rules.aging_buckets()]
    seconds, rows = best_of(3, lambda: con.execute(query).fetchall())
    return seconds, {r[0]: {n: int(v) for n, v in zip(names, r[1:], strict=True)} for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--keep-postgres",
        action="store_true",
        help="keep the PostgreSQL copy and reuse it next time",
    )
    args = parser.parse_args()
    per_year = args.invoices / args.customers / args.years
    spec = DemoSpec(
        as_of=AS_OF, customers=args.customers, years=args.years, seed=2026,
        invoices_per_customer_year=per_year, with_orders=False,
    )  # fmt: skip
    label = f"{args.invoices:,} invoices"
    sqlite_path = RESULTS / f"aging-{args.invoices}-{args.customers}-{args.years}.db"
    build_sqlite(sqlite_path, spec, label)
    counts = (
        sqlite3.connect(sqlite_path)
        .execute(
            "SELECT COUNT(*), SUM(open_amount > 0), (SELECT COUNT(*) FROM allocation) FROM invoice"
        )
        .fetchone()
    )
    say(f"{counts[0]:,} invoices, {counts[1]:,} open, {counts[2]:,} allocations")

    engines = {"SQLite": f"sqlite:///{sqlite_path}"}
    if not args.skip_postgres:
        say("copying to PostgreSQL ...")
        engines["PostgreSQL"] = copy_to_postgres(
            sqlite_path, f"huikuan_bench_{args.invoices}", reuse=args.keep_postgres
        )
    say("loading DuckDB ...")
    con = duckdb_database(sqlite_path)

    results = []
    for title, as_of, historical in (("today", AS_OF, False), ("6 months back", PAST, True)):
        ref_seconds, reference = duckdb_aging(con, as_of, historical)
        results.append((title, "DuckDB (reference)", ref_seconds, len(reference), "—", ""))
        for engine_name, url in engines.items():
            say(f"aging {title} on {engine_name} ...")
            seconds, got, path = huikuan_aging(url, as_of)
            agree = "yes" if got == reference else "NO"
            engine_name = f"{engine_name} (from {path})"
            results.append(
                (
                    title,
                    f"Huikuan on {engine_name}",
                    seconds,
                    len(got),
                    agree,
                    f"{seconds / ref_seconds:.1f}x",
                )
            )
    if not args.skip_postgres and not args.keep_postgres:
        drop_postgres(f"huikuan_bench_{args.invoices}")
    report(args, counts, results)


def report(args: argparse.Namespace, counts: tuple[int, int, int], results: list[tuple]) -> None:  # type: ignore[type-arg]
    command = f".venv/bin/python bench/aging.py --invoices {args.invoices} --customers {args.customers} --years {args.years}"
    lines = [
        f"## Aging, {counts[0]:,} invoices ({counts[1]:,} open) over {args.customers:,} customers",
        "",
        f"Command: `{command}`  ",
        f"Run {dt.date.today().isoformat()} on {machine()}; {counts[2]:,} allocations. "
        f"Aging by customer, default buckets, best of 3 runs (first run warms the cache), "
        f"today = {AS_OF}, past = {PAST}.",
        "",
        "| aging | engine | seconds | customers | same buckets to the fen as DuckDB | vs DuckDB |",
        "| --- | --- | ---: | ---: | --- | ---: |",
    ]
    lines += [f"| {t} | {e} | {s:.3f} | {n:,} | {a} | {r} |" for t, e, s, n, a, r in results]
    text = "\n".join(lines)
    print(text)
    write_section(f"aging-{args.invoices}", text)
    if any(r[4] == "NO" for r in results):
        sys.exit("engines disagree")


if __name__ == "__main__":
    main()
