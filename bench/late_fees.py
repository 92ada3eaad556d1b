"""Late-fee charge benchmark: the monthly charge (逾期违约金计收) of a company with 1M invoices over
100k customers, through ``collections.late_fees.charge_late_fees`` on SQLite and PostgreSQL,
against an independent DuckDB computation of the same fees from the same rows in the same run.

    .venv/bin/python bench/late_fees.py --invoices 1000000 --customers 100000

The data is the demo generator's company (as bench/aging.py builds it: three years of history
up to 2026-11-24, one contract per customer at 0, 0.0003 or 0.0005 a day with 0, 3 or 5 grace
days), kept in bench/results/ under a name carrying the migration head (a cache is not
schema-checked), plus what a working desk has: the company's holiday calendar, disputes on a
few open invoices and payment plans that waive late fees for a few customers, recorded through
the services. Each run works on a copy.

Timed, on each database: (a) the first charge as of 2026-11-24, which charges every whole month
since each invoice fell due (through 2026-10-31); (b) the same run again the same day, which
must write nothing; (c) the next month's run on 2026-12-01 (November). The DuckDB reference
expands every invoice's fee days, takes each day's balance as the amount less the allocations
live at the start of that day, and sums balance × daily rate per invoice and month, rounded half
up to the fen once; the effective (holiday-adjusted) due dates come from Python with the
company's calendar. Invoices with a dispute or a payment plan are left out of the comparison.
Every other charge must equal the reference's to the fen (and its days and first day), or the
benchmark exits with an error. Results go to docs/BENCHMARKS.md.
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
from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlalchemy import Engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    build_sqlite,
    copy_to_postgres,
    drop_postgres,
    machine,
    migration_head,
    say,
    write_section,
)
from huikuan.collections import disputes, plans
from huikuan.collections.late_fees import charge_late_fees
from huikuan.collections.models import Dispute, LateFeeCharge, PaymentPlanInvoice
from huikuan.collections.rules import effective_due
from huikuan.core.audit import Actor, AuditRecord, verify_chain
from huikuan.core.calendar import ensure_seeded, load_calendar
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.customers.models import Customer
from huikuan.demo.generator import DemoSpec
from huikuan.users.service import create_user

AS_OF = dt.date(2026, 11, 24)  # the demo's date: charges every whole month through 10-31
NEXT_MONTH = dt.date(2026, 12, 1)  # the next month's run: November
COMPANY = 1
ACTOR = Actor(name="bench", source="bench", at=dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC))
APPROVER = "credit_mgr"
DISPUTES_PER_100K = 300  # invoices disputed, per 100k customers
PLANS_PER_100K = 100  # customers on a plan that waives late fees, per 100k customers

Key = tuple[int, dt.date]  # invoice id, period end
Charge = tuple[dt.date, int, int]  # period start, days, amount (fen)


# --- The data ---------------------------------------------------------------------------------


def spec(args: argparse.Namespace) -> DemoSpec:
    return DemoSpec(
        as_of=AS_OF, customers=args.customers, years=args.years, seed=2026,
        invoices_per_customer_year=args.invoices / args.customers / args.years, with_orders=False,
    )  # fmt: skip


def cache_name(args: argparse.Namespace, kind: str) -> Path:
    return (
        RESULTS
        / f"late-fees-{kind}-{migration_head()}-{args.invoices}-{args.customers}-{args.years}.db"
    )


def build_data(args: argparse.Namespace) -> Path:
    """The demo ledger, then the desk's calendar, disputes and plans (reused when present)."""
    path = cache_name(args, "desk")
    if path.exists():
        say(f"reusing {path}")
        return path
    ledger = cache_name(args, "ledger")
    build_sqlite(ledger, spec(args), f"{args.invoices:,} invoices")
    tmp = path.with_suffix(".tmp")
    copy_sqlite(ledger, tmp)
    started = time.perf_counter()
    facts = prepare_desk(f"sqlite:///{tmp}", args.customers)
    conn = sqlite3.connect(tmp)
    conn.execute("ANALYZE")
    conn.close()
    os.replace(tmp, path)
    ledger.unlink()  # the desk copy holds everything; keep one file of each size
    say(f"{facts} in {time.perf_counter() - started:.0f} s")
    return path


