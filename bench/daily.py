"""Daily collections run benchmark: one company's day for 1M+ open invoices over 100k customers,
through ``collections.daily.run_daily`` on SQLite and PostgreSQL, against an independent DuckDB
computation of the same day over the same rows in the same run.

    .venv/bin/python bench/daily.py --open-invoices 1000000 --real-customers 5000

The data is the aging benchmark's demo company (1M invoices over three years, about 150k of
them open, built by bench/aging.py's spec if missing) plus open invoices added by a bulk insert
until at least ``--open-invoices`` are open: due dates spread evenly from 120 days before to 30
days after the run date, amounts and payment terms by the customer's type as the demo generator
draws them (retail chains: month-end due dates). On top of that, what a company that starts
collecting has: the default strategies, a monthly settlement day for every retail chain, a
finance contact with an email address and a mobile for 85% of customers (besides the demo's
own contacts), and the demo's high-risk customers put on the high-risk strategy by hand.
It is kept in bench/results/ and reused; each run works on a copy.

Timed: (a) the dry run of the first day (every open invoice enters its ladder), the headline
figure; (b) real runs (actions, messages and letter PDFs recorded; nothing sent) of the first
day, the next working day (only invoices whose next check date has come) and the Monday of the
next week (the weekly contact cap starts again), on the same company scaled down to
``--real-customers`` (5,000: a real first day at 1M posts ~136k letters and takes hours); (c)
the same on PostgreSQL (a copy by COPY in a database of its own, dropped afterwards). Real runs
also report the time spent carrying out actions by channel and making documents, measured by
wrapping those functions (they still do their work). The DuckDB reference decides, for every
open invoice, which ladder step is due that day and applies the weekly contact cap; each run's
actions and amounts by channel, invoices moved and invoices deferred must equal it, or the
benchmark exits with an error. The whole benchmark takes about 25 minutes on 2 cores (plus
about 2 minutes to build the data the first time). Results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    build_sqlite,
    copy_to_postgres,
    drop_postgres,
    machine,
    say,
    write_section,
)
from huikuan.collections import daily, effects
from huikuan.collections.models import Strategy
from huikuan.collections.rules import CUSTOMER_CONTACT, SEVERE
from huikuan.collections.strategies import install_defaults
from huikuan.core.audit import Actor
from huikuan.core.calendar import ensure_seeded
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.demo import names
from huikuan.demo.generator import AMOUNT_RANGE, DemoSpec
from huikuan.ledger import daily_totals

AS_OF = dt.date(2026, 11, 24)  # a Tuesday, the aging benchmark's date
NEXT_DAY = dt.date(2026, 11, 25)  # the next working day, in the same week (the cap counts both)
MONDAY = dt.date(2026, 11, 30)  # the next week: the weekly contact cap starts again
SCENARIOS = {
    AS_OF: "first day",
    NEXT_DAY: "next working day",
    MONDAY: "Monday of the next week",
}
TZ = ZoneInfo("Asia/Shanghai")
COMPANY = 1
ACTOR = Actor(name="bench", source="bench", at=dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC))
EMAIL_SHARE = 0.85


def run_at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=TZ)


# --- The data ---------------------------------------------------------------------------------


def base_spec(args: argparse.Namespace) -> DemoSpec:
    return DemoSpec(
        as_of=AS_OF, customers=args.customers, years=args.years, seed=2026,
        invoices_per_customer_year=args.invoices / args.customers / args.years, with_orders=False,
    )  # fmt: skip


def build_daily(path: Path, args: argparse.Namespace) -> None:
    """The aging benchmark's company, topped up with open invoices, ready to collect."""
    if path.exists():
        say(f"reusing {path}")
        return
    base = RESULTS / f"aging-{args.invoices}-{args.customers}-{args.years}.db"
    build_sqlite(base, base_spec(args), f"{args.invoices:,} invoices")
    tmp = path.with_suffix(".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(base, tmp)
    started = time.perf_counter()
    conn = sqlite3.connect(tmp)
    added = add_open_invoices(conn, args.open_invoices)
    add_collection_facts(conn)
    conn.commit()
    conn.close()
    url = f"sqlite:///{tmp}"
    engine = make_engine(url)
    with engine.begin() as db:
        daily_totals.rebuild(db, COMPANY)  # the bulk insert bypassed the ledger service
    engine.dispose()
    prepare_collections(url)
    conn = sqlite3.connect(tmp)
    conn.execute("ANALYZE")
    conn.close()
    os.replace(tmp, path)
    say(
        f"added {added:,} open invoices and the collection set-up in {time.perf_counter() - started:.0f} s"
    )


def add_open_invoices(conn: sqlite3.Connection, target: int) -> int:
    """Open invoices until ``target`` are open, due from 120 days before to 30 days after AS_OF."""
    rng = random.Random(20261124)
    (open_now,) = conn.execute(
        "SELECT COUNT(*) FROM invoice WHERE open_amount > 0 AND status = 'open'"
    ).fetchone()
    wanted = max(0, target - open_now)
    customers = conn.execute(
        "SELECT c.id, c.customer_type, COALESCE(MAX(k.payment_terms_days), 30) FROM customer c"
        " LEFT JOIN contract k ON k.customer_id = c.id GROUP BY c.id, c.customer_type"
    ).fetchall()
    (next_id,) = conn.execute("SELECT MAX(id) + 1 FROM invoice").fetchone()
    earliest, latest = AS_OF - dt.timedelta(days=120), AS_OF + dt.timedelta(days=30)
    month_ends = [
        d
        for d in (earliest + dt.timedelta(days=n) for n in range((latest - earliest).days + 1))
        if (d + dt.timedelta(days=1)).day == 1
    ]

    def rows() -> Iterator[tuple[Any, ...]]:
        for offset in range(wanted):
            invoice_id = next_id + offset
            customer_id, kind, terms = rng.choice(customers)
            if kind == "retail_chain":  # 月结: invoiced in one month, due at the end of the next
                due = rng.choice(month_ends)
                month_start = due.replace(day=1) - dt.timedelta(days=1)
                issued = month_start.replace(day=rng.randint(1, month_start.day))
            else:
                due = AS_OF + dt.timedelta(days=rng.randint(-120, 30))
                issued = due - dt.timedelta(days=terms or 30)
            low, high = AMOUNT_RANGE[kind]
            amount = rng.randrange(low, high) * 100 + rng.choice((0, 0, 0, rng.randrange(100)))
            yield (
                invoice_id, COMPANY, customer_id, f"INV-{issued.year}-{invoice_id:07d}",
                f"SO-{issued.year}-{invoice_id:07d}", issued.isoformat(), due.isoformat(),
                amount, "CNY", "open", amount, None, "",
            )  # fmt: skip

    conn.executemany(
        "INSERT INTO invoice (id, company_id, customer_id, number, order_number, issue_date,"
        " due_date, amount, currency, status, open_amount, settled_on, description)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    return wanted


def add_collection_facts(conn: sqlite3.Connection) -> None:
    """Settlement days for retail chains (most on the 25th, as the demo's chains pay), and a
    finance contact with an email address and a mobile for most customers."""
    conn.execute(
        "UPDATE customer SET settlement_day = CASE id % 8 WHEN 0 THEN 10 WHEN 1 THEN 20"
        " WHEN 2 THEN 31 ELSE 25 END WHERE customer_type = 'retail_chain'"
    )
    rng = random.Random(2026)
    customers = conn.execute("SELECT id, code FROM customer ORDER BY id").fetchall()
    (next_id,) = conn.execute("SELECT MAX(id) + 1 FROM contact").fetchone()
    since = (AS_OF - dt.timedelta(days=400)).isoformat()
    contacts = []
    for customer_id, code in customers:
        if rng.random() >= EMAIL_SHARE:
            continue
        name = rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)
        mobile = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        email = f"finance.{code.lower()}@kehu{customer_id % 997}.com.cn"
        contacts.append(
            (next_id + len(contacts), COMPANY, customer_id, name, "财务", mobile, email, 0, since)
        )
    conn.executemany(
        "INSERT INTO contact (id, company_id, customer_id, name, role, phone, email,"
        " is_decision_maker, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        contacts,
    )


def prepare_collections(url: str) -> None:
    """What the company sets up before its first run: the default strategies, the calendar,
    the settings, and the high-risk customers put on the high-risk strategy by a person."""
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        install_defaults(session, actor=ACTOR, company_id=COMPANY)
        ensure_seeded(session, company_id=COMPANY)
        daily.collection_settings(session, company_id=COMPANY)
        bad = session.scalar(
            select(Strategy.id).where(
                Strategy.company_id == COMPANY, Strategy.code == "bad_customer"
            )
        )
        session.execute(
            text(
                "INSERT INTO customer_strategy (company_id, customer_id, strategy_id, reason,"
                " set_by, set_at) SELECT company_id, id, :strategy, :reason, 'bench', :at"
                " FROM customer WHERE company_id = :company AND tags LIKE :tag"
            ),
            {
                "strategy": bad,
                "reason": "高风险客户 / high-risk customer",
                "at": ACTOR.at.replace(tzinfo=None),
                "company": COMPANY,
                "tag": "%高风险%",
            },
        )
    engine.dispose()


def copy_sqlite(source: Path, target: Path) -> None:
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(source, target)


# --- Running the engine -----------------------------------------------------------------------


@dataclass(slots=True)
class Timings:
    """Where a real run's time goes: carrying out actions per channel, and inside that the
    documents (letter PDFs, statements). Measured by wrapping the functions, not replacing them."""

    carry_out: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    documents: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


TIMINGS = Timings()


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TIMINGS.documents[name] += time.perf_counter() - started
            TIMINGS.counts[name] += 1

    return wrapper


def _timed_carry_out(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(session: Any, context: Any, run_id: Any, planned: Any, summary: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(session, context, run_id, planned, summary)
        finally:
            TIMINGS.carry_out[planned.step.channel.value] += time.perf_counter() - started

    return wrapper


def instrument() -> None:
    effects.carry_out = _timed_carry_out(effects.carry_out)
    for name in ("render_letter_pdf", "render_statement_xlsx", "render_statement_pdf"):
        setattr(effects, name, _timed(name, getattr(effects, name)))


@dataclass(slots=True)
class Run:
    engine: str
    scenario: str
    seconds: float
    summary: daily.RunSummary
    carry_out: dict[str, float] = field(default_factory=dict)
    documents: dict[str, tuple[int, float]] = field(default_factory=dict)


def timed_run(engine_name: str, scenario: str, url: str, as_of: dt.date, *, dry_run: bool) -> Run:
    engine = make_engine(url)
    factory = session_factory(engine)
    TIMINGS.carry_out.clear()
    TIMINGS.documents.clear()
    TIMINGS.counts.clear()
    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 15 or done == total:
            last[0] = time.perf_counter()
            say(f"  {done:,}/{total:,} customers, {last[0] - started:.0f} s")

    say(f"{engine_name}: {scenario} ({as_of}) ...")
    started = time.perf_counter()
    summary = daily.run_daily(
        factory, company_id=COMPANY, as_of=as_of, now=run_at(as_of), actor=ACTOR,
        dry_run=dry_run, send=False, progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    engine.dispose()
    say(
        f"  {seconds:.1f} s: {summary.invoices_evaluated:,} evaluated, "
        f"{summary.invoices_moved:,} moved, actions {dict(sorted(summary.actions.items()))}"
    )
    if summary.errors:
        say(f"  {len(summary.errors)} errors, first: {summary.errors[0]}")
    return Run(
        engine_name, scenario, seconds, summary, dict(TIMINGS.carry_out),
        {k: (TIMINGS.counts[k], v) for k, v in TIMINGS.documents.items()},
    )  # fmt: skip


# --- The reference: the same day in DuckDB ----------------------------------------------------

# Each table read from SQLite, with DuckDB types (a table may be empty, so nothing is guessed).
REFERENCE_TABLES: dict[str, dict[str, str]] = {
    "invoice": {"id": "BIGINT", "company_id": "BIGINT", "customer_id": "BIGINT",
                "due_date": "DATE", "open_amount": "BIGINT", "status": "VARCHAR"},
    "customer": {"id": "BIGINT", "customer_type": "VARCHAR", "settlement_day": "INTEGER"},
    "customer_strategy": {"customer_id": "BIGINT", "strategy_id": "BIGINT"},
    "strategy": {"id": "BIGINT", "is_default": "BOOLEAN", "active": "BOOLEAN"},
    "strategy_step": {"id": "BIGINT", "strategy_id": "BIGINT", "seq": "INTEGER",
                      "trigger_days": "INTEGER", "anchor": "VARCHAR", "working_days": "BOOLEAN",
                      "channel": "VARCHAR", "min_amount": "BIGINT", "max_amount": "BIGINT",
                      "grades": "VARCHAR", "retired": "BOOLEAN"},
    "strategy_rule": {"priority": "INTEGER", "strategy_id": "BIGINT", "customer_type": "VARCHAR",
                      "grades": "VARCHAR", "min_overdue": "BIGINT", "min_days_overdue": "INTEGER"},
    "credit_score": {"id": "BIGINT", "customer_id": "BIGINT", "grade": "VARCHAR"},
    "calendar_day": {"day": "DATE", "is_workday": "BOOLEAN"},
    "dispute": {"invoice_id": "BIGINT", "amount": "BIGINT", "status": "VARCHAR"},
    "payment_plan": {"id": "BIGINT", "status": "VARCHAR"},
    "payment_plan_invoice": {"plan_id": "BIGINT", "invoice_id": "BIGINT"},
    "promise_to_pay": {"id": "BIGINT", "promised_on": "DATE", "status": "VARCHAR"},
    "promise_invoice": {"promise_id": "BIGINT", "invoice_id": "BIGINT"},
    "do_not_contact": {"customer_id": "BIGINT", "starts_on": "DATE", "ends_on": "DATE",
                       "lifted_on": "DATE"},
    "dunning_state": {"invoice_id": "BIGINT", "last_trigger": "INTEGER", "not_before": "DATE"},
    "collection_action": {"customer_id": "BIGINT", "step_id": "BIGINT", "channel": "VARCHAR",
                          "status": "VARCHAR", "as_of": "DATE"},
}  # fmt: skip


def duckdb_database(sqlite_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()  # empty text is read as NULL: the queries say COALESCE(x, '')
    for table, columns in REFERENCE_TABLES.items():
        path = RESULTS / f"daily-{table}.csv"
        source = sqlite3.connect(sqlite_path)
        where = " WHERE company_id = 1" if table != "payment_plan_invoice" else ""
        cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}{where}")
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            while batch := cursor.fetchmany(100_000):
                writer.writerows(batch)
        source.close()
        types = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header=true,"
            f" columns={types})"
        )
        path.unlink()
    # The settlement day in a month (31 = the month's last day), and the first on or after a date.
    con.execute(
        "CREATE MACRO day_in(m, d) AS make_date(year(m), month(m), LEAST(d, day(last_day(m))))"
    )
    con.execute(
        "CREATE MACRO settles_on(due, d) AS CASE"
        " WHEN day_in(due, d) >= due THEN day_in(due, d)"
        " ELSE day_in((date_trunc('month', due) + INTERVAL 1 MONTH)::DATE, d) END"
    )
    return con


def reference_sql(as_of: dt.date) -> str:
    """Per customer, step and trigger: the invoices whose ladder step is due on ``as_of``."""
    day = f"DATE '{as_of}'"
    severe = ", ".join(f"'{c.value}'" for c in SEVERE)
    return f"""
    WITH RECURSIVE
    chased AS (
        SELECT i.id, i.customer_id, i.due_date,
               GREATEST(i.open_amount - COALESCE(d.amount, 0), 0) AS chased
        FROM invoice i
        LEFT JOIN (SELECT invoice_id, SUM(amount) AS amount FROM dispute WHERE status = 'open'
                   GROUP BY invoice_id) d ON d.invoice_id = i.id
        WHERE i.open_amount > 0 AND i.status = 'open'
          AND i.id NOT IN (SELECT x.invoice_id FROM payment_plan_invoice x
                           JOIN payment_plan p ON p.id = x.plan_id WHERE p.status = 'active')
          AND i.id NOT IN (SELECT x.invoice_id FROM promise_invoice x
                           JOIN promise_to_pay p ON p.id = x.promise_id
                           WHERE p.status = 'open' AND p.promised_on >= {day})),
    balance AS (
        SELECT customer_id, SUM(chased) AS balance,
               SUM(CASE WHEN due_date < {day} THEN chased ELSE 0 END) AS overdue,
               MIN(CASE WHEN due_date < {day} AND chased > 0 THEN due_date END) AS oldest
        FROM chased GROUP BY customer_id HAVING SUM(chased) > 0),
    grade AS (
        SELECT customer_id, grade FROM credit_score
        WHERE id IN (SELECT MAX(id) FROM credit_score GROUP BY customer_id)),
    segment AS (
        SELECT b.customer_id, b.balance, b.overdue, COALESCE(c.customer_type, 'other') AS kind,
               COALESCE(g.grade, '') AS grade,
               COALESCE(date_diff('day', b.oldest, {day}), 0) AS days_overdue,
               c.settlement_day
        FROM balance b JOIN customer c ON c.id = b.customer_id
        LEFT JOIN grade g ON g.customer_id = b.customer_id),
    matched AS (
        SELECT s.customer_id, arg_min(r.strategy_id, r.priority) AS strategy_id
        FROM segment s JOIN strategy_rule r
          ON (COALESCE(r.customer_type, '') IN ('', s.kind))
         AND (COALESCE(r.grades, '') = '' OR list_contains(string_split(r.grades, '|'), s.grade))
         AND s.overdue >= r.min_overdue AND s.days_overdue >= r.min_days_overdue
        GROUP BY s.customer_id),
    assigned AS (
        SELECT s.*, COALESCE(o.strategy_id, m.strategy_id,
                             (SELECT id FROM strategy WHERE is_default)) AS strategy_id
        FROM segment s
        LEFT JOIN customer_strategy o ON o.customer_id = s.customer_id
        LEFT JOIN matched m ON m.customer_id = s.customer_id
        WHERE s.customer_id NOT IN (
            SELECT customer_id FROM do_not_contact WHERE starts_on <= {day}
               AND (ends_on IS NULL OR ends_on >= {day}) AND lifted_on IS NULL)),
    steps AS (
        SELECT s.* FROM strategy_step s JOIN strategy t ON t.id = s.strategy_id
        WHERE t.active AND NOT s.retired),
    grp AS (  -- steps with one trigger fire together; the first step says how to count
        SELECT strategy_id, trigger_days, arg_min(anchor, seq) AS anchor,
               arg_min(working_days, seq) AS working_days,
               bool_or(channel IN ({severe})) AS severe
        FROM steps GROUP BY strategy_id, trigger_days),
    cal AS (
        SELECT d.day::DATE AS day, COALESCE(k.is_workday, isodow(d.day) <= 5) AS worked
        FROM range(DATE '2020-01-01', DATE '2030-01-01', INTERVAL 1 DAY) d(day)
        LEFT JOIN calendar_day k ON k.day = d.day::DATE),
    numbered AS (  -- n = working days up to and including the day
        SELECT day, worked, SUM(worked::INTEGER) OVER (ORDER BY day) AS n FROM cal),
    workday AS (SELECT n, day FROM numbered WHERE worked),
    nextwork AS (  -- the day itself if worked, else the first working day after it
        SELECT x.day, w.day AS next, w.n FROM numbered x
        JOIN workday w ON w.n = x.n + CASE WHEN x.worked THEN 0 ELSE 1 END),
    anchors AS (
        SELECT c.id, c.customer_id, c.chased, a.strategy_id, a.balance, a.grade,
               c.due_date,
               CASE WHEN a.settlement_day IS NOT NULL AND a.settlement_day <> 0
                    THEN settles_on(c.due_date, a.settlement_day) END AS settles_on,
               s.last_trigger, s.not_before
        FROM chased c JOIN assigned a ON a.customer_id = c.customer_id
        LEFT JOIN dunning_state s ON s.invoice_id = c.id
        WHERE s.invoice_id IS NULL OR {day} >= s.not_before),
    candidate AS (
        SELECT x.id, x.customer_id, x.chased, x.strategy_id, x.balance, x.grade, g.trigger_days,
               g.severe, g.working_days, e.next AS effective_due, e.n AS effective_n,
               ROW_NUMBER() OVER (PARTITION BY x.id ORDER BY g.trigger_days) AS rank
        FROM anchors x JOIN grp g ON g.strategy_id = x.strategy_id
        JOIN nextwork e ON e.day = CASE WHEN g.anchor = 'settlement' AND x.settles_on IS NOT NULL
                                        THEN x.settles_on ELSE x.due_date END
        WHERE g.trigger_days > COALESCE(x.last_trigger, -1000000)),
    dated AS (
        SELECT c.*, CASE WHEN c.working_days THEN w.day ELSE f.next END AS step_on
        FROM candidate c
        LEFT JOIN workday w ON c.working_days AND w.n = c.effective_n + c.trigger_days
        LEFT JOIN nextwork f ON NOT c.working_days
                             AND f.day = c.effective_due + c.trigger_days::INTEGER),
    bounds AS (  -- the groups up to the first one not yet due; the first severe one among them
        SELECT id, MIN(rank) FILTER (WHERE step_on > {day}) AS first_late FROM dated GROUP BY id),
    due AS (
        SELECT d.*, MIN(d.rank) FILTER (WHERE d.severe)
                      OVER (PARTITION BY d.id) AS first_severe
        FROM dated d JOIN bounds b ON b.id = d.id
        WHERE d.rank < COALESCE(b.first_late, 1000000)),
    chosen AS (  -- catch up to the latest due group, never into a severe one after another
        SELECT id, customer_id, chased, strategy_id, balance, grade,
               CASE WHEN MIN(rank) FILTER (WHERE rank = 1 AND severe) = 1 THEN 1
                    ELSE MAX(rank) FILTER (WHERE rank < COALESCE(first_severe, 1000000)) END
                   AS rank
        FROM due GROUP BY id, customer_id, chased, strategy_id, balance, grade),
    items AS (
        SELECT c.id, c.customer_id, c.chased, d.trigger_days, s.id AS step_id, s.channel
        FROM chosen c JOIN dated d ON d.id = c.id AND d.rank = c.rank
        JOIN steps s ON s.strategy_id = c.strategy_id AND s.trigger_days = d.trigger_days
        WHERE (s.min_amount IS NULL OR c.balance >= s.min_amount)
          AND (s.max_amount IS NULL OR c.balance < s.max_amount)
          AND (COALESCE(s.grades, '') = '' OR list_contains(string_split(s.grades, '|'), c.grade)))
    SELECT customer_id, trigger_days, step_id, channel, COUNT(*) AS invoices,
           SUM(chased) AS amount, list(id) AS ids
    FROM items GROUP BY customer_id, trigger_days, step_id, channel
    ORDER BY customer_id, trigger_days DESC, step_id"""


@dataclass(slots=True)
class Expected:
    actions: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    invoices_due: int = 0
    invoices_moved: int = 0
    deferred_by_cap: int = 0
    already_done_today: int = 0
    seconds: float = 0.0


def reference_day(con: duckdb.DuckDBPyConnection, as_of: dt.date, cap: int) -> Expected:
    """The day in DuckDB, then the weekly cap applied per customer in plain Python."""
    started = time.perf_counter()
    rows = con.execute(reference_sql(as_of)).fetchall()
    contact = tuple(c.value for c in CUSTOMER_CONTACT)
    week = as_of - dt.timedelta(days=as_of.weekday())
    used: dict[int, int] = dict(
        con.execute(
            f"SELECT customer_id, COUNT(*) FROM collection_action WHERE as_of >= DATE '{week}'"
            f" AND as_of <= DATE '{as_of}' AND status <> 'skipped' AND channel IN {contact}"
            " GROUP BY customer_id"
        ).fetchall()
    )
    done = set(
        con.execute(
            f"SELECT customer_id, step_id FROM collection_action WHERE as_of = DATE '{as_of}'"
        ).fetchall()
    )
    expected = Expected()
    by_customer: dict[int, dict[int, list[tuple[Any, ...]]]] = defaultdict(dict)
    for row in rows:
        customer_id, trigger = row[0], row[1]
        by_customer[customer_id].setdefault(trigger, []).append(row)
    for customer_id, triggers in by_customer.items():
        count = used.get(customer_id, 0)
        for trigger in sorted(triggers, reverse=True):
            group = triggers[trigger]
            invoices = {i for row in group for i in row[6]}
            expected.invoices_due += len(invoices)
            fresh = [row for row in group if (customer_id, row[2]) not in done]
            if len(fresh) < len(group):
                expected.already_done_today += len(
                    {i for row in group if (customer_id, row[2]) in done for i in row[6]}
                )
            cost = sum(1 for row in fresh if row[3] in contact)
            if cost == 0 or count == 0 or count + cost <= cap:
                count += cost
                expected.invoices_moved += len(invoices) if len(fresh) == len(group) else 0
                for row in fresh:
                    expected.actions[row[3]] = expected.actions.get(row[3], 0) + 1
                    expected.amounts[row[3]] = expected.amounts.get(row[3], 0) + int(row[5])
            else:
                expected.deferred_by_cap += len(invoices)
    expected.seconds = time.perf_counter() - started
    return expected


def agrees(summary: daily.RunSummary, expected: Expected) -> bool:
    return (
        summary.actions == expected.actions
        and summary.amounts == expected.amounts
        and summary.invoices_moved == expected.invoices_moved
        and summary.deferred_by_cap == expected.deferred_by_cap
    )


def reference(sqlite_path: Path, as_of: dt.date) -> Expected:
    say(f"DuckDB reference for {as_of} ...")
    con = duckdb_database(sqlite_path)
    (cap,) = (
        sqlite3.connect(sqlite_path)
        .execute("SELECT contacts_per_week FROM collection_settings WHERE company_id = 1")
        .fetchone()
    )
    expected = reference_day(con, as_of, cap)
    con.close()
    say(
        f"  {expected.seconds:.1f} s: {expected.invoices_due:,} invoices with a step due, "
        f"{expected.invoices_moved:,} moved, {expected.deferred_by_cap:,} deferred, actions "
        f"{dict(sorted(expected.actions.items()))}"
    )
    return expected


# --- The whole benchmark ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    """A company: demo history, open invoices, customers (three years of history)."""

    invoices: int
    open_invoices: int
    customers: int
    years: int = 3

    @property
    def label(self) -> str:
        return f"{self.open_invoices:,} open / {self.customers:,} customers"

    def path(self) -> Path:
        return (
            RESULTS / f"daily-{self.open_invoices}-{self.invoices}-{self.customers}-{self.years}.db"
        )

    def ready(self) -> Path:
        args = argparse.Namespace(
            invoices=self.invoices, open_invoices=self.open_invoices,
            customers=self.customers, years=self.years,
        )  # fmt: skip
        build_daily(self.path(), args)
        return self.path()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open-invoices", type=int, default=1_000_000)
    parser.add_argument("--invoices", type=int, default=1_000_000, help="the demo's history")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--real-customers",
        type=int,
        default=5_000,
        help="customers of the company the real runs use (same shape, scaled down)",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    share = args.real_customers / args.customers
    full = Scale(args.invoices, args.open_invoices, args.customers)
    part = Scale(
        round(args.invoices * share), round(args.open_invoices * share), args.real_customers
    )
    started, load = time.perf_counter(), os.getloadavg()[0]
    instrument()
    checks: list[Check] = []

    def measure(scale: Scale, expected: Expected, engine: str, url: str, day: dt.date, *,
                dry_run: bool) -> None:  # fmt: skip
        scenario = f"{'dry' if dry_run else 'real'} run, {SCENARIOS[day]}"
        checks.append(
            Check(scale, timed_run(engine, scenario, url, day, dry_run=dry_run), expected)
        )

    # The dry run of the whole company's first day: the headline figure.
    work = RESULTS / "daily-work.db"
    copy_sqlite(full.ready(), work)
    full_first = reference(work, AS_OF)
    measure(full, full_first, "SQLite", url_of(work), AS_OF, dry_run=True)
    # The real runs, first day and next working day, on the scaled-down company.
    copy_sqlite(part.ready(), work)
    part_first = reference(work, AS_OF)
    measure(part, part_first, "SQLite", url_of(work), AS_OF, dry_run=False)
    stored = stored_after(work)
    part_next = reference(work, NEXT_DAY)  # from the first day's dunning state and actions
    measure(part, part_next, "SQLite", url_of(work), NEXT_DAY, dry_run=False)
    part_monday = reference(work, MONDAY)
    measure(part, part_monday, "SQLite", url_of(work), MONDAY, dry_run=False)
    for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        leftover.unlink(missing_ok=True)

    if not args.skip_postgres:
        database = "huikuan_bench_daily"
        say("copying to PostgreSQL ...")
        url = copy_to_postgres(full.ready(), database)
        prepare_collections(url)
        measure(full, full_first, "PostgreSQL", url, AS_OF, dry_run=True)
        say("copying the scaled-down company to PostgreSQL ...")
        url = copy_to_postgres(part.ready(), database)
        prepare_collections(url)
        measure(part, part_first, "PostgreSQL", url, AS_OF, dry_run=False)
        measure(part, part_next, "PostgreSQL", url, NEXT_DAY, dry_run=False)
        measure(part, part_monday, "PostgreSQL", url, MONDAY, dry_run=False)
        drop_postgres(database)
    counts = (
        sqlite3.connect(full.path())
        .execute("SELECT COUNT(*), SUM(open_amount > 0 AND status = 'open') FROM invoice")
        .fetchone()
    )
    report(
        args,
        full,
        part,
        counts,
        checks,
        [
            (full, AS_OF, full_first),
            (part, AS_OF, part_first),
            (part, NEXT_DAY, part_next),
            (part, MONDAY, part_monday),
        ],
        stored,
        time.perf_counter() - started,
        (load, os.getloadavg()[0]),
    )


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def stored_after(path: Path) -> str:
    """What a real first day leaves in the database besides the actions: documents, deliveries."""
    conn = sqlite3.connect(path)
    documents = conn.execute(
        "SELECT kind, COUNT(*), SUM(LENGTH(content)) FROM collection_document GROUP BY kind"
    ).fetchall()
    deliveries = conn.execute(
        "SELECT channel, COUNT(*) FROM delivery GROUP BY channel ORDER BY 2 DESC"
    ).fetchall()
    conn.close()
    total = sum(size for _, _, size in documents)
    return (
        "documents kept: "
        + ", ".join(f"{kind} {n:,}" for kind, n, _ in documents)
        + f" ({total / 2**20:,.0f} MB, {total / max(1, sum(n for _, n, _ in documents)) / 1024:.0f} KB each); "
        + "deliveries recorded, not sent: "
        + ", ".join(f"{channel} {n:,}" for channel, n in deliveries)
    )


@dataclass(slots=True)
class Check:
    scale: Scale
    run: Run
    expected: Expected

    @property
    def agrees(self) -> bool:
        return agrees(self.run.summary, self.expected)


def channels_text(actions: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(actions.items(), key=lambda kv: -kv[1]))


def report(
    args: argparse.Namespace,
    full: Scale,
    part: Scale,
    counts: tuple[int, int],
    checks: list[Check],
    references: list[tuple[Scale, dt.date, Expected]],
    stored: str,
    elapsed: float,
    load: tuple[float, float],
) -> None:
    command = f".venv/bin/python bench/daily.py --open-invoices {args.open_invoices} --real-customers {args.real_customers}"
    lines = [
        f"## Daily collections run, {counts[1]:,} open invoices over {args.customers:,} customers",
        "",
        f"Command: `{command}`  ",
        f"Run {dt.date.today().isoformat()} on {machine()}; {counts[0]:,} invoices in all; "
        f"the whole benchmark took {elapsed / 60:.0f} min (load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end). First day {AS_OF} (every open invoice "
        f"enters its ladder), next working day {NEXT_DAY} (same week, so the weekly cap counts "
        f"the first day's contacts), Monday of the next week {MONDAY} (the cap starts again). "
        f"Real runs record everything and send nothing (`send=False`); "
        f"they use the same company scaled down to {part.customers:,} customers "
        f"({part.open_invoices:,} open invoices).",
        "",
        "| engine | scenario | company | invoices evaluated | invoices moved | deferred by cap | actions by channel | seconds | of which letter PDFs (n, s) | same as DuckDB |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for scale, day, ref in references:
        lines.append(
            f"| DuckDB (reference) | {day}: invoices with a step due | {scale.label} | "
            f"{ref.invoices_due:,} | {ref.invoices_moved:,} | {ref.deferred_by_cap:,} | "
            f"{channels_text(ref.actions)} | {ref.seconds:.1f} | | — |"
        )
    for check in checks:
        run, s = check.run, check.run.summary
        pdf = run.documents.get("render_letter_pdf")
        pdf_text = f"{pdf[0]:,}, {pdf[1]:.0f}" if pdf else ""
        lines.append(
            f"| {run.engine} | {run.scenario} | {check.scale.label} | {s.invoices_evaluated:,} | "
            f"{s.invoices_moved:,} | {s.deferred_by_cap:,} | {channels_text(s.actions)} | "
            f"{run.seconds:.1f} | {pdf_text} | {'yes' if check.agrees else 'NO'} |"
        )
    lines += [
        "",
        "Same as DuckDB: actions and amounts (to the fen) by channel, invoices moved and invoices "
        "deferred by the weekly cap are equal (DuckDB's seconds: its query and the cap in Python, "
        "not loading the rows). "
        f"After the first real day on SQLite, {stored}.",
        "",
        "Where the real runs' time goes: carrying out the actions, by channel, and the documents "
        "made inside that (seconds):",
        "",
        "| engine | scenario | carrying out, by channel (s) | documents (count, s) |",
        "| --- | --- | --- | --- |",
    ]
    for check in checks:
        run = check.run
        if run.summary.dry_run:
            continue
        carry = ", ".join(
            f"{k} {v:.1f}" for k, v in sorted(run.carry_out.items(), key=lambda kv: -kv[1])
        )
        docs = ", ".join(f"{k} {n:,} in {v:.1f}" for k, (n, v) in sorted(run.documents.items()))
        lines.append(f"| {run.engine} | {run.scenario} | {carry or '—'} | {docs or '—'} |")
    text_ = "\n".join(lines)
    print(text_)
    write_section(f"daily-{args.open_invoices}", text_)
    if not all(check.agrees for check in checks):
        sys.exit("the engine and the reference disagree")


if __name__ == "__main__":
    main()
