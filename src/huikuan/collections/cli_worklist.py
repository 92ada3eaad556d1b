"""``huikuan worklist``: the collector's ranked list for a day, as a table or a workbook.
Mounted by the main command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huikuan.cli import (
    AsOfOption,
    CompanyOption,
    DbOption,
    as_of_date,
    fail,
    optional_amount,
    report_errors,
    transaction,
)
from huikuan.collections.contact_log import OUTCOME_LABELS_ZH
from huikuan.collections.worklist import WorklistRow, worklist, worklist_xlsx
from huikuan.core.company import resolve_company
from huikuan.core.errors import HuikuanError
from huikuan.core.money import format_amount


def _days(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f}"  # type: ignore[arg-type]


def _lines(row: WorklistRow) -> list[str]:
    h = row.habits
    task = f" 任务 task #{row.task_id}" if row.task_id else ""
    last = (
        f"{h.last_contact_at:%Y-%m-%d %H:%M} {OUTCOME_LABELS_ZH.get(h.last_outcome, h.last_outcome)}"
        if h.last_contact_at
        else "-"
    )
    return [
        f"{row.rank:>3}. {row.code} {row.name}  期望 value {format_amount(row.value)}"
        f"  = {format_amount(row.at_stake)} × {float(row.collectability):.2f}"
        f" × {float(row.urgency):.2f}  逾期 {row.days_overdue} 天 days"
        f"  等级 grade {row.grade or '-'}{task}",
        f"     原因 why: {row.why}",
        f"     习惯 habits: 惯常付款日 pay day {h.typical_pay_day or '-'}"
        f"；平均逾期 avg late {_days(h.average_days_late)}"
        f"；最近3张 last 3 {_days(h.recent_days_late)}"
        f"；最近联系 last contact {last}"
        f"；最佳联系人 best {h.best_contact or '-'}"
        f" {f'{h.best_hour:02d}:00' if h.best_hour is not None else ''}",
    ]


def worklist_command(
    collector: Annotated[
        str | None, typer.Option("--collector", help="Collector's name (default: everyone's)")
    ] = None,
    customer_type: Annotated[
        str | None, typer.Option("--type", help="Customer type, e.g. dealer")
    ] = None,
    min_amount: Annotated[
        str | None, typer.Option("--min", help="Smallest amount at stake, yuan")
    ] = None,
    max_amount: Annotated[
        str | None, typer.Option("--max", help="Largest amount at stake, yuan")
    ] = None,
    salesperson: Annotated[str | None, typer.Option("--salesperson")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    output_format: Annotated[
        str, typer.Option("--format", help="table or xlsx (xlsx needs -o)")
    ] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Workbook to write")] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """The collector's worklist: tasks and customers needing attention, ranked by the expected
    value of acting today, with the reasons and payment habits. 催收员工作清单"""
    if output_format not in ("table", "xlsx"):
        fail("--format 只能是 table 或 xlsx / --format must be table or xlsx")
    if output_format == "xlsx" and output is None:
        fail("导出 xlsx 需要 -o 文件 / --format xlsx needs -o FILE")
    day = as_of_date(as_of)
    low = optional_amount(min_amount, "--min")
    high = optional_amount(max_amount, "--max")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            rows = worklist(
                session,
                company_id=co.id,
                collector=collector,
                as_of=day,
                customer_type=customer_type,
                min_amount=low,
                max_amount=high,
                salesperson=salesperson,
                limit=limit,
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    if output_format == "xlsx":
        assert output is not None
        output.write_bytes(worklist_xlsx(rows))
        typer.echo(f"已导出 {len(rows)} 行 / wrote {len(rows)} rows to {output}")
        return
    if not rows:
        typer.echo("今天没有需要处理的客户 / nothing on the worklist today")
        return
    for row in rows:
        for line in _lines(row):
            typer.echo(line)
