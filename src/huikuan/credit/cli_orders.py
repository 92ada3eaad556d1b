"""``huikuan order``: sales orders on credit — create (checked at once), approve or reject,
list, show with every decision and its reasons, change, split, reopen, ship, invoice, close,
cancel. Each command is one unit of work; a refused command prints why and exits 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from huikuan.core.audit import Actor
from huikuan.core.company import resolve_company
from huikuan.core.dates import format_date, parse_date
from huikuan.core.errors import Forbidden, HuikuanError, NotFound
from huikuan.core.money import AmountError, format_amount, parse_amount
from huikuan.credit import orders
from huikuan.credit.approval import parse_quantity
from huikuan.credit.queries import list_orders
from huikuan.customers.models import Customer
from huikuan.customers.service import get_customer
from huikuan.ledger.models import SalesOrder
from huikuan.users.models import User

order_app: typer.Typer = typer.Typer(
    help="Sales orders and their credit approval. 销售订单与赊销审批", no_args_is_help=True
)

NumberArg = Annotated[str, typer.Argument(help="Order number")]
LineOption = Annotated[
    list[str],
    typer.Option(
        "--line", help='"item,quantity,unit price", e.g. "螺纹钢,2.5,1,234.50" (repeatable)'
    ),
]
AmountOption = Annotated[str, typer.Option("--amount", help="Amount, e.g. 1,234.50")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail)")]
APPROVAL_LABELS = {"approved": "已批准", "pending": "待审批", "rejected": "已驳回"}


def _lines(values: list[str]) -> list[orders.OrderLineInput]:
    """Each --line as item, quantity and unit price; the price may keep its thousands commas,
    so the text is split at the first two commas only."""
    parsed = []
    for value in values:
        parts = [p.strip() for p in value.split(",", 2)]
        if len(parts) != 3:
            raise typer.BadParameter(
                f"格式：品名,数量,单价 / format: item,quantity,unit price: '{value}'",
                param_hint="--line",
            )
        try:
            quantity, price = parse_quantity(parts[1]), parse_amount(parts[2])
        except (ValueError, AmountError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--line") from exc
        parsed.append(orders.OrderLineInput(parts[0], quantity, price))
    return parsed


def _approver(session: Session, company_id: int, username: str) -> User:
    """The deciding user must belong to the company and be active; the use case then checks
    their role and whether the customer is their own."""
    user = session.scalar(
        select(User).where(User.company_id == company_id, User.username == username)
    )
    if user is None:
        raise NotFound(f"没有用户 {username} / no user {username}")
    if not user.is_active:
        raise Forbidden(f"用户 {username} 已停用 / user {username} is disabled")
    return user


def _quantity(milli: int) -> str:
    whole, rest = divmod(milli, 1000)
    return f"{whole}.{rest:03d}".rstrip("0") if rest else str(whole)


def _verdict(session: Session, order: SalesOrder) -> None:
    """One line for the order's state, then the reasons it waits, if it does."""
    label = APPROVAL_LABELS.get(order.approval, order.approval)
    typer.echo(f"订单 order {order.number} {format_amount(order.amount)}: {label} {order.approval}")
    if order.approval == "pending":
        for reason in orders.decision_reasons(orders.latest_decision(session, order)):
            typer.echo(f"  - {reason.code.value}: {reason.message}")


