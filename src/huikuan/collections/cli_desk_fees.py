"""The collector's desk, promises and late fees: ``huikuan promise add|list|check`` and
``huikuan fees charge|list|waive|requests|approve``. Mounted by the main command."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

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
from huikuan.collections import late_fees, promises
from huikuan.collections.plan_fee_queries import WAIVER_STATES, list_waivers, pending_by_charge
from huikuan.core.company import resolve_company
from huikuan.core.dates import parse_date
from huikuan.core.errors import HuikuanError
from huikuan.core.money import format_amount, parse_amount
from huikuan.customers.service import get_customer

promise_app: typer.Typer = typer.Typer(help="Promises to pay. 承诺付款", no_args_is_help=True)
fees_app: typer.Typer = typer.Typer(
    help="Late fees charged and waived. 逾期违约金", no_args_is_help=True
)


def _instalment(text: str) -> tuple[dt.date, int]:
    """'2026-12-20,50000.00' (the amount may carry thousands commas: '2026-12-20,50,000.00')."""
    day, _, amount = text.partition(",")
    if not amount.strip():
        raise typer.BadParameter(
            f"格式：日期,金额 / format: date,amount: '{text}'", param_hint="--instalment"
        )
    return (
        option_value(parse_date, day.strip(), "--instalment"),
        option_value(parse_amount, amount.strip(), "--instalment"),
    )


@promise_app.command("add")
def promise_add(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    invoice: Annotated[list[str], typer.Option("--invoice", help="Invoice number (repeat)")],
    instalment: Annotated[
        list[str],
        typer.Option("--instalment", help="date,amount e.g. 2026-12-20,50000.00 (repeat)"),
    ],
    made_by: Annotated[str, typer.Option("--made-by", help="Who at the customer promised")] = "",
    made_on: Annotated[
        str | None, typer.Option("--made-on", help="When the promise was made (default today)")
    ] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Record a promise to pay one or several instalments towards open invoices."""
    parsed = [_instalment(text) for text in instalment]
    day = as_of_date(made_on, "--made-on")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            target = get_customer(session, company_id=co.id, code=customer)
            made = promises.record_promise(
                session, actor=cli_actor(), company_id=co.id, customer=target,
                invoice_numbers=invoice, instalments=parsed, made_on=day, made_by=made_by,
                note=note,
            )  # fmt: skip
            typer.echo(
                f"已记录承诺 #{made.id} promise recorded: {format_amount(made.amount)}, "
                f"{len(parsed)} 期 instalments, 最后一期 last {made.promised_on}"
            )
    except HuikuanError as exc:
        report_errors(exc)


@promise_app.command("list")
def promise_list(
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Promises, newest first, with their instalments and status."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            customer_id = (
                get_customer(session, company_id=co.id, code=customer).id if customer else None
            )
            found = promises.list_promises(session, company_id=co.id, customer_id=customer_id)
            if not found:
                typer.echo("没有付款承诺 / no promises")
            for promise, code, rows, numbers in found:
                typer.echo(
                    f"#{promise.id} {code} {promise.made_on} {promise.made_by or '-'} "
                    f"{format_amount(promise.amount)} {promise.status} "
                    f"[{', '.join(numbers)}]"
                )
                for row in rows:
                    typer.echo(
                        f"    {row.due_on} {format_amount(row.amount)} "
                        f"已收 paid {format_amount(row.paid)} {row.status}"
                    )
    except HuikuanError as exc:
        report_errors(exc)


