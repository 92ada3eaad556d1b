"""The collector's desk, promises and late fees: ``huikuan promise add|list|check`` and
``huikuan fees charge|list|waive``. Mounted by the main command."""

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
    option_value,
    report_errors,
    transaction,
)
from huikuan.collections import late_fees, promises
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
            for charge, number in found:
                owed += charge.amount - charge.waived
                waived = (
                    f" 减免 waived {format_amount(charge.waived)} ({charge.waiver_reason}; "
                    f"{charge.waiver_approved_by})"
                    if charge.waived
                    else ""
                )
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
    amount: Annotated[str, typer.Option("--amount", help="Amount waived, e.g. 1500.00")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required)")],
    approver: Annotated[
        str, typer.Option("--approver", help="User name of the credit manager approving")
    ],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Waive all or part of a charge, with a reason and another credit manager's approval."""
    fen = option_value(parse_amount, amount, "--amount")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            charge = late_fees.waive_late_fee(
                session, actor=cli_actor(), company_id=co.id, charge_id=charge_id, amount=fen,
                reason=reason, approved_by=approver,
            )  # fmt: skip
            typer.echo(
                f"已减免 waived {format_amount(fen)} of #{charge.id}; "
                f"剩余 left {format_amount(charge.amount - charge.waived)}"
            )
    except HuikuanError as exc:
        report_errors(exc)
