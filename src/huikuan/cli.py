"""The ``huikuan`` command. The only layer (with the web app) that reads the clock."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor
from huikuan.core.company import create_company, resolve_company
from huikuan.core.dates import DateError, parse_date, today
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.errors import HuikuanError, ImportRejected
from huikuan.core.migrate import schema_is_current, upgrade_to_head
from huikuan.core.money import AmountError, parse_amount
from huikuan.core.settings import Settings
from huikuan.ledger import aging_output, daily_totals
from huikuan.ledger.aging import AgingBy, aging_report
from huikuan.ledger.rules import parse_bucket_limits
from huikuan.ledger.service import ledger_discrepancies

T = TypeVar("T")
app = typer.Typer(
    help="Huikuan 回款: accounts-receivable credit and collections.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ledger_app = typer.Typer(help="Ledger maintenance. 台账维护", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: $HUIKUAN_DATABASE_URL or sqlite:///huikuan.db)"
    ),
]
CompanyOption = Annotated[
    str | None, typer.Option("--company", help="Company code (needed only when there are several)")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Business date YYYY-MM-DD (default: today)")
]


def settings_for(db: str | None) -> Settings:
    return Settings.from_env(database_url=db)


@contextmanager
def transaction(db: str | None) -> Iterator[Session]:
    """One unit of work on the configured database; domain errors become clean exits."""
    engine = make_engine(settings_for(db).database_url)
    try:
        with engine.connect() as connection:
            current = schema_is_current(connection)
        if not current:
            fail(
                "数据库未初始化或版本较旧，请先运行 huikuan init / the database is not initialised or is older than this version: run huikuan init first"
            )
        with unit_of_work(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def cli_actor() -> Actor:
    """Changes made from the command line are audited as ``cli:<operating-system user>``."""
    return Actor(name=f"cli:{getpass.getuser()}", source="cli", at=dt.datetime.now(dt.UTC))


def option_value(parse: Callable[[str], T], value: str, option: str) -> T:
    """An option's text read by ``parse`` (an amount, a date, ...); a bad one is reported
    against the option, as typer reports its own checks."""
    try:
        return parse(value)
    except (DateError, AmountError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def optional_amount(value: str | None, option: str) -> int | None:
    return None if value is None else option_value(parse_amount, value, option)


def optional_date(value: str | None, option: str) -> dt.date | None:
    return None if value is None else option_value(parse_date, value, option)


def as_of_date(value: str | None, option: str = "--as-of") -> dt.date:
    """The business date an option names; today when not given."""
    return today() if value is None else option_value(parse_date, value, option)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def report_errors(exc: HuikuanError) -> None:
    typer.echo(f"错误 error: {exc.message}", err=True)
    if isinstance(exc, ImportRejected):
        for error in exc.errors[:200]:
            typer.echo(f"  {error}", err=True)
        if len(exc.errors) > 200:
            typer.echo(f"  ... {len(exc.errors) - 200} more", err=True)
    raise typer.Exit(1)


@app.command()
def init(
    db: DbOption = None,
    company: Annotated[str, typer.Option(help="Code of the first company to create")] = "main",
    company_name: Annotated[str, typer.Option(help="Name of the first company")] = "我的公司",
) -> None:
    """Create or upgrade the database schema; create a first company if there is none.

    Safe to run again: an up-to-date database is left as it is."""
    url = settings_for(db).database_url
    upgrade_to_head(url)
    with transaction(db) as session:
        from sqlalchemy import select

        from huikuan.collections.excuses import install_default_excuses
        from huikuan.collections.strategies import install_defaults
        from huikuan.core.models import Company

        if session.scalar(select(Company.id).limit(1)) is None:
            create_company(session, code=company, name=company_name)
            typer.echo(f"已创建公司 created company {company} {company_name}")
        for company_id in session.scalars(select(Company.id)):
            if install_defaults(session, actor=cli_actor(), company_id=company_id):
                typer.echo("已安装默认催收策略 default collection strategies installed")
            install_default_excuses(session, actor=cli_actor(), company_id=company_id)
    typer.echo(f"数据库已就绪 database ready: {url}")


@app.command()
def aging(
    as_of: AsOfOption = None,
    by: Annotated[AgingBy, typer.Option(help="Group rows by")] = AgingBy.CUSTOMER,
    buckets: Annotated[str, typer.Option(help="Bucket upper limits in days")] = "30,60,90,180,365",
    output_format: Annotated[
        str, typer.Option("--format", help="table, json, csv or xlsx")
    ] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency (default: the company's)")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown in table format")] = 50,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Aging of open receivables as of a date, with DSO (countback). 账龄分析"""
    try:
        limits = parse_bucket_limits(buckets)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--buckets") from exc
    if output_format not in {"table", "json", "csv", "xlsx"}:
        raise typer.BadParameter("table, json, csv or xlsx", param_hint="--format")
    if output_format == "xlsx" and output is None:
        raise typer.BadParameter("xlsx needs --output FILE.xlsx", param_hint="--output")
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            report = aging_report(
                session,
                company_id=co.id,
                as_of=day,
                by=by,
                limits=limits,
                currency=currency or co.currency,
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    if output_format == "xlsx":
        assert output is not None
        aging_output.write_xlsx(report, output)
        typer.echo(f"已写入 written: {output}")
        return
    if output_format == "json":
        text = json.dumps(aging_output.to_json(report), ensure_ascii=False, indent=2)
    elif output_format == "csv":
        text = aging_output.to_csv(report)
    else:
        text = aging_output.to_table(report, limit=limit)
    if output is not None:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        typer.echo(f"已写入 written: {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@ledger_app.command("check")
def ledger_check(db: DbOption = None, company: CompanyOption = None) -> None:
    """Prove every invoice's kept open amount equals its amount minus live allocations."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        problems = ledger_discrepancies(session, company_id=co.id)
        stored = daily_totals.stored_totals(session, co.id)
        computed = daily_totals.computed_totals(session, co.id)
    if problems:
        for number, kept, computed_open in problems[:100]:
            typer.echo(
                f"发票 {number}: 记录未结 {kept} 分, 按核销计算 {computed_open} 分", err=True
            )
        fail(f"{len(problems)} 张发票不一致 / invoices disagree")
    if stored != computed:
        days = sorted(k for k in set(stored) | set(computed) if stored.get(k) != computed.get(k))
        for currency, day in days[:20]:
            typer.echo(
                f"{day} {currency}: 记录 {stored.get((currency, day))} / 计算 {computed.get((currency, day))}",
                err=True,
            )
        fail(
            "每日汇总与台账不一致（可用 huikuan ledger rebuild-days 重建）/ day totals disagree with the ledger (rebuild with huikuan ledger rebuild-days)"
        )
    typer.echo("台账一致 ledger consistent")


@ledger_app.command("rebuild-days")
def ledger_rebuild_days(db: DbOption = None, company: CompanyOption = None) -> None:
    """Recompute the day totals behind DSO trends from the invoices and allocations."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        daily_totals.rebuild(session, co.id)
    typer.echo("每日汇总已重建 day totals rebuilt")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (2 × cores + 1 is typical)")
    ] = 1,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="Proxies whose X-Forwarded-* headers are trusted (comma-separated)")
    ] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Run the web app (pages and the /api) with uvicorn. Migrates the database first."""
    import os

    import uvicorn

    url = settings_for(db).database_url
    os.environ["HUIKUAN_DATABASE_URL"] = url
    upgrade_to_head(url)
    typer.echo(f"Huikuan on http://{host}:{port}/  (database {url}, {workers} worker(s))")
    uvicorn.run(
        "huikuan.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
    )


def main() -> None:  # pragma: no cover - console entry point
    app()


# Capabilities register their commands below.
from huikuan.demo.cli import demo  # noqa: E402

app.command()(demo)
from huikuan.cli_transfers import export_app, import_app  # noqa: E402

app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
from huikuan.cli_admin import audit_app, user_app  # noqa: E402

app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
from huikuan.credit.cli import credit_app  # noqa: E402
from huikuan.credit.cli_blacklist import blacklist_app  # noqa: E402

credit_app.add_typer(blacklist_app, name="blacklist")
app.add_typer(credit_app, name="credit")
from huikuan.credit.cli_holds import hold_command, release_command  # noqa: E402
from huikuan.credit.cli_orders import order_app  # noqa: E402

credit_app.command("hold")(hold_command)
credit_app.command("release")(release_command)
app.add_typer(order_app, name="order")
from huikuan.collections.cli import actions_app, calendar_app, daily, send, strategy_app  # noqa: E402

app.add_typer(strategy_app, name="strategy")
app.add_typer(actions_app, name="actions")
app.add_typer(calendar_app, name="calendar")
app.command()(daily)
app.command()(send)
from huikuan.collections.cli_calls import call_app, excuse_app  # noqa: E402

app.add_typer(call_app, name="call")
app.add_typer(excuse_app, name="excuse")
from huikuan.collections.cli_disputes_plans import dispute_app, plan_app  # noqa: E402

app.add_typer(dispute_app, name="dispute")
app.add_typer(plan_app, name="plan")
from huikuan.collections.cli_desk_fees import fees_app, promise_app  # noqa: E402

app.add_typer(promise_app, name="promise")
app.add_typer(fees_app, name="fees")
from huikuan.collections.cli_worklist import worklist_command  # noqa: E402

app.command("worklist")(worklist_command)
from huikuan.customers.cli_contracts import contract_app  # noqa: E402

app.add_typer(contract_app, name="contract")
from huikuan.reconciliation.cli_bank import bank_app  # noqa: E402

app.add_typer(bank_app, name="bank")
from huikuan.reconciliation.cli_statements import statement_app  # noqa: E402

app.add_typer(statement_app, name="statement")
