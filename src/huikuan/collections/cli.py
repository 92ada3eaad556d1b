"""Collections commands: ``huikuan strategy …``, ``huikuan daily``, ``huikuan send``,
``huikuan actions list`` and ``huikuan calendar …``. Mounted by the main command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.cli import (
    AsOfOption,
    CompanyOption,
    DbOption,
    as_of_date,
    cli_actor,
    fail,
    report_errors,
    settings_for,
    transaction,
)
from huikuan.collections import strategies
from huikuan.collections.daily import RunSummary, run_daily
from huikuan.collections.models import CollectionAction
from huikuan.collections.rules import CHANNEL_LABELS_ZH, Channel
from huikuan.collections.sending import Transports, send_due
from huikuan.core import calendar as company_calendar
from huikuan.core.company import resolve_company
from huikuan.core.dates import DateError, parse_date
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.errors import HuikuanError, ImportRejected, RowError
from huikuan.core.migrate import schema_is_current
from huikuan.core.money import format_amount
from huikuan.core.tabular import FieldSpec, map_columns, read_table, rows_of
from huikuan.customers.models import Customer
from huikuan.customers.service import get_customer

strategy_app: typer.Typer = typer.Typer(
    help="Collection strategies (escalation ladders). 催收策略", no_args_is_help=True
)
actions_app: typer.Typer = typer.Typer(
    help="Collection actions taken. 催收动作", no_args_is_help=True
)
calendar_app: typer.Typer = typer.Typer(
    help="Working days and holidays. 工作日历", no_args_is_help=True
)


@contextmanager
def run_factory(db: str | None) -> Iterator[sessionmaker[Session]]:
    """A session factory for commands made of several transactions (the daily run)."""
    engine = make_engine(settings_for(db).database_url)
    try:
        with engine.connect() as connection:
            if not schema_is_current(connection):
                fail("数据库未初始化或版本较旧，请先运行 huikuan init / run huikuan init first")
        yield session_factory(engine)
    finally:
        engine.dispose()


# --- huikuan strategy ----------------------------------------------------------------------


@strategy_app.command("list")
def list_command(db: DbOption = None, company: CompanyOption = None) -> None:
    """The company's strategies, and the rules that assign customers to them, in order."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows = strategies.list_strategies(session, company_id=co.id)
        for s in rows:
            steps = strategies.strategy_steps(session, s)
            mark = " *默认 default" if s.is_default else ""
            typer.echo(f"{s.code:<16} {s.name}（{len(steps)} 步 steps）{mark}")
        typer.echo("\n分配规则 assignment rules:")
        for rule in strategies.rule_specs(session, company_id=co.id):
            conditions = ", ".join(
                part
                for part in (
                    f"类型 type={rule.customer_type}" if rule.customer_type else "",
                    f"等级 grade∈{'/'.join(rule.grades)}" if rule.grades else "",
                    f"逾期≥{format_amount(rule.min_overdue)}" if rule.min_overdue else "",
                    f"逾期天数≥{rule.min_days_overdue}" if rule.min_days_overdue else "",
                )
                if part
            )
            typer.echo(f"  {rule.priority:>4}  {conditions or '所有客户 any'} → {rule.strategy}")


@strategy_app.command("show")
def show_command(code: str, db: DbOption = None, company: CompanyOption = None) -> None:
    """One strategy's ladder, step by step."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            strategy = strategies.get_strategy(session, company_id=co.id, code=code)
            steps = strategies.strategy_steps(session, strategy)
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"{strategy.code} {strategy.name}\n{strategy.description}\n")
    for step in steps:
        when = f"{step.trigger_days:+d}{' 工作日' if step.working_days else ' 天'}"
        anchor = "结算日" if step.anchor == "settlement" else "到期日"
        label = CHANNEL_LABELS_ZH.get(Channel(step.channel), step.channel)
        extra = f" 模板 {step.template}" if step.template else ""
        wait = f" 之后等待 {step.wait_days} 天" if step.wait_days else ""
        typer.echo(f"  {step.seq:>2}. {anchor}{when:<10} {label:<8} {step.name}{extra}{wait}")


@strategy_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="YAML (or JSON) file", exists=True, dir_okay=False)],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Create or update strategies (and the assignment rules) from a file; all or nothing."""
    text = read_text_file(file)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            counts = strategies.import_strategies(
                session, actor=cli_actor(), company_id=co.id, text=text
            )
    except HuikuanError as exc:
        report_problems(exc)
        return
    typer.echo(
        f"新建 created {counts['created']}，更新 updated {counts['updated']}，"
        f"未变 unchanged {counts['unchanged']}"
    )


def read_text_file(file: Path) -> str:
    raw = file.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    fail(f"{file}: 无法识别的文字编码 / unknown text encoding")


def report_problems(exc: HuikuanError) -> None:
    typer.echo(
        "错误 error: 文件有问题，未保存任何内容 / the file has problems, nothing saved", err=True
    )
    for problem in exc.message.split("；"):
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


