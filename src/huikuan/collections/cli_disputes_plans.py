"""``huikuan dispute …`` and ``huikuan plan …``: disputes on invoices and payment plans, as
the collector and the credit manager use them. Mounted by the main command."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

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
from huikuan.collections import disputes, plans
from huikuan.collections.dispute_rules import REASON_LABELS_ZH, DisputeReason
from huikuan.core.company import resolve_company
from huikuan.core.dates import parse_date
from huikuan.core.errors import HuikuanError
from huikuan.core.money import decimal_string, format_amount, parse_amount
from huikuan.customers.service import get_customer
from huikuan.ledger.exports import Money, write_table

dispute_app: typer.Typer = typer.Typer(help="Disputed invoices. 争议发票", no_args_is_help=True)
plan_app: typer.Typer = typer.Typer(help="Payment plans. 还款计划", no_args_is_help=True)

DateOption = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today)")]
NoteOption = Annotated[str, typer.Option("--note", help="Note 备注")]


# --- disputes -------------------------------------------------------------------------------


@dispute_app.command("raise")
def dispute_raise(
    invoice: Annotated[str, typer.Argument(help="Invoice number 发票号")],
    amount: Annotated[
        str, typer.Option("--amount", help="Disputed amount (default: all open)")
    ] = "",
    reason: Annotated[
        str, typer.Option("--reason", help="quality, quantity, price, delivery, documents, other")
    ] = "other",
    date: DateOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Record a dispute on an invoice, in full or in part. 登记争议"""
    day = as_of_date(date, "--date")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            fen = (
                option_value(parse_amount, amount, "--amount")
                if amount
                else disputes.disputable_amount(session, company_id=co.id, invoice_number=invoice)
            )
            row = disputes.raise_dispute(
                session, actor=cli_actor(), company_id=co.id, invoice_number=invoice,
                amount=fen, reason=reason, raised_on=day, note=note,
            )  # fmt: skip
            late = ""
            if row.within_window is False:
                late = f"（超过争议期 {row.window_ends_on} / late: the window ended {row.window_ends_on}）"
            typer.echo(
                f"争议 dispute #{row.id}: {invoice} {format_amount(row.amount)} {row.reason}{late}"
            )
    except HuikuanError as exc:
        report_errors(exc)


