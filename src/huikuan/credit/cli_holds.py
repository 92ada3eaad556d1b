"""``huikuan credit hold`` and ``huikuan credit release``: put a customer on credit hold or
stop supply (暂停供货), and lift it, each with a reason. Mounted by the credit command."""

from __future__ import annotations

from typing import Annotated

import typer

from huikuan.cli import CompanyOption, DbOption, cli_actor, report_errors, transaction
from huikuan.core.company import resolve_company
from huikuan.core.errors import HuikuanError
from huikuan.credit import holds
from huikuan.credit.models import HoldKind
from huikuan.customers.service import get_customer

CustomerArg = Annotated[str, typer.Argument(help="Customer code")]
KindOption = Annotated[
    HoldKind,
    typer.Option(
        "--kind", help="credit_hold: no new credit sales; supply_stop: nothing ships either"
    ),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (required)")]


def hold_command(
    customer: CustomerArg,
    kind: KindOption,
    reason: ReasonOption,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Put a customer on hold: its orders wait for an approver; a supply stop also stops
    shipping."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            hold = holds.place_on_hold(
                session, actor=cli_actor(), company_id=co.id,
                customer=get_customer(session, company_id=co.id, code=customer),
                kind=kind.value, reason=reason,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"已冻结 placed {hold.kind} on {customer} (#{hold.id}): {hold.reason}")


def release_command(
    customer: CustomerArg,
    kind: KindOption,
    reason: ReasonOption,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Lift a customer's hold of this kind, saying why."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            hold = holds.release_hold(
                session, actor=cli_actor(), company_id=co.id,
                customer=get_customer(session, company_id=co.id, code=customer),
                kind=kind.value, reason=reason,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"已解除 released {hold.kind} on {customer} (#{hold.id}): {hold.release_reason}")