@promise_app.command("check")
def promise_check(
    as_of: AsOfOption = None,
    grace: Annotated[
        int | None,
        typer.Option("--grace", help="Grace in working days (default: the company setting)", min=0),
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Judge open promises from the payments received (run before ``huikuan daily``)."""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            result = promises.check_promises(
                session, company_id=co.id, as_of=day, actor=cli_actor(), grace_workdays=grace
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    judged = ", ".join(f"{k} {v}" for k, v in sorted(result.judged.items())) or "-"
    typer.echo(
        f"{day}: 检查 checked {result.checked}, 判定 judged: {judged}; "
        f"升级催收的发票 invoices escalated {result.escalated_invoices}"
    )


@fees_app.command("charge")
def fees_charge(
    as_of: AsOfOption = None, db: DbOption = None, company: CompanyOption = None
) -> None:
    """Charge late fees for the whole months not yet charged, through the last month end on or
    before the date. Safe to run again."""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            result = late_fees.charge_late_fees(
                session, company_id=co.id, as_of=day, actor=cli_actor()
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(
        f"计收至 charged through {result.through}: 发票 invoices {result.invoices}, "
        f"记录 charges {result.charges}, 金额 amount {format_amount(result.amount)}"
    )


@fees_app.command("list")
def fees_list(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """A customer's late fees: each charge, what was waived, and what is still owed."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            target = get_customer(session, company_id=co.id, code=customer)
            found = late_fees.charges(session, company_id=co.id, customer_id=target.id)
            if not found:
                typer.echo("没有违约金记录 / no late fees charged")
                return
            owed = 0
            asked = pending_by_charge(
                session, company_id=co.id, charge_ids=[c.id for c, _ in found]
            )
            for charge, number in found:
                owed += charge.amount - charge.waived
                waived = (
                    f" 减免 waived {format_amount(charge.waived)} ({charge.waiver_reason}; "
                    f"{charge.waiver_approved_by})"
                    if charge.waived
                    else ""
                )
                if charge.id in asked:
                    waived += f" 待审批减免 pending {format_amount(asked[charge.id])}"
                typer.echo(
                    f"#{charge.id} {number} {charge.period_start}…{charge.period_end} "
                    f"{charge.days} 天 days × {format_amount(charge.base)} × {charge.rate} = "
                    f"{format_amount(charge.amount)}{waived}"
                )
            typer.echo(f"未付违约金 owed: {format_amount(owed)}")
    except HuikuanError as exc:
        report_errors(exc)


@fees_app.command("waive")
def fees_waive(
    charge_id: Annotated[int, typer.Argument(help="Charge number (from fees list)")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required)")],
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Amount, e.g. 1500.00 (default: all that may be asked)"),
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Ask to waive all or part of a charge, with a reason; another credit manager approves it
    (huikuan fees approve). 申请减免违约金"""
    fen = option_value(parse_amount, amount, "--amount") if amount is not None else None
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            waiver = late_fees.request_waiver(
                session, actor=cli_actor(), company_id=co.id, charge_id=charge_id, amount=fen,
                reason=reason,
            )  # fmt: skip
            typer.echo(
                f"减免申请 waiver request #{waiver.id}: {format_amount(waiver.amount)} of "
                f"#{charge_id}; 待审批 pending approval"
            )
    except HuikuanError as exc:
        report_errors(exc)


@fees_app.command("requests")
def fees_requests(
    status: Annotated[
        str, typer.Option("--status", help="pending, approved, rejected or all")
    ] = "pending",
    customer: Annotated[str | None, typer.Option("--customer", help="Customer code")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Waiver requests, oldest first: pending ones unless asked. 减免申请"""
    if status not in (*WAIVER_STATES, "all"):
        fail(f"--status 须为 pending、approved、rejected 或 all / unknown status: {status}")
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows, total = list_waivers(
            session, company_id=co.id, status=None if status == "all" else status,
            customer=customer, page_size=100_000,
        )  # fmt: skip
        for r in rows:
            w = r.waiver
            decided = f" {w.decided_by} {w.note}".rstrip() if w.decided_by else ""
            typer.echo(
                f"#{w.id:<5} {r.customer:<10} {r.invoice:<14} charge #{r.charge.id} "
                f"{format_amount(w.amount):>14} {w.status:<8} {w.reason} "
                f"({w.requested_by} {w.requested_at:%Y-%m-%d %H:%M}){decided}"
            )
    typer.echo(f"共 {total} 个 / {total} requests")


@fees_app.command("approve")
def fees_approve(
    waiver_id: Annotated[int, typer.Argument(help="Waiver request number (from fees requests)")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject it instead 驳回")] = False,
    note: Annotated[str, typer.Option("--note")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Approve (or --reject) a waiver request, as yourself: not one you asked for. 审批减免"""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            waiver = late_fees.decide_waiver(
                session, actor=cli_actor(), company_id=co.id, waiver_id=waiver_id,
                approve=not reject, note=note,
            )  # fmt: skip
            typer.echo(
                f"减免申请 waiver request #{waiver.id}: {waiver.status} "
                f"({format_amount(waiver.amount)})"
            )
    except HuikuanError as exc:
        report_errors(exc)
