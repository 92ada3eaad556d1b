"""``huikuan statement …``: customer statements of account issued, sent, confirmed or disputed,
their differences resolved, and the schedule the daily run sends them on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huikuan.cli import (
    CompanyOption,
    DbOption,
    as_of_date,
    cli_actor,
    fail,
    option_value,
    report_errors,
    transaction,
)
from huikuan.collections.models import Document
from huikuan.core.company import resolve_company
from huikuan.core.dates import parse_date
from huikuan.core.errors import HuikuanError
from huikuan.core.money import format_amount, parse_amount
from huikuan.customers.service import get_customer
from huikuan.reconciliation import statements
from huikuan.reconciliation.statement_queries import list_statements

statement_app: typer.Typer = typer.Typer(
    help="Customer statements of account. 对账单", no_args_is_help=True
)
DateText = Annotated[str | None, typer.Option(help="YYYY-MM-DD")]


@statement_app.command("issue")
def statement_issue(
    customer: Annotated[str, typer.Argument(help="Customer code 客户代码")],
    start: Annotated[str, typer.Option("--from", help="First day YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last day YYYY-MM-DD")],
    send: Annotated[bool, typer.Option("--send", help="Email it now")] = False,
    email: Annotated[str, typer.Option("--email", help="Recipient (default: the customer's)")] = "",
    language: Annotated[str, typer.Option("--language", help="zh or en")] = "zh",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Issue the statement for a period (again: the one on file). 出具对账单"""
    first = option_value(parse_date, start, "--from")
    last = option_value(parse_date, end, "--to")
    actor = cli_actor()
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            found = get_customer(session, company_id=co.id, code=customer)
            issued = statements.issue_statements(
                session, actor=actor, customer=found, start=first, end=last,
                issued_on=actor.at.astimezone().date(), language=language,
            )  # fmt: skip
            for statement in issued if send else []:
                statements.send_statement(
                    session, actor=actor, company_id=co.id, statement_id=statement.id,
                    now=actor.at.astimezone().replace(tzinfo=None), recipient=email,
                )  # fmt: skip
            lines = [
                f"#{s.id} {s.period_start}~{s.period_end} {s.currency} 期初 opening "
                f"{format_amount(s.opening)} 期末 closing {format_amount(s.closing)} [{s.status}]"
                + (f" → {s.sent_to}" if s.sent_to else "")
                for s in issued
            ]
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo("\n".join(lines))
    if send:
        typer.echo("邮件将由 huikuan send 或每日任务发出 / sent by 'huikuan send' or the daily run")


@statement_app.command("list")
def statement_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="issued, sent, confirmed, disputed, resolved"),
    ] = None,
    customer: Annotated[str, typer.Option("--customer", help="Customer code")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Statements and where each stands. 对账单列表"""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows = list_statements(session, company_id=co.id, status=status, customer=customer)
    for r in rows:
        typer.echo(
            f"#{r.id:<5} {r.customer_code:<10} {r.period_end} {r.currency} "
            f"{format_amount(r.closing):>16} {r.status:<9} "
            f"{r.confirmed_by + ' ' + str(r.confirmed_on) if r.confirmed_on else r.sent_to or '-'}"
            + (f"  差异 open differences {r.open_differences}" if r.open_differences else "")
        )
    typer.echo(f"共 {len(rows)} 份 / {len(rows)} statements")


@statement_app.command("pdf")
def statement_pdf(
    statement_id: Annotated[int, typer.Argument(help="Statement id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write")],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Write the statement's PDF as issued. 导出对账单 PDF"""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows = list_statements(session, company_id=co.id, statement_id=statement_id)
        if not rows or rows[0].document_id is None:
            fail(f"没有对账单 {statement_id} / no statement {statement_id}")
        content = session.get_one(Document, rows[0].document_id).content
    output.write_bytes(content)
    typer.echo(str(output))


@statement_app.command("confirm")
def statement_confirm(
    statement_id: Annotated[int, typer.Argument(help="Statement id")],
    by: Annotated[str, typer.Option("--by", help="Who signed for the customer 签字人")],
    on: DateText = None,
    copy: Annotated[
        Path | None, typer.Option("--copy", help="Signed copy (PDF or photo)", exists=True)
    ] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Record the customer's signed confirmation. 登记客户确认"""
    day = as_of_date(on, "--on")
    signed = (copy.name, copy.read_bytes()) if copy else None
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            statements.confirm_statement(
                session, actor=cli_actor(), company_id=co.id, statement_id=statement_id,
                confirmed_by=by, confirmed_on=day, signed_copy=signed, note=note,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"对账单 #{statement_id} 已确认 / statement #{statement_id} confirmed by {by}")


@statement_app.command("dispute")
def statement_dispute(
    statement_id: Annotated[int, typer.Argument(help="Statement id")],
    difference: Annotated[
        list[str],
        typer.Option(
            "--difference",
            help="'description|our reference|our amount|their amount' (repeatable)",
        ),
    ],
    on: DateText = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Record the customer's differences, line by line. 登记对账差异"""
    day = as_of_date(on, "--on")
    items = []
    for text in difference:
        parts = [p.strip() for p in text.split("|")] + ["", "", ""]
        ours = option_value(parse_amount, parts[2], "--difference") if parts[2] else 0
        theirs = option_value(parse_amount, parts[3], "--difference") if parts[3] else 0
        items.append(statements.DifferenceInput(parts[0], parts[1], ours, theirs))
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            rows = statements.dispute_statement(
                session, actor=cli_actor(), company_id=co.id, statement_id=statement_id,
                differences=items, raised_on=day,
            )  # fmt: skip
            ids = [r.id for r in rows]
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"差异 differences {', '.join(f'#{i}' for i in ids)} 待处理 / to resolve")


@statement_app.command("resolve")
def statement_resolve(
    difference_id: Annotated[int, typer.Argument(help="Difference id")],
    resolution: Annotated[str, typer.Option("--as", help="adjusted, explained or rejected")],
    note: Annotated[str, typer.Option("--note", help="What was done 处理说明")],
    on: DateText = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Resolve one difference (audited). 处理差异"""
    day = as_of_date(on, "--on")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            statements.resolve_difference(
                session, actor=cli_actor(), company_id=co.id, difference_id=difference_id,
                resolution=resolution, note=note, resolved_on=day,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"差异 #{difference_id} 已处理 / difference #{difference_id} resolved")


@statement_app.command("schedule")
def statement_schedule(
    customer: Annotated[str, typer.Argument(help="Customer code 客户代码")],
    frequency: Annotated[
        str, typer.Option("--frequency", help="monthly, quarterly or settlement")
    ] = "monthly",
    day: Annotated[
        int | None, typer.Option("--day", help="Day of month 1-28 (settlement: its own)")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop sending")] = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """When the daily run sends the customer's statement. 对账单发送计划"""
    actor = cli_actor()
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            found = get_customer(session, company_id=co.id, code=customer)
            row = statements.set_schedule(
                session, actor=actor, customer=found, frequency=frequency, day=day,
                active=not off, starts_on=actor.at.astimezone().date(),
            )  # fmt: skip
            text = f"{customer}: {row.frequency} day {row.day} {'on' if row.active else 'off'}"
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(text)