def prepare_desk(url: str, customers: int) -> str:
    """The calendar seeded, a credit manager to approve plans, disputes on a few open overdue
    invoices and late-fee-waiving plans for a few customers, all through the services. The
    choice depends only on the rows, so SQLite and PostgreSQL get the same desk."""
    engine = make_engine(url)
    rng = random.Random(20261124)
    with unit_of_work(session_factory(engine)) as session:
        ensure_seeded(session, company_id=COMPANY)
        create_user(
            session, actor=ACTOR, company_id=COMPANY, username=APPROVER, display_name="信用经理",
            role="credit_manager", password="bench-Password-2026",
        )  # fmt: skip
        overdue = session.execute(
            text(
                "SELECT i.number, i.customer_id, i.open_amount, i.issue_date, i.due_date"
                " FROM invoice i JOIN contract k ON k.customer_id = i.customer_id"
                " WHERE i.company_id = :company AND i.status = 'open' AND i.open_amount > 0"
                " AND i.due_date < :day AND k.late_fee_rate_per_day > 0 ORDER BY i.id"
            ),
            {"company": COMPANY, "day": AS_OF - dt.timedelta(days=60)},
        ).all()
        by_customer: dict[int, list[str]] = {}
        for number, customer_id, *_ in overdue:
            by_customer.setdefault(customer_id, []).append(number)
        planned = rng.sample(sorted(by_customer), PLANS_PER_100K * customers // 100_000)
        for customer_id in planned:
            agreed = AS_OF - dt.timedelta(days=rng.randint(20, 50))
            plan = plans.agree_plan(
                session, actor=ACTOR, company_id=COMPANY,
                customer=session.get_one(Customer, customer_id),
                invoice_numbers=by_customer[customer_id],
                schedule=plans.ScheduleRequest.equal(agreed + dt.timedelta(days=30), 6),
                waive_late_fees=True, agreed_on=agreed,
            )  # fmt: skip
            plans.decide_plan(
                session, actor=Actor(APPROVER, "bench", ACTOR.at), company_id=COMPANY,
                plan_id=plan.id, approve=True, decided_on=agreed,
            )  # fmt: skip
        on_plan = set(planned)
        free = [row for row in overdue if row[1] not in on_plan]
        for number, _, open_amount, issued, due in rng.sample(
            free, DISPUTES_PER_100K * customers // 100_000
        ):
            raised = _as_date(due) + dt.timedelta(days=rng.randint(1, 40))
            disputes.raise_dispute(
                session, actor=ACTOR, company_id=COMPANY, invoice_number=number,
                amount=max(1, open_amount * rng.choice((25, 50, 100)) // 100),
                reason="quality", raised_on=max(raised, _as_date(issued)),
            )  # fmt: skip
        disputed = session.scalar(select(func.count(Dispute.id)))
        plans_n = session.scalar(select(func.count(PaymentPlanInvoice.invoice_id)))
    engine.dispose()
    return f"calendar, {disputed:,} disputes, {len(planned):,} plans over {plans_n:,} invoices"


def copy_sqlite(source: Path, target: Path) -> None:
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(source, target)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --- Running the engine -----------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    engine: str
    scenario: str
    as_of: dt.date
    seconds: float
    invoices: int  # invoices charged
    charges: int  # charge rows the run reported
    amount: int  # fen
    rows_written: int  # late_fee_charge + audit_record rows added
    new: dict[Key, Charge]  # the charges this run wrote, as read back
    agrees: bool | None = None
    differences: str = ""
    chain: int | None = None  # audit chain breaks after the last run

    @property
    def per_second(self) -> float:
        return self.charges / self.seconds if self.seconds else 0.0


def stored_charges(engine: Engine) -> dict[Key, Charge]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                LateFeeCharge.invoice_id, LateFeeCharge.period_end, LateFeeCharge.period_start,
                LateFeeCharge.days, LateFeeCharge.amount,
            ).where(LateFeeCharge.company_id == COMPANY)
        )  # fmt: skip
        return {
            (i, _as_date(end)): (_as_date(start), days, amount)
            for i, end, start, days, amount in rows
        }