@dispute_app.command("resolve")
def dispute_resolve(
    dispute_id: Annotated[int, typer.Argument(help="Dispute id 争议编号")],
    resolution: Annotated[str, typer.Option("--as", help="credit_note, correction or rejected")],
    note: NoteOption = "",
    credit_note: Annotated[
        str | None, typer.Option("--credit-note", help="Credit note number (credit_note only)")
    ] = None,
    date: DateOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Resolve a dispute by credit note, correction or rejection. 处理争议"""
    day = as_of_date(date, "--date")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            row = disputes.resolve_dispute(
                session, actor=cli_actor(), company_id=co.id, dispute_id=dispute_id,
                resolution=resolution, note=note, resolved_on=day, credit_note_number=credit_note,
            )  # fmt: skip
            typer.echo(f"争议 dispute #{row.id}: {row.resolution}")
    except HuikuanError as exc:
        report_errors(exc)


@dispute_app.command("list")
def dispute_list(
    open_only: Annotated[bool, typer.Option("--open", help="Open disputes only")] = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Disputes, oldest first. 争议列表"""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows = disputes.list_disputes(session, company_id=co.id, open_only=open_only)
    for r in rows:
        window = {True: "期内", False: "逾期提出 late", None: "-"}[r.within_window]
        reason = f"{REASON_LABELS_ZH.get(DisputeReason(r.reason), r.reason)}/{r.reason}"
        closed = f" {r.resolution} {r.resolved_on}" if r.resolved_on else ""
        typer.echo(
            f"#{r.id:<5} {r.raised_on}  {r.customer:<10} {r.invoice:<14} "
            f"{format_amount(r.amount):>16}  {reason:<16} {window:<10} {r.status}{closed}"
        )
    typer.echo(f"共 {len(rows)} 条 / {len(rows)} disputes")


@dispute_app.command("ageing")
def dispute_ageing(
    as_of: AsOfOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or xlsx")] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Open disputes by customer and days open. 争议账龄"""
    day = as_of_date(as_of)
    if output_format not in ("table", "csv", "xlsx"):
        fail("--format: table, csv 或 xlsx / table, csv or xlsx")
    if output_format == "xlsx" and output is None:
        fail("xlsx 需要 -o 文件 / xlsx needs -o FILE")
    with transaction(db) as session:
        co = resolve_company(session, company)
        report = disputes.dispute_ageing(session, company_id=co.id, as_of=day)
    names = list(report.bucket_names)
    headers = ["客户 customer", "名称 name", "笔数 count", "合计 total", *names]
    body: list[list[Any]] = [
        [r.customer, r.name, r.count, Money(r.total)] + [Money(r.buckets[n]) for n in names]
        for r in report.rows
    ]
    body.append(
        ["", "合计 total", report.count, Money(report.total)]
        + [Money(report.bucket_totals[n]) for n in names]
    )
    if output is not None and output_format != "table":
        target = output.with_suffix(".xlsx") if output_format == "xlsx" else output
        write_table(target, headers, iter(body))
        typer.echo(f"已写入 written: {target}")
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(
            [decimal_string(v) if isinstance(v, Money) else v for v in row] for row in body
        )
        sys.stdout.write(buffer.getvalue())
        return
    typer.echo(f"争议账龄 dispute ageing, as of {day}")
    for row in body:
        cells = [format_amount(v) if isinstance(v, Money) else str(v) for v in row]
        typer.echo(f"{cells[0]:<10} {cells[1]:<24} {cells[2]:>5} " + " ".join(
            f"{c:>16}" for c in cells[3:]
        ))  # fmt: skip


# --- payment plans --------------------------------------------------------------------------


@plan_app.command("agree")
def plan_agree(
    customer: Annotated[str, typer.Argument(help="Customer code 客户代码")],
    invoices: Annotated[list[str], typer.Option("--invoice", help="Invoice number (repeat)")],
    instalments: Annotated[
        int | None, typer.Option("--instalments", help="Number of equal instalments")
    ] = None,
    weekly: Annotated[
        bool, typer.Option("--weekly/--monthly", help="Equal instalments weekly or monthly")
    ] = False,
    first: Annotated[str | None, typer.Option("--first", help="First due date")] = None,
    explicit: Annotated[
        list[str] | None,
        typer.Option("--instalment", help="DATE,AMOUNT (repeat) instead of equal instalments"),
    ] = None,
    interest_bp: Annotated[
        int, typer.Option("--interest-bp", help="Annual simple interest, basis points")
    ] = 0,
    waive_fees: Annotated[bool, typer.Option("--waive-fees", help="Waive late fees")] = False,
    date: DateOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Propose a payment plan for a customer's invoices; it waits for another credit manager's
    approval (huikuan plan approve). 约定还款计划（待审批）"""
    day = as_of_date(date, "--date")
    if explicit:
        if instalments is not None or first is not None:
            fail("--instalment 与 --instalments/--first 不能同时使用 / use one or the other")
        pairs = []
        for text in explicit:
            when, _, amount = text.partition(",")
            pairs.append(
                (
                    option_value(parse_date, when.strip(), "--instalment"),
                    option_value(parse_amount, amount.strip(), "--instalment"),
                )
            )
        schedule = plans.ScheduleRequest(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))
    else:
        if instalments is None or first is None:
            fail("需要 --instalments 和 --first，或 --instalment / give --instalments and --first")
        first_day = option_value(parse_date, first, "--first")
        try:
            schedule = plans.ScheduleRequest.equal(
                first_day, instalments, "weekly" if weekly else "monthly"
            )
        except ValueError as exc:
            fail(str(exc))
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            target = get_customer(session, company_id=co.id, code=customer)
            plan = plans.agree_plan(
                session, actor=cli_actor(), company_id=co.id, customer=target,
                invoice_numbers=invoices, schedule=schedule, annual_interest_bp=interest_bp, waive_late_fees=waive_fees, agreed_on=day,
                note=note,
            )  # fmt: skip
            rows = plans.list_plans(session, company_id=co.id)
            shown = next(r for r in rows if r.id == plan.id)
            typer.echo(
                f"还款计划 plan #{plan.id}: {customer} {format_amount(shown.total)}, "
                f"first due {shown.next_due_on}; 待审批 proposed, waiting for approval"
            )
    except HuikuanError as exc:
        report_errors(exc)


@plan_app.command("list")
def plan_list(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="proposed, active, completed, defaulted, cancelled, rejected"
        ),
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Payment plans. 还款计划列表"""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows = plans.list_plans(session, company_id=co.id, status=status)
    for r in rows:
        typer.echo(
            f"#{r.id:<5} {r.customer:<10} {r.agreed_on} {r.status:<10} "
            f"{format_amount(r.total):>16} paid {format_amount(r.paid):>16} "
            f"next {r.next_due_on or '-'}  approved by {r.approved_by or '-'}"
        )
    typer.echo(f"共 {len(rows)} 个 / {len(rows)} plans")


@plan_app.command("approve")
def plan_approve(
    plan_id: Annotated[int, typer.Argument(help="Plan id 计划编号")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject it instead 驳回")] = False,
    note: NoteOption = "",
    date: DateOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Approve (or --reject) a proposed plan, as yourself: not one you recorded. 审批还款计划"""
    day = as_of_date(date, "--date")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            plan = plans.decide_plan(
                session, actor=cli_actor(), company_id=co.id, plan_id=plan_id,
                approve=not reject, note=note, decided_on=day,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"还款计划 plan #{plan_id}: {plan.status}")


@plan_app.command("check")
def plan_check(
    as_of: AsOfOption = None,
    grace: Annotated[
        int | None,
        typer.Option("--grace", help="Grace in working days (default: the company setting)", min=0),
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Judge the active plans' instalments; a missed one defaults the plan. 检查还款计划"""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            result = plans.check_plans(
                session, company_id=co.id, as_of=day, actor=cli_actor(), grace_workdays=grace
            )
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(
        f"检查 checked {result.checked}: 履行中 kept {result.kept}, 完成 completed "
        f"{result.completed}, 违约 defaulted {result.defaulted} "
        f"(重新催收发票 invoices escalated {result.invoices_escalated})"
    )


@plan_app.command("cancel")
def plan_cancel(
    plan_id: Annotated[int, typer.Argument(help="Plan id 计划编号")],
    reason: Annotated[str, typer.Option("--reason", help="Why 原因")],
    date: DateOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Cancel an active plan; its invoices return to the ladder. 取消还款计划"""
    day = as_of_date(date, "--date")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            plans.cancel_plan(
                session, actor=cli_actor(), company_id=co.id, plan_id=plan_id, reason=reason,
                cancelled_on=day,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"还款计划 plan #{plan_id}: cancelled")