@strategy_app.command("export")
def export_command(
    codes: Annotated[list[str] | None, typer.Argument(help="Strategy codes (default: all)")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default: stdout)")
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Write strategies as YAML that imports back to the same thing."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            text = strategies.export_strategies(session, company_id=co.id, codes=codes or ())
    except HuikuanError as exc:
        report_errors(exc)
        return
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"已写入 written {output}", err=True)


@strategy_app.command("assign")
def assign_command(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    strategy: Annotated[str | None, typer.Option("--strategy", help="Strategy code")] = None,
    rules_: Annotated[bool, typer.Option("--rules", help="Back to the assignment rules")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why this customer is handled so")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Put one customer on a strategy by hand (it wins over the rules), or back on the rules."""
    if (strategy is None) == (not rules_):
        fail("请指定 --strategy CODE 或 --rules 之一 / give either --strategy CODE or --rules")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            strategies.assign_customer(
                session,
                actor=cli_actor(),
                company_id=co.id,
                customer=get_customer(session, company_id=co.id, code=customer),
                code=strategy,
                reason=reason,
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"{customer} → {strategy or '按规则 by rules'}")


# --- huikuan daily and huikuan send ------------------------------------------------------------


def daily(
    as_of: AsOfOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and report; write and send nothing")
    ] = False,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Record messages; send them later with huikuan send")
    ] = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    takeover: Annotated[
        bool, typer.Option("--takeover", help="A previous run died while running: take over")
    ] = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """The day's collections: every open invoice is checked against its strategy; due actions
    are recorded and carried out, messages sent. Safe to run again for the same date."""
    day = as_of_date(as_of)
    with run_factory(db) as factory:
        with unit_of_work(factory) as session:
            company_id = resolve_company(session, company).id
        try:
            summary = run_daily(
                factory,
                company_id=company_id,
                as_of=day,
                now=dt.datetime.now().astimezone(),
                actor=cli_actor(),
                dry_run=dry_run,
                send=not no_send,
                transports=Transports.from_env(),
                progress=_progress,
                takeover=takeover,
            )
        except HuikuanError as exc:
            report_errors(exc)
            return
    if output_format == "json":
        typer.echo(summary.to_json())
    else:
        typer.echo(summary_text(summary))


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\r客户 customers {done:,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


NOT_CHASED = {
    "dispute": "争议中 disputed",
    "payment_plan": "还款计划履行中 payment plan",
    "promise": "承诺付款未到期 promise not yet due",
    "do_not_contact": "暂停联系 do not contact",
}


def summary_text(summary: RunSummary) -> str:
    lines = [
        f"{'试运行 DRY RUN ' if summary.dry_run else ''}催收日常任务 daily run {summary.as_of}"
    ]
    for year in summary.calendar_unknown_years:
        lines.append(
            f"!! {year} 年没有官方节假日安排，按周一至周五计算工作日；请用 huikuan calendar import 导入 / "
            f"no official holiday schedule for {year}: Monday to Friday assumed; import it with huikuan calendar import"
        )
    if not summary.working_day:
        lines.append(
            f"非工作日{('（' + summary.holiday + '）') if summary.holiday else ''}：不发送任何催收 / "
            "not a working day: nothing is sent; due steps move to the next working day"
        )
        return "\n".join(lines)
    lines.append(
        f"有余额客户 customers with a balance: {summary.customers:,}; 检查发票 invoices checked: {summary.invoices_evaluated:,}; 推进 moved: {summary.invoices_moved:,}"
    )
    for channel, count in sorted(summary.actions.items()):
        label = CHANNEL_LABELS_ZH.get(Channel(channel), channel)
        lines.append(
            f"  {label:<8} {channel:<14} {count:>7,}  {format_amount(summary.amounts.get(channel, 0)):>20}"
        )
    if not summary.actions:
        lines.append("  今天没有到期的催收步骤 / no step due today")
    lines.append(f"超出每周联系上限而顺延 deferred by the weekly cap: {summary.deferred_by_cap:,}")
    if summary.already_done_today:
        lines.append(f"今天已处理 already done today: {summary.already_done_today:,}")
    for reason, count in sorted(summary.not_chased.items()):
        lines.append(f"不催收 not chased ({NOT_CHASED.get(reason, reason)}): {count:,}")
    lines.append(
        f"暂停供货 supply stops placed {summary.holds_placed}, released {summary.holds_released}; "
        f"转法务/机构 referrals {summary.referrals}"
    )
    desk = {k: v for k, v in summary.desk.items() if v}
    if desk:
        lines.append("收款台 desk: " + ", ".join(f"{k} {v:,}" for k, v in sorted(desk.items())))
    if summary.deliveries:
        sent = ", ".join(f"{k} {v}" for k, v in sorted(summary.deliveries.items()))
        lines.append(f"发送 deliveries: {sent}")
    for error in summary.errors[:50]:
        lines.append(f"!! {error}")
    return "\n".join(lines)


def send(db: DbOption = None, company: CompanyOption = None) -> None:
    """Send the messages waiting to go (recorded by huikuan daily --no-send, held back by
    quiet hours, or waiting for a retry)."""
    with run_factory(db) as factory:
        with unit_of_work(factory) as session:
            company_id = resolve_company(session, company).id
        counts = send_due(
            factory,
            company_id=company_id,
            now=dt.datetime.now().astimezone(),
            transports=Transports.from_env(),
        )
    typer.echo(
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        or "没有待发送的消息 / nothing to send"
    )


# --- huikuan actions list ----------------------------------------------------------------------


@actions_app.command("list")
def actions_list(
    as_of: AsOfOption = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="email, sms, letter, phone_task, ...")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, done, sent, failed, skipped")
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """The actions of one day (default today)."""
    day = as_of_date(as_of)
    with transaction(db) as session:
        co = resolve_company(session, company)
        query = (
            select(CollectionAction, Customer.code, Customer.name)
            .join(Customer, Customer.id == CollectionAction.customer_id)
            .where(CollectionAction.company_id == co.id, CollectionAction.as_of == day)
            .order_by(Customer.code, CollectionAction.id)
        )
        if channel:
            query = query.where(CollectionAction.channel == channel)
        if status:
            query = query.where(CollectionAction.status == status)
        if customer:
            query = query.where(Customer.code == customer)
        rows = [_action_row(action, code, name) for action, code, name in session.execute(query)]
    _print_rows(rows, output_format)


def _action_row(action: CollectionAction, code: str, name: str) -> dict[str, object]:
    return {
        "date": action.as_of.isoformat(),
        "customer": code,
        "name": name,
        "step": action.step_name,
        "channel": action.channel,
        "invoices": action.invoice_count,
        "amount": format_amount(action.amount),
        "status": action.status,
        "assignee": action.assignee,
        "detail": action.detail,
    }


def _print_rows(rows: list[dict[str, object]], output_format: str) -> None:
    if output_format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["date"])
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
        return
    for row in rows:
        typer.echo(
            f"{row['customer']:<10} {str(row['name'])[:16]:<16} {row['step']:<12} {row['channel']:<12} "
            f"{row['invoices']:>3} {row['amount']:>16} {row['status']:<8} {row['assignee']}"
        )
    typer.echo(f"共 {len(rows)} 条 / {len(rows)} actions", err=True)


# --- huikuan calendar ----------------------------------------------------------------------


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Argument(help="Year, e.g. 2027")],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """The year's holidays and worked weekend days, and whether the schedule is official."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        cal = company_calendar.load_calendar(session, company_id=co.id)
        days = company_calendar.year_days(session, company_id=co.id, year=year)
    if year not in cal.known_years:
        typer.echo(
            f"!! {year} 年没有节假日安排，按周一至周五计算 / no schedule for {year}: Monday to Friday assumed"
        )
    for d in days:
        kind = "上班 workday" if d.is_workday else "休息 holiday"
        typer.echo(f"{d.day.isoformat()}  {kind:<12} {d.name}")


@calendar_app.command("import")
def calendar_import(
    year: Annotated[int, typer.Argument(help="The year the file describes")],
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV/XLSX: 日期/date, 类型/kind (休/班, holiday/workday), 名称/name",
            exists=True,
            dir_okay=False,
        ),
    ],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Load a year's official schedule (holidays and worked weekend days), replacing what the
    company had for that year. All or nothing."""
    try:
        days = read_schedule(file)
        with transaction(db) as session:
            co = resolve_company(session, company)
            company_calendar.set_year_schedule(
                session, actor=cli_actor(), company_id=co.id, year=year, days=days
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    holidays = sum(1 for d in days if not d.is_workday)
    typer.echo(
        f"{year}: 休息日 holidays {holidays}，调休上班 worked weekend days {len(days) - holidays}"
    )


_KINDS = {
    "休": False,
    "休息": False,
    "假": False,
    "holiday": False,
    "off": False,
    "班": True,
    "上班": True,
    "调休上班": True,
    "workday": True,
    "work": True,
}
SCHEDULE_FIELDS = (
    FieldSpec("date", required=True, synonyms=("日期",)),
    FieldSpec("kind", required=True, synonyms=("类型", "休/班")),
    FieldSpec("name", synonyms=("名称", "节日")),
)


def read_schedule(path: Path) -> list[company_calendar.ScheduledDay]:
    """Rows of date, kind (休/班) and name; every bad row is reported at once."""
    table = read_table(path)
    days, problems = [], []
    for row in rows_of(table, map_columns(table.headers, SCHEDULE_FIELDS, {})):
        try:
            day = parse_date(row.raw("date"))
        except DateError as exc:
            problems.append(RowError(row.number, row.column("date"), str(exc)))
            continue
        kind = row.text("kind").lower()
        if kind not in _KINDS:
            reason = f"'{kind}' 应为 休 或 班 / must be holiday (休) or workday (班)"
            problems.append(RowError(row.number, row.column("kind"), reason))
            continue
        days.append(company_calendar.ScheduledDay(day, _KINDS[kind], row.text("name")[:60]))
    if problems:
        raise ImportRejected(problems)
    return days