def row_count(engine: Engine) -> int:
    with engine.connect() as conn:
        charges = conn.scalar(select(func.count()).select_from(LateFeeCharge))
        audits = conn.scalar(select(func.count()).select_from(AuditRecord))
    return int(charges or 0) + int(audits or 0)


def timed_charge(engine_name: str, scenario: str, url: str, as_of: dt.date) -> Run:
    engine = make_engine(url)
    factory = session_factory(engine)
    before, rows_before = stored_charges(engine), row_count(engine)
    say(f"{engine_name}: {scenario} ({as_of}) ...")
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        result = charge_late_fees(session, company_id=COMPANY, as_of=as_of, actor=ACTOR)
    seconds = time.perf_counter() - started
    after, rows_after = stored_charges(engine), row_count(engine)
    engine.dispose()
    new = {k: v for k, v in after.items() if k not in before}
    say(
        f"  {seconds:.1f} s: {result.charges:,} charges on {result.invoices:,} invoices, "
        f"{result.amount / 100:,.2f} yuan, {rows_after - rows_before:,} rows written"
    )
    return Run(
        engine_name, scenario, as_of, seconds, result.invoices, result.charges, result.amount,
        rows_after - rows_before, new,
    )  # fmt: skip


# --- The reference: the same fees in DuckDB ---------------------------------------------------

REFERENCE_TABLES: dict[str, dict[str, str]] = {
    "invoice": {"id": "BIGINT", "customer_id": "BIGINT", "issue_date": "DATE", "due_date": "DATE",
                "amount": "BIGINT", "status": "VARCHAR"},
    "allocation": {"invoice_id": "BIGINT", "amount": "BIGINT", "effective_on": "DATE",
                   "reversed_on": "DATE"},
    "contract": {"id": "BIGINT", "customer_id": "BIGINT", "signed_on": "DATE", "ends_on": "DATE",
                 "late_fee_rate_per_day": "DECIMAL(10,6)", "late_fee_rate_per_year": "DECIMAL(10,6)",
                 "late_fee_compound": "BOOLEAN", "grace_days": "INTEGER"},
}  # fmt: skip


def duckdb_database(sqlite_path: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB with the invoices, allocations and contracts, the invoices left out of the
    comparison, and each due date's effective (holiday-adjusted) date from the calendar."""
    con = duckdb.connect()
    source = sqlite3.connect(sqlite_path)
    for table, columns in REFERENCE_TABLES.items():
        path = RESULTS / f"late-fees-{table}.csv"
        cursor = source.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE company_id = {COMPANY}"
        )
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            while batch := cursor.fetchmany(100_000):
                writer.writerows(batch)
        types = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header=true,"
            f" columns={types})"
        )
        path.unlink()
    excluded = source.execute(
        "SELECT invoice_id FROM dispute UNION SELECT invoice_id FROM payment_plan_invoice"
    ).fetchall()
    due_dates = [_as_date(d) for (d,) in source.execute("SELECT DISTINCT due_date FROM invoice")]
    source.close()
    engine = make_engine(f"sqlite:///{sqlite_path}")
    with session_factory(engine)() as session:
        calendar = load_calendar(session, company_id=COMPANY)
    engine.dispose()
    con.execute("CREATE TABLE excluded (invoice_id BIGINT)")
    con.executemany("INSERT INTO excluded VALUES (?)", excluded)
    con.execute("CREATE TABLE due (due_date DATE, effective_due DATE)")
    con.executemany(
        "INSERT INTO due VALUES (?, ?)", [(d, effective_due(d, calendar)) for d in due_dates]
    )
    (unsupported,) = con.execute(
        "SELECT COUNT(*) FROM contract WHERE late_fee_rate_per_year > 0 OR late_fee_compound"
    ).fetchone()
    if unsupported:
        sys.exit("the reference handles daily simple rates only, as the demo's contracts state")
    return con


