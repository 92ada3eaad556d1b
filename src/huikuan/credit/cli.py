"""``huikuan credit``: assess, score, limits and policies, groups, reviews (and, mounted from
their own modules, holds and the blacklist)."""

from __future__ import annotations

import json
from pathlib import Path
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
    fail,
    optional_amount,
    optional_date,
    report_errors,
    transaction,
)
from huikuan.core.audit import Actor
from huikuan.core.company import resolve_company
from huikuan.core.errors import HuikuanError, NotFound
from huikuan.core.money import format_amount
from huikuan.core.tabular import parse_overrides, read_table
from huikuan.credit import groups, limits, review, rules, service
from huikuan.credit.imports import import_assessments, parse_flags, parse_market_share
from huikuan.customers.models import Customer
from huikuan.users.models import User
from huikuan.users.rules import Right, may

credit_app: typer.Typer = typer.Typer(help="Credit management. 信用管理", no_args_is_help=True)
policy_app = typer.Typer(help="Credit policy versions. 信用政策", no_args_is_help=True)
group_app = typer.Typer(help="Customer groups and group limits. 集团客户", no_args_is_help=True)
credit_app.add_typer(policy_app, name="policy")
credit_app.add_typer(group_app, name="group")


def _customer(session: Session, company_id: int, code: str) -> Customer:
    found = session.scalar(
        select(Customer).where(Customer.company_id == company_id, Customer.code == code)
    )
    if found is None:
        raise NotFound(f"没有客户 {code} / no customer {code}")
    return found


def _statement(text: str) -> rules.Financials:
    """'2025,资产,负债[,流动资产,流动负债,收入,净利润,经营现金流]' (amounts in yuan)."""
    parts = [p.strip() for p in text.split("|" if "|" in text else ",")]
    if len(parts) < 3 or not parts[0].isdigit():
        raise typer.BadParameter(
            "格式：年度,资产总额,负债总额[,流动资产,流动负债,营业收入,净利润,经营现金流] / "
            "format: year,assets,liabilities[,current assets,current liabilities,revenue,net profit,operating cash flow]",
            param_hint="--statement",
        )
    amounts = [optional_amount(p, "--statement") if p else None for p in parts[1:8]]
    amounts += [None] * (7 - len(amounts))
    if amounts[0] is None or amounts[1] is None:
        raise typer.BadParameter(
            "资产和负债必填 / assets and liabilities are required", param_hint="--statement"
        )
    return rules.Financials(int(parts[0]), *amounts)  # type: ignore[arg-type]


