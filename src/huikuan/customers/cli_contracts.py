"""``huikuan contract …``: sales contracts and the terms that decide payment days, the dispute
window and late fees. Mounted by the main command."""

from __future__ import annotations

from typing import Annotated

import typer

from huikuan.cli import CompanyOption, DbOption, cli_actor, fail, report_errors, transaction
from huikuan.core.company import resolve_company
from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import HuikuanError
from huikuan.customers.contracts import ContractTerms, list_contracts, read_rate, set_contract
from huikuan.customers.service import get_customer

contract_app: typer.Typer = typer.Typer(help="Sales contracts. 销售合同", no_args_is_help=True)


@contract_app.command("set")
def contract_set(
    customer: Annotated[str, typer.Argument(help="Customer code 客户代码")],
    number: Annotated[str, typer.Argument(help="Contract number 合同号")],
    signed_on: Annotated[str, typer.Option("--signed-on", help="YYYY-MM-DD 签订日")],
    ends_on: Annotated[str, typer.Option("--ends-on", help="YYYY-MM-DD 到期日")] = "",
    terms: Annotated[int, typer.Option("--terms", help="Payment days 账期（天）")] = 30,
    dispute_window: Annotated[
        int, typer.Option("--dispute-window", help="Days to raise a quality dispute 异议期（天）")
    ] = 15,
    daily_rate: Annotated[
        str, typer.Option("--daily-rate", help="Late fee a day, e.g. 0.0005 or 0.05% 日费率")
    ] = "0",
    annual_rate: Annotated[
        str, typer.Option("--annual-rate", help="Late fee a year, e.g. 0.18 or 18% 年费率")
    ] = "0",
    day_count: Annotated[
        str, typer.Option("--day-count", help="actual/365 or actual/360 计息天数")
    ] = "actual/365",
    compound: Annotated[
        bool,
        typer.Option("--compound", help="Fees compound monthly (only if the contract says so)"),
    ] = False,
    grace: Annotated[int, typer.Option("--grace", help="Grace days before fees 宽限天数")] = 0,
    guarantee: Annotated[str, typer.Option("--guarantee", help="Guarantee 担保")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Create a contract or change its terms (audited). 新增或修改合同"""
    try:
        contract_terms = ContractTerms(
            signed_on=parse_date(signed_on),
            ends_on=parse_date(ends_on) if ends_on.strip() else None,
            payment_terms_days=terms,
            dispute_window_days=dispute_window,
            late_fee_rate_per_day=read_rate(daily_rate, "--daily-rate"),
            late_fee_rate_per_year=read_rate(annual_rate, "--annual-rate"),
            late_fee_day_count=day_count,
            late_fee_compound=compound,
            grace_days=grace,
            guarantee=guarantee,
        )
    except DateError as exc:
        fail(str(exc))
    except HuikuanError as exc:
        report_errors(exc)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            found = get_customer(session, company_id=co.id, code=customer)
            set_contract(
                session, actor=cli_actor(), customer=found, number=number, terms=contract_terms
            )
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"合同 {number.strip()} 已保存 / contract {number.strip()} saved")


@contract_app.command("list")
def contract_list(
    customer: Annotated[str, typer.Option("--customer", help="Customer code 客户代码")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Contracts and their late-fee terms. 合同列表"""
    with transaction(db) as session:
        co = resolve_company(session, company)
        found = get_customer(session, company_id=co.id, code=customer) if customer else None
        rows = list_contracts(session, company_id=co.id, customer=found)
        for contract, code in rows:
            rate = (
                f"{contract.late_fee_rate_per_day.normalize():f}/day"
                if contract.late_fee_rate_per_day
                else f"{contract.late_fee_rate_per_year.normalize():f}/year "
                f"{contract.late_fee_day_count}"
                if contract.late_fee_rate_per_year
                else "-"
            )
            compound = " compound" if contract.late_fee_compound else ""
            typer.echo(
                f"{code:<10} {contract.number:<20} {contract.signed_on} → "
                f"{contract.ends_on or '-':<10} terms {contract.payment_terms_days}d "
                f"window {contract.dispute_window_days}d fee {rate}{compound} "
                f"grace {contract.grace_days}d"
            )
    typer.echo(f"共 {len(rows)} 份 / {len(rows)} contracts")