def reference_sql(through: dt.date) -> str:
    """Per invoice and month through ``through``: the first day charged, the days with a
    balance and the fee, for every invoice not left out."""
    last = f"DATE '{through}'"
    return f"""
    WITH terms AS (  -- the contract in force on the issue date: the latest signed by then
        SELECT i.id, i.amount, i.due_date,
               arg_max(k.late_fee_rate_per_day, k.signed_on) AS rate,
               arg_max(k.grace_days, k.signed_on) AS grace
        FROM invoice i JOIN contract k ON k.customer_id = i.customer_id
         AND k.signed_on <= i.issue_date AND (k.ends_on IS NULL OR k.ends_on >= i.issue_date)
        WHERE i.status <> 'void' AND i.id NOT IN (SELECT invoice_id FROM excluded)
        GROUP BY i.id, i.amount, i.due_date),
    moves AS (  -- what is still owed at the end, and the last day any allocation moved
        SELECT invoice_id,
               SUM(CASE WHEN reversed_on IS NULL THEN amount ELSE 0 END) AS live,
               MAX(GREATEST(effective_on, COALESCE(reversed_on, effective_on))) AS last_move
        FROM allocation GROUP BY invoice_id),
    span AS (  -- from the first fee day to the last day a balance can stand
        SELECT t.id, t.amount, t.rate,
               e.effective_due + t.grace + 1 AS first_day,
               CASE WHEN t.amount - COALESCE(m.live, 0) > 0 THEN {last}
                    ELSE LEAST(m.last_move, {last}) END AS last_day
        FROM terms t JOIN due e ON e.due_date = t.due_date
        LEFT JOIN moves m ON m.invoice_id = t.id
        WHERE t.rate > 0),
    days AS (
        SELECT id, amount, rate, first_day, unnest(generate_series(first_day, last_day,
               INTERVAL 1 DAY))::DATE AS day
        FROM span WHERE first_day <= last_day),
    balance AS (  -- the amount less the allocations live at the start of the day
        SELECT d.id, d.rate, d.first_day, d.day,
               GREATEST(d.amount - COALESCE(SUM(a.amount), 0), 0) AS balance
        FROM days d LEFT JOIN allocation a
          ON a.invoice_id = d.id AND a.effective_on < d.day
         AND (a.reversed_on IS NULL OR a.reversed_on >= d.day)
        GROUP BY d.id, d.rate, d.first_day, d.day, d.amount)
    SELECT id, last_day(day) AS period_end,
           GREATEST(first_day, date_trunc('month', day)::DATE) AS period_start,
           COUNT(*) FILTER (WHERE balance > 0) AS days,
           FLOOR(SUM(balance) * rate + 0.5)::BIGINT AS fee
    FROM balance
    GROUP BY id, last_day(day), first_day, date_trunc('month', day), rate
    HAVING FLOOR(SUM(balance) * rate + 0.5) > 0"""


@dataclass(slots=True)
class Reference:
    through: dt.date
    charges: dict[Key, Charge]
    seconds: float
    fee_days: int


def reference(con: duckdb.DuckDBPyConnection, through: dt.date) -> Reference:
    say(f"DuckDB reference through {through} ...")
    started = time.perf_counter()
    rows = con.execute(reference_sql(through)).fetchall()
    seconds = time.perf_counter() - started
    charges = {(i, end): (start, days, int(fee)) for i, end, start, days, fee in rows}
    fee_days = sum(days for _, days, _ in charges.values())
    say(
        f"  {seconds:.1f} s: {len(charges):,} invoice-months, "
        f"{sum(c[2] for c in charges.values()) / 100:,.2f} yuan"
    )
    return Reference(through, charges, seconds, fee_days)