@credit_app.command("assess")
def assess(
    customer: Annotated[str | None, typer.Argument(help="Customer code")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Assessment date (default today)")
    ] = None,
    statement: Annotated[
        list[str] | None,
        typer.Option(
            help="year,assets,liabilities[,current assets,current liabilities,revenue,net profit,operating cash flow] — amounts as 1234567.89; separate with | to use thousands commas"
        ),
    ] = None,
    founded: Annotated[str | None, typer.Option(help="Founding date")] = None,
    employees: Annotated[int | None, typer.Option()] = None,
    revenue_band: Annotated[str, typer.Option(help=" | ".join(rules.REVENUE_BANDS))] = "",
    market_share: Annotated[str, typer.Option(help="Percent, e.g. 2.5%")] = "",
    reputation: Annotated[int | None, typer.Option(help="Trade reputation 1-5")] = None,
    reputation_source: Annotated[str, typer.Option()] = "",
    report_grade: Annotated[str, typer.Option(help="Third-party credit report grade")] = "",
    report_source: Annotated[str, typer.Option()] = "",
    report_date: Annotated[str | None, typer.Option()] = None,
    flag: Annotated[
        list[str] | None,
        typer.Option(
            help="kind:source[:date], e.g. dishonest_debtor:中国执行信息公开网:2026-03-01"
        ),
    ] = None,
    guarantee: Annotated[str, typer.Option()] = "",
    collateral: Annotated[str | None, typer.Option(help="Collateral value")] = None,
    insured_limit: Annotated[str | None, typer.Option(help="Credit insurance limit")] = None,
    insurer: Annotated[str, typer.Option()] = "",
    note: Annotated[str, typer.Option()] = "",
    file: Annotated[
        Path | None, typer.Option("--file", help="Import assessments from CSV/XLSX")
    ] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="field=column")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Record a dated assessment of one customer, or import many from a file."""  # fmt: skip
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            if file is not None:
                result = import_assessments(
                    session, actor=cli_actor(), company_id=co.id, table=read_table(file),
                    overrides=parse_overrides(map_ or []),
                )  # fmt: skip
                typer.echo(
                    f"导入评估 imported assessments: {result.created} new, {result.unchanged} already there"
                )
                return
            if customer is None:
                fail("请给出客户编码或 --file / give a customer code or --file")
            assessed_on = optional_date(date, "--date") or as_of_date(None)
            data = service.AssessmentInput(
                assessed_on=assessed_on, statements=[_statement(s) for s in statement or []],
                founded_on=optional_date(founded, "--founded"), employees=employees, revenue_band=revenue_band,
                market_share_bp=parse_market_share(market_share), reputation_rating=reputation,
                reputation_source=reputation_source, report_grade=report_grade.upper(),
                report_source=report_source, report_date=optional_date(report_date, "--report-date"),
                flags=[f for text in flag or [] for f in parse_flags(text, assessed_on)],
                guarantee=guarantee, collateral_value=optional_amount(collateral, "--collateral"),
                insured_limit=optional_amount(insured_limit, "--insured-limit"), insurer=insurer, note=note,
            )  # fmt: skip
            row = service.record_assessment(
                session, actor=cli_actor(), company_id=co.id,
                customer=_customer(session, co.id, customer), data=data,
            )  # fmt: skip
            typer.echo(f"已记录评估 assessment #{row.id} of {customer} on {assessed_on}")
    except ValueError as exc:
        fail(f"错误 error: {exc}")
    except HuikuanError as exc:
        report_errors(exc)


@credit_app.command("score")
def score(
    customer: Annotated[str | None, typer.Argument(help="Customer code (or --all)")] = None,
    all_customers: Annotated[
        bool, typer.Option("--all", help="Score every active customer")
    ] = False,
    as_of: AsOfOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Score customers, record the grade and the limit it earns, and explain the score."""  # fmt: skip
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            if all_customers:
                chosen = list(session.scalars(select(Customer).where(Customer.company_id == co.id, Customer.status == "active").order_by(Customer.code)))  # fmt: skip
            elif customer:
                chosen = [_customer(session, co.id, customer)]
            else:
                fail("请给出客户编码或 --all / give a customer code or --all")
            scored = service.score_customers(
                session, actor=cli_actor(), company_id=co.id, customers=chosen, as_of=day,
                progress=_progress if len(chosen) > 2000 else None,
            )  # fmt: skip
            if output_format == "json":
                typer.echo(
                    json.dumps([_scored_json(s) for s in scored], ensure_ascii=False, indent=1)
                )
            elif len(scored) == 1:
                _explain(scored[0])
            else:
                for s in scored:
                    typer.echo(
                        f"{s.customer.code}\t{s.card.grade}\t{s.card.score}\t{format_amount(s.limit.amount)}"
                    )
    except HuikuanError as exc:
        report_errors(exc)


def _progress(done: int, total: int) -> None:
    typer.echo(f"  scored {done}/{total}", err=True)


def _scored_json(s: service.Scored) -> dict[str, object]:
    facts = service.explanation(
        s.card, service.Evidence(None, None, rules.Profile(), rules.PaymentRecord())
    )
    return {
        "customer": s.customer.code, "grade": s.card.grade, "score": str(s.card.score),
        "previous_grade": s.previous_grade, "limit": str(s.limit.amount / 100),
        "limit_fen": s.limit.amount, "terms_days": s.limit.terms_days,
        "review_on": s.limit.review_on.isoformat() if s.limit.review_on else None,
        "factors": facts["factors"], "caps": facts["caps"],
    }  # fmt: skip


def _explain(s: service.Scored) -> None:
    card = s.card
    typer.echo(
        f"{s.customer.code} {s.customer.name}: 评分 score {card.score} → 等级 grade {card.grade}"
    )
    for f in card.factors:
        zh, en = rules.FACTOR_LABELS[f.name]
        value = "缺失 missing" if f.missing else service._shown(f.value)
        typer.echo(
            f"  [{f.dimension.value:<10}] {zh} {en}: {value} → {f.points} pts × weight {f.weight}"
        )
    for flag, cap in card.caps:
        typer.echo(f"  {rules.FLAG_LABELS[flag][0]} {flag.value}: 等级上限 grade capped at {cap}")
    typer.echo(
        f"额度 limit {format_amount(s.limit.amount)}, 账期 terms {s.limit.terms_days} days, "
        f"复评 review {s.limit.review_on} ({s.limit.reason})"
    )