@order_app.command("create")
def create(
    number: NumberArg,
    customer: Annotated[str, typer.Option("--customer", help="Customer code")],
    date: Annotated[str, typer.Option("--date", help="Order date YYYY-MM-DD")],
    line: LineOption,
    currency: Annotated[str, typer.Option(help="Currency")] = "CNY",
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Enter an order; it is checked against credit at once (approved, or pending with why)."""
    lines, day = _lines(line), as_of_date(as_of)
    ordered_on = option_value(parse_date, date, "--date")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = orders.create_order(
                session, actor=cli_actor(), company_id=co.id,
                customer=get_customer(session, company_id=co.id, code=customer), number=number,
                ordered_on=ordered_on, lines=lines, as_of=day, currency=currency,
            )  # fmt: skip
            _verdict(session, order)
    except HuikuanError as exc:
        report_errors(exc)


def _decide(
    number: str, approver: str, note: str, db: str | None, company: str | None, approve: bool
) -> None:
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            user = _approver(session, co.id, approver)
            decide = orders.approve_order if approve else orders.reject_order
            decision = decide(
                session, actor=Actor(name=user.username, source="cli", at=cli_actor().at),
                approver_name=user.display_name, approver_role=user.role, company_id=co.id,
                number=number, note=note,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
        return
    label = APPROVAL_LABELS[decision.decision]
    typer.echo(f"订单 order {number}: {label} {decision.decision} by {decision.decided_by}")


@order_app.command("approve")
def approve(
    number: NumberArg,
    approver: Annotated[str, typer.Option("--approver", help="User name of the approver")],
    note: Annotated[
        str, typer.Option("--note", help="Why (required over a hold or the blacklist)")
    ] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Approve an order waiting for credit. Salespeople cannot, nor anyone their own customer's."""
    _decide(number, approver, note, db, company, approve=True)


@order_app.command("reject")
def reject(
    number: NumberArg,
    approver: Annotated[str, typer.Option("--approver", help="User name of the approver")],
    note: Annotated[str, typer.Option("--note", help="Why it is rejected (required)")],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Reject an order waiting for credit, saying why."""
    _decide(number, approver, note, db, company, approve=False)


@order_app.command("list")
def list_command(
    pending: Annotated[bool, typer.Option("--pending", help="Only orders waiting")] = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Orders, newest first: number, customer, date, amount, status, approval."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows, _ = list_orders(
            session, company_id=co.id, only=None, customer_code=None,
            approval="pending" if pending else None, page=1, page_size=500,
        )  # fmt: skip
        for order, customer in rows:
            typer.echo(
                f"{order.number}\t{customer.code}\t{format_date(order.ordered_on)}\t"
                f"{format_amount(order.amount)}\t{order.status}\t{order.approval}"
            )


@order_app.command("show")
def show(number: NumberArg, db: DbOption = None, company: CompanyOption = None) -> None:
    """One order: its lines, what was shipped and invoiced, and every credit decision."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = orders.get_order(session, company_id=co.id, number=number)
            _show_header(session, order)
            _show_lines(session, order)
            _show_decisions(session, order)
    except HuikuanError as exc:
        report_errors(exc)


def _show_header(session: Session, order: SalesOrder) -> None:
    code = session.get_one(Customer, order.customer_id).code
    typer.echo(
        f"订单 order {order.number}\t客户 customer {code}\t{format_date(order.ordered_on)}\t"
        f"{format_amount(order.amount)} {order.currency}"
    )
    typer.echo(
        f"状态 status {order.status}\t审批 approval {order.approval}\t"
        f"已发货 shipped {format_amount(order.shipped_amount)}\t"
        f"已开票 invoiced {format_amount(order.invoiced_amount)}"
    )
    if order.split_from_id is not None:
        typer.echo(f"拆自 split from {session.get_one(SalesOrder, order.split_from_id).number}")


def _show_lines(session: Session, order: SalesOrder) -> None:
    typer.echo("行 lines:")
    for row in orders.order_lines(session, order):
        typer.echo(
            f"  {row.line_no}\t{row.item}\t{_quantity(row.quantity_milli)}\t"
            f"{format_amount(row.unit_price)}\t{format_amount(row.amount)}"
        )


def _show_decisions(session: Session, order: SalesOrder) -> None:
    typer.echo("审批记录 decisions:")
    for row in orders.order_decisions(session, order):
        limit = format_amount(row.limit_amount) if row.limit_amount is not None else "-"
        typer.echo(
            f"  {row.decided_at:%Y-%m-%d %H:%M}\t{row.decision}\tby {row.decided_by}\t"
            f"占用 exposure {format_amount(row.exposure)}\t额度 limit {limit}"
        )
        for reason in orders.decision_reasons(row):
            typer.echo(f"    - {reason.code.value}: {reason.message}")
        if row.note:
            typer.echo(f"    说明 note: {row.note}")


@order_app.command("change")
def change(
    number: NumberArg,
    line: LineOption,
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Replace the order's lines (quantities, prices) and check it again."""
    lines, day = _lines(line), as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = orders.change_order_lines(
                session, actor=cli_actor(), company_id=co.id, number=number, lines=lines, as_of=day
            )
            _verdict(session, order)
    except HuikuanError as exc:
        report_errors(exc)


@order_app.command("split")
def split(
    number: NumberArg,
    new_number: Annotated[str, typer.Argument(help="Number of the new order")],
    line: Annotated[list[int], typer.Option("--line", help="Line number to move (repeatable)")],
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Move lines to a new order; both orders are checked again."""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            new = orders.split_order(
                session, actor=cli_actor(), company_id=co.id, number=number,
                new_number=new_number, line_numbers=line, as_of=day,
            )  # fmt: skip
            _verdict(session, orders.get_order(session, company_id=co.id, number=number))
            _verdict(session, new)
    except HuikuanError as exc:
        report_errors(exc)


@order_app.command("reopen")
def reopen(
    number: NumberArg, as_of: AsOfOption = None, db: DbOption = None, company: CompanyOption = None
) -> None:
    """Open a closed order again; it is checked again."""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = orders.reopen_order(
                session, actor=cli_actor(), company_id=co.id, number=number, as_of=day
            )
            _verdict(session, order)
    except HuikuanError as exc:
        report_errors(exc)


@order_app.command("ship")
def ship(
    number: NumberArg, amount: AmountOption, db: DbOption = None, company: CompanyOption = None
) -> None:
    """Record goods shipped on an approved order (refused while supply is stopped)."""
    fen = option_value(parse_amount, amount, "--amount")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = orders.ship_order(
                session, actor=cli_actor(), company_id=co.id, number=number, amount=fen
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(
        f"订单 order {number}: 已发货 shipped {format_amount(order.shipped_amount)} "
        f"/ {format_amount(order.amount)}"
    )


@order_app.command("invoice")
def invoice(
    number: NumberArg, amount: AmountOption, db: DbOption = None, company: CompanyOption = None
) -> None:
    """Record that part of the order was invoiced (enter the invoice itself in the ledger);
    a fully invoiced order closes."""
    fen = option_value(parse_amount, amount, "--amount")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = orders.invoice_order(
                session, actor=cli_actor(), company_id=co.id, number=number, amount=fen
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(
        f"订单 order {number}: 已开票 invoiced {format_amount(order.invoiced_amount)} "
        f"/ {format_amount(order.amount)}, {order.status}"
    )


@order_app.command("close")
def close(
    number: NumberArg, reason: ReasonOption = "", db: DbOption = None, company: CompanyOption = None
) -> None:
    """Close an open order by hand: what was not invoiced leaves exposure."""
    _finish(number, reason, db, company, orders.close_order)


@order_app.command("cancel")
def cancel(
    number: NumberArg, reason: ReasonOption = "", db: DbOption = None, company: CompanyOption = None
) -> None:
    """Cancel an open order nothing was shipped or invoiced on."""
    _finish(number, reason, db, company, orders.cancel_order)


def _finish(
    number: str, reason: str, db: str | None, company: str | None,
    use_case: Callable[..., SalesOrder],
) -> None:  # fmt: skip
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            order = use_case(
                session, actor=cli_actor(), company_id=co.id, number=number, reason=reason
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"订单 order {number}: {order.status}")