def compare(got: dict[Key, Charge], expected: dict[Key, Charge], left_out: set[int]) -> str:
    """'' when every charge outside ``left_out`` equals the reference, else what differs."""
    mine = {k: v for k, v in got.items() if k[0] not in left_out}
    missing = sorted(set(expected) - set(mine))
    extra = sorted(set(mine) - set(expected))
    differ = sorted(k for k in set(mine) & set(expected) if mine[k] != expected[k])
    if not (missing or extra or differ):
        return ""
    show = [f"{k}: {mine.get(k)} vs {expected.get(k)}" for k in (differ + missing + extra)[:5]]
    return f"{len(differ):,} differ, {len(missing):,} missing, {len(extra):,} extra; " + "; ".join(
        show
    )


def left_out_ids(url: str) -> set[int]:
    """The invoices with a dispute or a payment plan: left out of the comparison."""
    engine = make_engine(url)
    with engine.connect() as conn:
        ids = set(conn.scalars(select(Dispute.invoice_id)))
        ids |= set(conn.scalars(select(PaymentPlanInvoice.invoice_id)))
    engine.dispose()
    return ids


# --- The whole benchmark ----------------------------------------------------------------------


def run_engine(
    engine_name: str, url: str, first: Reference, second: Reference, left_out: set[int]
) -> list[Run]:
    runs = [
        timed_charge(engine_name, "first run", url, AS_OF),
        timed_charge(engine_name, "again the same day", url, AS_OF),
        timed_charge(engine_name, "next month", url, NEXT_MONTH),
    ]
    runs[0].differences = compare(runs[0].new, first.charges, left_out)
    runs[0].agrees = not runs[0].differences
    runs[1].agrees = runs[1].rows_written == 0 and runs[1].charges == 0
    runs[1].differences = "" if runs[1].agrees else f"{runs[1].rows_written:,} rows written"
    november = {k: v for k, v in second.charges.items() if k[1] > first.through}
    runs[2].differences = compare(runs[2].new, november, left_out)
    runs[2].agrees = not runs[2].differences
    for run in runs:
        if run.differences:
            say(f"  {engine_name}, {run.scenario}: {run.differences}")
    runs[-1].chain = chain_breaks(url)
    return runs