@credit_app.command("limit")
def limit(
    customer: Annotated[
        str, typer.Argument(help="Customer code, or 'approve'/'reject' with --request")
    ],
    amount: Annotated[str | None, typer.Option(help="Set the limit by hand (override)")] = None,
    terms: Annotated[int | None, typer.Option(help="Payment terms in days")] = None,
    reason: Annotated[str, typer.Option(help="Why (required for an override)")] = "",
    starts: Annotated[str | None, typer.Option(help="In force from (default today)")] = None,
    expires: Annotated[str | None, typer.Option(help="Temporary: ends after this date")] = None,
    approver: Annotated[
        str | None, typer.Option(help="User name of the approving credit manager")
    ] = None,
    request: Annotated[
        int | None, typer.Option(help="Limit request id (with approve/reject)")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Show a customer's limit, set one by hand (needs a reason and an approver), or approve
    or reject a pending request."""  # fmt: skip
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            if customer in ("approve", "reject"):
                if request is None or approver is None:
                    fail("需要 --request 和 --approver / --request and --approver are needed")
                row = limits.decide_override(
                    session, actor=_approver(session, co.id, approver), company_id=co.id,
                    limit_id=request, approve=customer == "approve", note=reason,
                )  # fmt: skip
                typer.echo(f"申请 request {row.id}: {row.status}")
                return
            target = _customer(session, co.id, customer)
            if amount is not None:
                _override(
                    session, co.id, target, amount, terms, reason, starts, expires, approver, day
                )
            _show_limit(session, co.id, target, day)
    except HuikuanError as exc:
        report_errors(exc)


def _approver(session: Session, company_id: int, username: str | None) -> Actor:
    user = session.scalar(
        select(User).where(User.company_id == company_id, User.username == username)
    )
    if user is None or not may(user.role, Right.MANAGE_CREDIT):
        raise NotFound(
            f"没有可审批信用的用户 {username} / no user {username} who may approve credit"
        )
    return Actor(name=user.username, source="cli", at=cli_actor().at)


def _override(session: Session, company_id: int, target: Customer, amount: str, terms: int | None,
              reason: str, starts: str | None, expires: str | None, approver: str | None, day) -> None:  # fmt: skip
    current = limits.current_limit(session, company_id=company_id, customer_id=target.id, as_of=day)
    fen = optional_amount(amount, "--amount")
    assert fen is not None
    row = limits.request_override(
        session, actor=cli_actor(), company_id=company_id, customer=target,
        request=limits.OverrideRequest(
            amount=fen, terms_days=terms if terms is not None else (current.terms_days if current else 30),
            reason=reason, valid_from=optional_date(starts, "--starts") or day, expires_on=optional_date(expires, "--expires"),
        ),
    )  # fmt: skip
    if approver is None:
        typer.echo(f"已提交额度申请 #{row.id}，待审批 / limit request #{row.id} waits for approval")
        return
    limits.decide_override(
        session, actor=_approver(session, company_id, approver), company_id=company_id,
        limit_id=row.id, approve=True,
    )  # fmt: skip
    typer.echo(f"额度已调整 limit set by hand, approved by {approver}")


def _show_limit(session: Session, company_id: int, target: Customer, day) -> None:
    from huikuan.credit.orders import order_exposure

    row = limits.current_limit(session, company_id=company_id, customer_id=target.id, as_of=day)
    exposure = order_exposure(session, company_id=company_id, customer_ids=[target.id]).get(
        target.id, 0
    )
    if row is None:
        typer.echo(
            f"{target.code}: 尚无信用额度 no credit limit; 占用 exposure {format_amount(exposure)}"
        )
        return
    until = f" 至 until {row.expires_on}" if row.expires_on else ""
    typer.echo(
        f"{target.code}: 额度 limit {format_amount(row.amount)} ({row.source}{until}), 账期 terms {row.terms_days} days, "
        f"占用 exposure {format_amount(exposure)}, 可用 available {format_amount(row.amount - exposure)}"
    )  # fmt: skip


@policy_app.command("show")
def policy_show(db: DbOption = None, company: CompanyOption = None) -> None:
    """Print the policy in force as JSON (edit it and save with ``policy set``)."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        row, policy = limits.current_policy(session, company_id=co.id)
        version = row.version if row else "0 (defaults)"
        typer.echo(f"// version {version}", err=True)
        typer.echo(json.dumps(rules.policy_to_json(policy), ensure_ascii=False, indent=1))


@policy_app.command("set")
def policy_set(
    file: Path,
    name: Annotated[str, typer.Option(help="What changed")] = "",
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Save a policy file (JSON) as the next version; what it leaves out keeps its default."""
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"无法读取政策文件 cannot read the policy file: {exc}")
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            row = limits.save_policy(
                session, actor=cli_actor(), company_id=co.id, body=body, name=name
            )
            typer.echo(f"已保存信用政策第 {row.version} 版 / saved policy version {row.version}")
    except HuikuanError as exc:
        report_errors(exc)


@group_app.command("set")
def group_set(
    code: str,
    name: Annotated[str, typer.Option()],
    limit_amount: Annotated[str | None, typer.Option("--limit", help="Group limit")] = None,
    member: Annotated[list[str] | None, typer.Option(help="Customer code (repeatable)")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Create or change a customer group, its shared limit and members."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            group = groups.set_group(
                session, actor=cli_actor(), company_id=co.id, code=code, name=name,
                limit_amount=optional_amount(limit_amount, "--limit"),
                members=[_customer(session, co.id, m) for m in member or []],
            )  # fmt: skip
            typer.echo(f"集团 group {group.code}: {len(member or [])} members added")
    except HuikuanError as exc:
        report_errors(exc)


@credit_app.command("review")
def review_command(
    as_of: AsOfOption = None,
    rescore: Annotated[
        bool, typer.Option("--rescore", help="Score every customer listed again")
    ] = False,
    output_format: Annotated[str, typer.Option("--format", help="table, json or xlsx")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Customers due for a credit review, and why; with --rescore, score them all again."""  # fmt: skip
    day = as_of_date(as_of)
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            items = review.due_for_review(
                session, company_id=co.id, as_of=day, progress=_progress_review
            )
            rows = [_review_row(i) for i in items]
            if rescore and items:
                scored = review.rescore(session, actor=cli_actor(), company_id=co.id, items=items, as_of=day, progress=_progress)  # fmt: skip
                new = {s.customer.code: s for s in scored}
                for row in rows:
                    again = new[str(row["customer"])]
                    row["new_grade"], row["new_limit"] = again.card.grade, again.limit.amount
            _write_review(rows, output_format, output, day)
    except HuikuanError as exc:
        report_errors(exc)


def _progress_review(done: int, total: int) -> None:
    if total > 2000:
        typer.echo(f"  checked {done}/{total}", err=True)


def _review_row(item: review.ReviewItem) -> dict[str, object]:
    return {
        "customer": item.customer.code, "name": item.customer.name,
        "reasons": list(item.reasons), "grade": item.grade, "grade_now": item.grade_now,
        "limit": item.limit, "exposure": item.exposure,
        "review_on": item.review_on.isoformat() if item.review_on else None,
        "oldest_overdue_days": item.oldest_overdue_days,
    }  # fmt: skip


def _write_review(
    rows: list[dict[str, object]], output_format: str, output: Path | None, day
) -> None:
    if output_format == "json":
        text = json.dumps(
            {"as_of": day.isoformat(), "customers": rows}, ensure_ascii=False, indent=1
        )
        output.write_text(text, encoding="utf-8") if output else typer.echo(text)
    elif output_format == "xlsx":
        from huikuan.credit.exports import review_workbook

        target = output or Path(f"credit-review-{day.isoformat()}.xlsx")
        review_workbook(rows, target)
        typer.echo(f"已写入 written {target} ({len(rows)} customers)")
    else:
        typer.echo(f"{day} 需复评客户 customers due for review: {len(rows)}")
        for r in rows:
            typer.echo(_review_line(r))


def _review_line(r: dict) -> str:
    reasons = "、".join(review.REASON_LABELS[c][0] for c in r["reasons"])
    limit_text = format_amount(r["limit"]) if r["limit"] is not None else "—"
    return (
        f"{r['customer']}\t{r['name']}\t{r['grade'] or '—'}→{r['grade_now']}\t{limit_text}"
        f"\t{format_amount(r['exposure'])}\t{reasons}"
    )
