"""``huikuan bank …``: bank statements imported, matched and applied; the queue of lines that
wait for a clerk; undoing an application. Mounted by the main command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from huikuan.cli import (
    AsOfOption,
    CompanyOption,
    DbOption,
    as_of_date,
    cli_actor,
    fail,
    option_value,
    report_errors,
    transaction,
)
from huikuan.core.company import resolve_company
from huikuan.core.errors import HuikuanError, NotFound
from huikuan.core.money import format_amount, parse_amount
from huikuan.core.tabular import parse_overrides
from huikuan.customers.service import get_customer
from huikuan.ledger.models import Invoice
from huikuan.reconciliation.bank_import import import_bank_statement
from huikuan.reconciliation.bank_queries import STATUS_FILTERS, bank_lines
from huikuan.reconciliation.matching import MatchRun, apply_line, match_waiting, undo_line

bank_app: typer.Typer = typer.Typer(
    help="Bank statements and cash application. 银行流水与收款核销", no_args_is_help=True
)


def _progress(done: int, total: int) -> None:
    if total >= 2000:
        typer.echo(f"  {done}/{total} ({done * 100 // total}%)", err=True)


def _say_run(run: MatchRun, *, dry_run: bool) -> None:
    prefix = "试算（未写入）/ dry run, nothing written: " if dry_run else ""
    typer.echo(
        f"{prefix}匹配 matched {run.lines} 笔 lines: 自动核销 applied {run.auto} "
        f"({format_amount(run.applied_amount)}), 待确认 to confirm {run.suggested}, "
        f"无法识别 unknown {run.unknown}"
    )


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, MT940 or camt.053 file", exists=True)],
    account: Annotated[
        str | None, typer.Option("--account", help="Our account number, if the file has none")
    ] = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="field=column, e.g. credit=收入金额")
    ] = None,
    match: Annotated[
        bool, typer.Option("--match/--no-match", help="Match the new lines at once")
    ] = True,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Import a bank statement; lines already imported are left alone. 导入银行流水"""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            result = import_bank_statement(
                session, actor=cli_actor(), company_id=co.id, data=file.read_bytes(),
                filename=file.name, mapping=parse_overrides(map_ or []) or None,
                account=account, progress=_progress,
            )  # fmt: skip
            run = (
                match_waiting(
                    session,
                    actor=cli_actor(),
                    company_id=co.id,
                    line_ids=result.added_ids,
                    progress=_progress,
                )
                if match and result.added_ids
                else None
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(
        f"{file.name}（{result.format}，账户 account {result.account}）：{result.lines} 笔 lines, "
        f"新增 added {result.added}, 已导入过 already imported {result.known}; "
        f"收入 money in {format_amount(result.money_in)}"
    )
    if run is not None:
        _say_run(run, dry_run=False)


@bank_app.command("match")
def bank_match(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be done; write nothing")
    ] = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Match every waiting line again (after new invoices or aliases). 重新匹配待处理流水"""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            run = match_waiting(
                session, actor=cli_actor(), company_id=co.id, dry_run=dry_run, progress=_progress
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    _say_run(run, dry_run=dry_run)


@bank_app.command("queue")
def bank_queue(
    status: Annotated[
        str, typer.Option("--status", help=f"one of {', '.join(STATUS_FILTERS)}")
    ] = "waiting",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Lines waiting for a clerk, with their best candidates and why. 待确认流水"""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            page = bank_lines(session, company_id=co.id, status=status, limit=limit)
    except HuikuanError as exc:
        report_errors(exc)
        return
    for row in page.rows:
        typer.echo(
            f"#{row.id:<6} {row.booked_on} {format_amount(row.amount):>16} {row.status:<9} "
            f"{row.payer_name or '-'} | {row.remittance or '-'}"
            + (f" → {row.customer_code} ({row.decided_by})" if row.customer_code else "")
        )
        for candidate in row.candidates:
            invoices = ", ".join(f"{n} {format_amount(a)}" for n, a in candidate.allocations)
            why = "；".join(r.zh for r in candidate.reasons)
            typer.echo(
                f"    {candidate.rank}. {candidate.customer_code} {candidate.customer_name} "
                f"{candidate.confidence:.0%}: {invoices or '余额挂账 unapplied'} ({why})"
            )
    typer.echo(f"共 {page.total} 笔 / {page.total} lines, {format_amount(page.amount)}")


@bank_app.command("apply")
def bank_apply(
    line: Annotated[int, typer.Argument(help="Bank line id 流水号")],
    customer: Annotated[str, typer.Option("--customer", help="Customer code 客户代码")],
    invoice: Annotated[
        list[str] | None,
        typer.Option("--invoice", help="NUMBER=AMOUNT, repeatable; none: all left unapplied"),
    ] = None,
    learn: Annotated[
        bool, typer.Option("--learn/--no-learn", help="Remember the payer name for this customer")
    ] = True,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Apply a waiting line to a customer's invoices; the rest stays unapplied. 确认核销"""
    pairs = []
    for text in invoice or []:
        number, sep, amount = text.partition("=")
        if not sep:
            fail(f"--invoice 需要 发票号=金额：{text} / --invoice needs NUMBER=AMOUNT: {text}")
        pairs.append((number.strip(), option_value(parse_amount, amount, "--invoice")))
    actor = cli_actor()
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            found = get_customer(session, company_id=co.id, code=customer)
            ids = dict(
                session.execute(
                    select(Invoice.number, Invoice.id).where(
                        Invoice.company_id == co.id,
                        Invoice.number.in_([n for n, _ in pairs]),
                    )
                ).all()
            )
            missing = [n for n, _ in pairs if n not in ids]
            if missing:
                raise NotFound(f"没有发票 {', '.join(missing)} / no invoice {', '.join(missing)}")
            applied = apply_line(
                session, actor=actor, company_id=co.id, line_id=line, customer_id=found.id,
                allocations=[(ids[n], a) for n, a in pairs], by=actor.name, learn_payer=learn,
            )  # fmt: skip
            received, payment = applied.amount, applied.payment_id
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(
        f"流水 {line} 已核销为收款 #{payment}（{format_amount(received)}）/ line {line} applied as "
        f"payment #{payment}"
    )


@bank_app.command("undo")
def bank_undo(
    line: Annotated[int, typer.Argument(help="Bank line id 流水号")],
    reason: Annotated[str, typer.Option("--reason", help="Why 原因")],
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Undo an application: the payment is reversed and the line waits again. 撤销核销"""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            undone = undo_line(
                session, actor=cli_actor(), company_id=co.id, line_id=line, on=day, reason=reason
            )
            status = undone.status
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"流水 {line} 已撤销核销，状态 {status} / line {line} undone, now {status}")