def chain_breaks(url: str) -> int:
    """The company's audit chain checked after the runs (``huikuan audit verify``)."""
    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as session:
        breaks = verify_chain(session, company_id=COMPANY)
    engine.dispose()
    say(f"  audit chain verified in {time.perf_counter() - started:.0f} s: {len(breaks)} breaks")
    return len(breaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    started, load = time.perf_counter(), os.getloadavg()[0]
    data = build_data(args)
    left_out = left_out_ids(f"sqlite:///{data}")
    say("loading DuckDB ...")
    con = duckdb_database(data)
    first = reference(con, dt.date(2026, 10, 31))
    second = reference(con, dt.date(2026, 11, 30))
    con.close()

    work = RESULTS / "late-fees-work.db"
    copy_sqlite(data, work)
    runs = run_engine("SQLite", f"sqlite:///{work}", first, second, left_out)
    for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        leftover.unlink(missing_ok=True)
    if not args.skip_postgres:
        database = "huikuan_bench_late_fees"
        say("copying to PostgreSQL ...")
        url = copy_to_postgres(data, database)
        prepare_desk(url, args.customers)
        if left_out_ids(url) != left_out:
            sys.exit("PostgreSQL's desk differs from SQLite's")
        runs += run_engine("PostgreSQL", url, first, second, left_out)
        drop_postgres(database)
    report(args, data, left_out, [first, second], runs, time.perf_counter() - started, load)


def scale_label(invoices: int) -> str:
    if invoices % 1_000_000 == 0:
        return f"{invoices // 1_000_000}M invoices"
    return f"{invoices:,} invoices"


def report(
    args: argparse.Namespace,
    data: Path,
    left_out: set[int],
    references: list[Reference],
    runs: list[Run],
    elapsed: float,
    load: float,
) -> None:
    conn = sqlite3.connect(data)
    invoices, allocations, rated, disputed, planned = conn.execute(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM allocation),"
        " SUM(customer_id IN (SELECT customer_id FROM contract WHERE late_fee_rate_per_day > 0)),"
        " (SELECT COUNT(DISTINCT invoice_id) FROM dispute),"
        " (SELECT COUNT(*) FROM payment_plan_invoice) FROM invoice"
    ).fetchone()
    conn.close()
    command = (
        f".venv/bin/python bench/late_fees.py --invoices {args.invoices} "
        f"--customers {args.customers}" + (" --skip-postgres" if args.skip_postgres else "")
    )
    first, second = references
    november = {k: v for k, v in second.charges.items() if k[1] > first.through}
    lines = [
        f"## Late fees (逾期违约金) at {scale_label(args.invoices)}",
        "",
        f"Command: `{command}`  ",
        f"Run {dt.date.today().isoformat()} on {machine()}; the whole benchmark took "
        f"{elapsed / 60:.0f} min (load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end). The demo company: {invoices:,} invoices "
        f"({rated:,} under a contract with a late-fee rate of 0.0003 or 0.0005 a day) over "
        f"{args.customers:,} customers, {allocations:,} allocations, three years to {AS_OF}; "
        f"plus the holiday calendar, disputes on {disputed:,} invoices and late-fee-waiving "
        f"payment plans over {planned:,} invoices, recorded through the services. One charge = "
        "one `late_fee_charge` row and one audit record, in one transaction.",
        "",
        "| engine | run | as of | invoices charged | charges | fen | seconds | charges/s | rows written | same as DuckDB |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| DuckDB (reference) | months through {first.through} | | "
        f"{len({k[0] for k in first.charges}):,} | {len(first.charges):,} | "
        f"{sum(c[2] for c in first.charges.values()):,} | {first.seconds:.1f} | | | — |",
        f"| DuckDB (reference) | November (from the months through {second.through}) | | "
        f"{len({k[0] for k in november}):,} | {len(november):,} | "
        f"{sum(c[2] for c in november.values()):,} | {second.seconds:.1f} | | | — |",
    ]
    for run in runs:
        lines.append(
            f"| {run.engine} | {run.scenario} | {run.as_of} | {run.invoices:,} | {run.charges:,} | "
            f"{run.amount:,} | {run.seconds:.1f} | {f'{run.per_second:,.0f}' if run.charges else '—'} | {run.rows_written:,} | "
            f"{'yes' if run.agrees else 'NO: ' + run.differences} |"
        )
    engines = list(dict.fromkeys(r.engine for r in runs))
    compared = [r for r in runs if r.engine == engines[0] and r.scenario != "again the same day"]
    checked = sum(len([k for k in r.new if k[0] not in left_out]) for r in compared)
    skipped = sum(len([k for k in r.new if k[0] in left_out]) for r in compared)
    agree = all(r.agrees for r in runs)
    chains = ", ".join(f"{r.engine} {r.chain} breaks" for r in runs if r.chain is not None)
    lines += [
        "",
        f"Same as DuckDB: on {' and '.join(engines)}, every charge the runs wrote has the "
        "reference's amount to the fen, days charged and first day, and the reference has no "
        "invoice-month the runs missed"
        + (
            f": all {checked:,} invoice-months equal to the fen."
            if agree
            else " — NO, see the table."
        )
        + f" Left out of the comparison: the {len(left_out):,} invoices with a dispute or a "
        f"payment plan ({skipped:,} charges; the reference knows only allocations). Again the "
        "same day: nothing written (no charge, no audit record). The audit chain after the "
        f"runs (`verify_chain`): {chains}. The reference charges {second.fee_days:,} days "
        f"(invoice-days with a balance) through {second.through}; its seconds are the query, "
        "not loading the rows.",
    ]
    text_ = "\n".join(lines)
    print(text_)
    write_section(f"late-fees-{args.invoices}", text_)
    if not all(run.agrees for run in runs):
        sys.exit("the engine and the reference disagree")
    if any(run.chain for run in runs):
        sys.exit("the audit chain is broken")


if __name__ == "__main__":
    main()
