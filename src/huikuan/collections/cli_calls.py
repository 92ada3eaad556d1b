"""Calls and visits from the command line: ``huikuan call …`` (log a contact, the customer's
contact history, the customer card, the follow-ups and closing one) and ``huikuan excuse …`` (the call
assistant's catalogue). Mounted by the main command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
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
from huikuan.collections import contact_log, excuses
from huikuan.collections.cli import read_text_file, report_problems
from huikuan.core import calendar as company_calendar
from huikuan.core.company import resolve_company
from huikuan.core.dates import parse_date
from huikuan.core.errors import HuikuanError, InvalidInput
from huikuan.customers.service import get_customer

call_app: typer.Typer = typer.Typer(
    help="Calls and visits: log contacts, customer card, follow-ups. 电话与拜访",
    no_args_is_help=True,
)
excuse_app: typer.Typer = typer.Typer(
    help="The call assistant's catalogue of common excuses. 常见理由话术库", no_args_is_help=True
)


def _moment(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now().replace(second=0, microsecond=0)
    try:
        return dt.datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        return dt.datetime.combine(option_value(parse_date, value, "--at"), dt.time(0, 0))


def _facts(pairs: list[str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--fact 须写成 名称=值：{pair} / --fact must be name=value: {pair}")
        facts[name.strip()] = value.strip()
    return facts


@call_app.command("log")
def log_command(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    channel: Annotated[str, typer.Option("--channel", help="phone, visit, wechat, …")] = "phone",
    outcome: Annotated[
        str, typer.Option("--outcome", help="reached, no_answer, refused, promised, …")
    ] = "reached",
    reached: Annotated[str, typer.Option("--reached", help="Who answered")] = "",
    contact: Annotated[int | None, typer.Option("--contact", help="Contact id")] = None,
    excuse: Annotated[str, typer.Option("--excuse", help="Excuse code (excuse list)")] = "",
    fact: Annotated[list[str] | None, typer.Option("--fact", help="name=value, repeatable")] = None,
    note: Annotated[str, typer.Option("--note", help="What was said")] = "",
    next_step: Annotated[str | None, typer.Option("--next", help="Next step date")] = None,
    task: Annotated[
        int | None, typer.Option("--task", help="The call/visit task it completes")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When (YYYY-MM-DD HH:MM, default now)")
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Log one call or visit; the excuse's facts are checked and its follow-ups opened."""
    when = _moment(at)
    next_on = option_value(parse_date, next_step, "--next") if next_step else None
    facts = _facts(fact or [])
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            cust = get_customer(session, company_id=co.id, code=customer)
            logged = contact_log.log_contact(
                session,
                actor=cli_actor(),
                company_id=co.id,
                customer=cust,
                contacted_at=when,
                channel=channel,
                outcome=outcome,
                reached=reached,
                contact_id=contact,
                excuse=excuse,
                facts=facts,
                note=note,
                next_step_on=next_on,
                action_id=task,
                calendar=company_calendar.load_calendar(session, company_id=co.id),
            )
            log_id = logged.log.id
            started = [(f.kind, f.due_on, f.status, f.result) for f in logged.follow_ups]
    except InvalidInput as exc:
        typer.echo("错误 error: 未记录 / nothing logged", err=True)
        for problem in exc.message.split("；"):
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from exc
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"已记录 logged #{log_id}")
    for kind, due_on, status, result in started:
        label = excuses.FOLLOW_UP_LABELS_ZH.get(kind, kind)
        extra = f" — {result}" if result else ""
        typer.echo(f"  后续 follow-up {kind}（{label}）{due_on} {status}{extra}")


@call_app.command("list")
def list_command(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    limit: Annotated[int, typer.Option("--limit")] = 50,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """The customer's contacts, newest first."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            cust = get_customer(session, company_id=co.id, code=customer)
            rows = contact_log.contact_history(session, customer=cust, limit=limit)
    except HuikuanError as exc:
        report_errors(exc)
        return
    if not rows:
        typer.echo("没有联系记录 / no contacts logged")
    for r in rows:
        typer.echo(_entry_line(r))


def _entry_line(r: contact_log.ContactEntry) -> str:
    channel = contact_log.CHANNEL_LABELS_ZH.get(r.channel, r.channel)
    outcome = contact_log.OUTCOME_LABELS_ZH.get(r.outcome, r.outcome)
    parts = [f"{r.contacted_at:%Y-%m-%d %H:%M}", channel, r.reached or "-", outcome]
    if r.excuse:
        facts = " ".join(f"{k}={v}" for k, v in r.facts.items())
        parts.append(f"理由 {r.excuse}{f' [{facts}]' if facts else ''}")
    if r.next_step_on:
        parts.append(f"下一步 next {r.next_step_on}")
    if r.note:
        parts.append(r.note)
    parts.append(f"（{r.logged_by}）")
    return "  ".join(parts)


@call_app.command("card")
def card_command(
    customer: Annotated[str, typer.Argument(help="Customer code")],
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Who to call: the original contact, the decision maker, the last contacts."""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            cust = get_customer(session, company_id=co.id, code=customer)
            card = contact_log.customer_card(session, customer=cust, as_of=day)
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"{card.customer_code} {card.customer_name}")
    original = card.original_contact
    if original is None:
        typer.echo("最初联系人 original contact: -")
    else:
        phone = original.phone or f"（已不在职/已更换，原电话 {original.last_known_phone}）"
        typer.echo(
            f"最初联系人 original contact: {original.name} {original.role} {phone}"
            f"（自 since {original.since}）"
        )
    dm = card.decision_maker
    typer.echo(
        f"决策人 decision maker: {dm.name} {dm.role} {dm.phone} {dm.email}"
        if dm
        else "决策人 decision maker: -"
    )
    for person in card.current_contacts:
        typer.echo(f"  联系人 contact: {person.name} {person.role} {person.phone} {person.email}")
    last = contact_log.OUTCOME_LABELS_ZH.get(card.last_outcome, card.last_outcome or "-")
    typer.echo(f"最近结果 last outcome: {last}；下一步 next step: {card.next_step_on or '-'}")
    for entry in card.last_contacts:
        typer.echo(f"  {_entry_line(entry)}")
    for f in card.open_follow_ups:
        typer.echo(f"  待办 follow-up #{f.id} {f.kind} {f.due_on} {f.detail}")


