"""``huikuan credit blacklist``: list and unlist bad customers, check a customer, share the
list with partners as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer

from huikuan.cli import (
    CompanyOption,
    DbOption,
    as_of_date,
    cli_actor,
    report_errors,
    transaction,
)
from huikuan.core.company import resolve_company
from huikuan.core.dates import format_date
from huikuan.core.errors import HuikuanError
from huikuan.core.tabular import read_table
from huikuan.credit import blacklist
from huikuan.credit.blacklist_rules import BlacklistMatch
from huikuan.customers.service import get_customer

blacklist_app: typer.Typer = typer.Typer(
    help="The credit blacklist of bad customers. 不良客户名单", no_args_is_help=True
)

HOW = {"uscc": "统一社会信用代码 uscc", "name": "名称 name", "alias": "别名 alias"}


@blacklist_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Company name as registered")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is listed (required)")],
    uscc: Annotated[str, typer.Option("--uscc", help="Unified social credit code")] = "",
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Another name it uses (repeatable)")
    ] = None,
    evidence: Annotated[str, typer.Option("--evidence", help="Judgment, letters, ...")] = "",
    source: Annotated[str, typer.Option("--source", help="Who reported it")] = "",
    listed_on: Annotated[
        str | None, typer.Option("--listed-on", help="YYYY-MM-DD (default: today)")
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """List a bad customer."""
    day = as_of_date(listed_on, "--listed-on")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            entry = blacklist.add_to_blacklist(
                session, actor=cli_actor(), company_id=co.id, name=name, reason=reason,
                uscc=uscc, aliases=alias or [], evidence=evidence, source=source, listed_on=day,
            )  # fmt: skip
            entry_id = entry.id
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"已列入 listed: {entry_id} {name}")


@blacklist_app.command("remove")
def remove(
    entry_id: Annotated[int, typer.Argument(help="Entry number, as `list` shows it")],
    removed_on: Annotated[
        str | None, typer.Option("--removed-on", help="YYYY-MM-DD (default: today)")
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Take an entry off the list (it is kept as history)."""
    day = as_of_date(removed_on, "--removed-on")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            blacklist.remove_from_blacklist(
                session, actor=cli_actor(), company_id=co.id, entry_id=entry_id, removed_on=day
            )
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"已移出 removed: {entry_id}")


@blacklist_app.command("list")
def list_entries(
    format_: Annotated[
        str, typer.Option("--format", help="table (tab-separated) or csv")
    ] = "table",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """The entries in force."""
    if format_ not in ("table", "csv"):
        raise typer.BadParameter("应为 table 或 csv / use table or csv", param_hint="--format")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            entries = blacklist.active_entries(session, company_id=co.id)
            rows = [
                [str(e.id), e.name, e.aliases, e.uscc, e.reason, e.source, format_date(e.listed_on)]
                for e in entries
            ]
    except HuikuanError as exc:
        report_errors(exc)
    headers = ["id", "name", "aliases", "uscc", "reason", "source", "listed_on"]
    if format_ == "csv":
        out = io.StringIO()
        csv.writer(out).writerows([headers, *rows])
        typer.echo(out.getvalue(), nl=False)
        return
    for row in [headers, *rows]:
        typer.echo("\t".join(cell.replace("\n", " ") for cell in row))


@blacklist_app.command("check")
def check(
    customer_code: Annotated[str, typer.Argument(help="Customer code")],
    uscc: Annotated[str, typer.Option("--uscc", help="The customer's credit code")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Is the customer on the list? Exits with 1 if it matches any entry."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            cust = get_customer(session, company_id=co.id, code=customer_code)
            matches = blacklist.blacklist_matches(
                session, company_id=co.id, customer=cust, uscc=uscc
            )
    except HuikuanError as exc:
        report_errors(exc)
    if not matches:
        typer.echo(f"未在名单中 not on the blacklist: {customer_code}")
        return
    for found in matches:
        typer.echo(_match_line(found))
    raise typer.Exit(1)


def _match_line(found: BlacklistMatch) -> str:
    return f"命中 match: entry {found.key}\t{HOW[found.how]}\t{found.matched}\t({found.candidate})"


@blacklist_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX")],
    source: Annotated[
        str, typer.Option("--source", help="Partner who sent it (replaces the file's column)")
    ] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Add a shared list; every bad row is reported and nothing written; known entries skip."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            result = blacklist.import_blacklist(
                session, actor=cli_actor(), company_id=co.id, table=read_table(file), source=source
            )
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"blacklist: {result.created} created, {result.unchanged} unchanged")


@blacklist_app.command("export")
def export_file(
    file: Annotated[Path, typer.Argument(help="CSV file to write (UTF-8 with BOM)")],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Write the entries in force as CSV, in the columns `import` reads."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            rows = blacklist.export_blacklist(session, company_id=co.id)
    except HuikuanError as exc:
        report_errors(exc)
    count = blacklist.write_blacklist_csv(file, rows)
    typer.echo(f"已导出 {count} 行 / exported {count} rows: {file}")
