"""``huikuan import`` and ``huikuan export``: moving customers, invoices and payments in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huikuan.cli import (
    AsOfOption,
    CompanyOption,
    DbOption,
    as_of_date,
    cli_actor,
    report_errors,
    transaction,
)
from huikuan.core.company import resolve_company
from huikuan.core.dates import today
from huikuan.core.errors import HuikuanError
from huikuan.core.money import format_amount
from huikuan.core.tabular import ImportResult, parse_overrides, read_table
from huikuan.importing import ImportOptions, run_import
from huikuan.ledger import exports

import_app = typer.Typer(help="Import from CSV (UTF-8 or GBK) or XLSX. 导入", no_args_is_help=True)
export_app = typer.Typer(
    help="Export to CSV or XLSX (by the file's extension). 导出", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="CSV or XLSX file")]
MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="field=column for columns with other names (repeatable)"),
]
DateFormatOption = Annotated[
    str | None,
    typer.Option("--date-format", help="strptime format for day-first dates, e.g. %d/%m/%Y"),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Check the file and report; write nothing")
]


class DryRun(Exception):
    """Raised inside the transaction to roll back a dry run after counting what it would do."""


def _progress(done: int, total: int) -> None:
    if total >= 2000:
        typer.echo(f"  {done}/{total} ({done * 100 // total}%)", err=True)


def _import(
    kind: str, file: Path, map_: list[str] | None, options_for, db: str | None, company: str | None,
    dry_run: bool,
) -> None:  # fmt: skip
    """Read, validate and write one file in one transaction; a dry run rolls it back."""
    result = ImportResult()
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            result = run_import(
                kind, session, actor=cli_actor(), company=co, table=read_table(file),
                overrides=parse_overrides(map_ or []), options=options_for(),
            )  # fmt: skip
            if dry_run:
                raise DryRun
    except DryRun:
        pass
    except HuikuanError as exc:
        report_errors(exc)
    prefix = "检查通过（未写入）/ dry run, nothing written: " if dry_run else ""
    line = f"{prefix}{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    if kind == "payments":
        line += f"; applied {format_amount(result.applied)}, unapplied {format_amount(result.unapplied)}"
    typer.echo(line)


@import_app.command("customers")
def import_customers_command(
    file: FileArg,
    map_: MapOption = None,
    as_of: AsOfOption = None,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Customers by code: new ones created, changed ones updated; contacts kept as history."""
    day = as_of_date(as_of)
    _import(
        "customers",
        file,
        map_,
        lambda: ImportOptions(as_of=day, progress=_progress),
        db,
        company,
        dry_run,
    )


@import_app.command("invoices")
def import_invoices_command(
    file: FileArg,
    map_: MapOption = None,
    date_format: DateFormatOption = None,
    create_customers: Annotated[
        bool, typer.Option("--create-customers", help="Create unknown customers")
    ] = False,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Invoices by number; an invoice already imported with the same facts is skipped."""

    def options() -> ImportOptions:
        return ImportOptions(
            as_of=today(),
            date_format=date_format,
            create_customers=create_customers,
            progress=_progress,
        )

    _import("invoices", file, map_, options, db, company, dry_run)


@import_app.command("payments")
def import_payments_command(
    file: FileArg,
    map_: MapOption = None,
    date_format: DateFormatOption = None,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Payments, applied to the invoices they name or else oldest first; re-imports skip."""

    def options() -> ImportOptions:
        return ImportOptions(as_of=today(), date_format=date_format, progress=_progress)

    _import("payments", file, map_, options, db, company, dry_run)


def _export(file: Path, db: str | None, company: str | None, make_rows) -> None:
    if file.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter(
            "文件名应以 .csv 或 .xlsx 结尾 / the file must end in .csv or .xlsx"
        )
    with transaction(db) as session:
        co = resolve_company(session, company)
        headers, rows = make_rows(session, co)
        count = exports.write_table(file, headers, rows)
    typer.echo(f"已导出 {count} 行 / exported {count} rows: {file}")


@export_app.command("customers")
def export_customers_command(
    file: FileArg, db: DbOption = None, company: CompanyOption = None
) -> None:
    """All customers, in the columns `huikuan import customers` reads."""
    _export(file, db, company, lambda s, co: exports.customer_rows(s, company_id=co.id))


@export_app.command("invoices")
def export_invoices_command(
    file: FileArg, as_of: AsOfOption = None, db: DbOption = None, company: CompanyOption = None
) -> None:
    """All invoices with open amount and days overdue on --as-of."""
    day = as_of_date(as_of)
    _export(file, db, company, lambda s, co: exports.invoice_rows(s, company_id=co.id, as_of=day))


@export_app.command("payments")
def export_payments_command(
    file: FileArg, db: DbOption = None, company: CompanyOption = None
) -> None:
    """All payments with the invoices they paid and what stayed unapplied."""
    _export(file, db, company, lambda s, co: exports.payment_rows(s, company_id=co.id))