@call_app.command("follow-ups")
def follow_ups_command(
    check: Annotated[bool, typer.Option("--check", help="Verify claimed payments now due")] = False,
    customer: Annotated[str | None, typer.Option("--customer")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Done ones too")] = False,
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Open follow-ups by due date; --check first verifies the claimed payments due."""
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            checked = (
                contact_log.check_follow_ups(
                    session, company_id=co.id, as_of=day, actor=cli_actor()
                )
                if check
                else []
            )
            cust = get_customer(session, company_id=co.id, code=customer) if customer else None
            rows = contact_log.list_follow_ups(
                session, company_id=co.id, customer=cust, status=None if all_ else "open"
            )
    except HuikuanError as exc:
        report_errors(exc)
        return
    for c in checked:
        mark = "✓" if c.held else "⚠"
        typer.echo(f"{mark} {c.customer_code} #{c.follow_up_id}: {c.result}")
    if not rows:
        typer.echo("没有待办的后续事项 / no follow-ups open")
    for f in rows:
        label = excuses.FOLLOW_UP_LABELS_ZH.get(f.kind, f.kind)
        doc = f" 文件 document #{f.document_id}" if f.document_id else ""
        result = f" — {f.result}" if f.result else ""
        typer.echo(
            f"#{f.id} {f.due_on} {f.customer_code} {f.kind}（{label}）{f.status}"
            f" {f.detail}{doc}{result}"
        )


@call_app.command("close")
def close_command(
    follow_up: Annotated[int, typer.Argument(help="Follow-up id (call follow-ups)", min=1)],
    note: Annotated[str, typer.Option("--note", help="What was done, or why it is not needed")],
    outcome: Annotated[str, typer.Option("--as", help="done or not_needed")] = "done",
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today)")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Close an open follow-up by hand, as done or not needed, with a note."""
    day = as_of_date(date, "--date")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            row = contact_log.close_follow_up(
                session, actor=cli_actor(), company_id=co.id, follow_up_id=follow_up,
                outcome=outcome, note=note, closed_on=day,
            )  # fmt: skip
            closed = f"后续事项 follow-up #{row.id} {row.kind}: {row.status} — {row.result}"
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(closed)


# --- huikuan excuse --------------------------------------------------------------------------


@excuse_app.command("list")
def excuse_list_command(db: DbOption = None, company: CompanyOption = None) -> None:
    """The catalogue, in the order the collector sees it."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        rows = excuses.list_excuses(session, company_id=co.id)
    if not rows:
        typer.echo("话术库为空（huikuan excuse import FILE）/ the catalogue is empty")
    for e in rows:
        off = "（停用 inactive）" if not e.active else ""
        follow = "、".join(e.follow_ups) or "-"
        typer.echo(f"{e.code:<22} {e.title}{off}  → {follow}")


@excuse_app.command("show")
def excuse_show_command(code: str, db: DbOption = None, company: CompanyOption = None) -> None:
    """One excuse: what it means, what to say, the facts to note, the follow-ups."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            e = excuses.get_excuse(session, company_id=co.id, code=code)
    except HuikuanError as exc:
        report_errors(exc)
        return
    typer.echo(f"{e.code}  {e.title}\n")
    typer.echo(f"通常意味着 what it usually means:\n  {e.meaning}\n")
    typer.echo(f"建议回答 suggested reply:\n  {e.reply}\n")
    typer.echo("要记下的事实 facts to capture:")
    for f in e.facts:
        optional = "（可选 optional）" if f.optional else ""
        typer.echo(f"  --fact {f.name}=…  {f.label} [{f.type}]{optional}")
    if not e.facts:
        typer.echo("  -")
    follow = "、".join(f"{k}（{excuses.FOLLOW_UP_LABELS_ZH[k]}）" for k in e.follow_ups)
    typer.echo(f"\n自动后续 follow-ups: {follow or '-'}")


@excuse_app.command("import")
def excuse_import_command(
    file: Annotated[Path, typer.Argument(help="YAML file", exists=True, dir_okay=False)],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Create or update excuses from a file; all or nothing."""
    text = read_text_file(file)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            counts = excuses.import_excuses(session, actor=cli_actor(), company_id=co.id, text=text)
    except HuikuanError as exc:
        report_problems(exc)
        return
    typer.echo(
        f"新建 created {counts['created']}，更新 updated {counts['updated']}，"
        f"未变 unchanged {counts['unchanged']}"
    )


@excuse_app.command("install")
def excuse_install_command(db: DbOption = None, company: CompanyOption = None) -> None:
    """Add the shipped excuses the company does not have yet (its own edits are kept)."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        added = excuses.install_default_excuses(session, actor=cli_actor(), company_id=co.id)
    typer.echo(f"已添加 added {added}")


@excuse_app.command("export")
def excuse_export_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default: stdout)")
    ] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Write the catalogue as YAML that imports back to the same thing."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        text = excuses.export_excuses(session, company_id=co.id)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"已写入 written {output}", err=True)
