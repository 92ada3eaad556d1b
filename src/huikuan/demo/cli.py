"""``huikuan demo``: build the demo company."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.audit import record_change
from huikuan.core.company import create_company
from huikuan.core.dates import DateError, parse_date, today
from huikuan.core.db import make_engine, session_factory, unit_of_work
from huikuan.core.migrate import upgrade_to_head
from huikuan.core.models import Company
from huikuan.core.settings import Settings
from huikuan.customers.models import Customer
from huikuan.demo import names
from huikuan.demo.collections import demo_collections
from huikuan.demo.credit import demo_credit
from huikuan.demo.generator import DemoSpec, build_demo
from huikuan.demo.reconciliation import demo_reconciliation
from huikuan.users.models import User
from huikuan.users.rules import Role
from huikuan.users.service import create_user

DEMO_COMPANY_NAME = "示例贸易有限公司"


def demo(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers")] = 300,
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of history")] = 2,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same company")
    ] = 7,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day of the history (default today)")
    ] = None,
    invoices_per_year: Annotated[
        float, typer.Option(min=0.5, help="Average invoices per customer per year")
    ] = 10.0,
    company: Annotated[str, typer.Option("--company", help="Company code")] = "demo",
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the company already has customers")
    ] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL")] = None,
) -> None:
    """Build a realistic demo company: the five customer types, good and slow payers, a few bad
    debtors, partial payments, returns and changing contacts. 生成演示数据"""
    from huikuan.cli import cli_actor  # the CLI module registers this command: import late

    try:
        day = parse_date(as_of) if as_of else today()
    except DateError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from exc
    url = Settings.from_env(database_url=db).database_url
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(Company.id).where(Company.code == company)).first()
            if row is None:
                with Session(bind=conn) as session:
                    company_id = create_company(session, code=company, name=DEMO_COMPANY_NAME).id
            else:
                company_id = row[0]
            existing = conn.execute(
                select(func.count()).select_from(Customer).where(Customer.company_id == company_id)
            ).scalar_one()
            if existing:
                if if_empty:
                    typer.echo(
                        f"公司 {company} 已有数据，跳过演示数据 / company {company} already has data: demo skipped"
                    )
                    return
                typer.echo(
                    f"公司 {company} 已有 {existing} 个客户；请用新数据库或 --company 指定别的公司 / "
                    f"company {company} already has {existing} customers: use a fresh database or another --company",
                    err=True,
                )
                raise typer.Exit(1)
            spec = DemoSpec(
                as_of=day,
                customers=customers,
                years=years,
                seed=seed,
                invoices_per_customer_year=invoices_per_year,
            )
            summary = build_demo(conn, company_id=company_id, spec=spec, progress=_progress)
            with Session(bind=conn) as session:
                record_change(
                    session, actor=cli_actor(), company_id=company_id, entity="import", entity_id="demo",
                    action="demo", after={"customers": summary.customers, "invoices": summary.invoices,
                                          "payments": summary.payments, "seed": seed, "as_of": day},
                )  # fmt: skip
                _demo_users(session, company_id)
                credit = demo_credit(
                    session, actor=cli_actor(), company_id=company_id, as_of=day, seed=seed
                )
                session.flush()
        history = demo_collections(
            session_factory(engine), actor=cli_actor(), company_id=company_id, as_of=day, seed=seed
        )
        with unit_of_work(session_factory(engine)) as session:
            reconciled = demo_reconciliation(
                session, actor=cli_actor(), company_id=company_id, as_of=day, seed=seed
            )
    finally:
        engine.dispose()
    typer.echo(
        f"演示用户 demo users: {', '.join(u for u, _, _ in DEMO_USERS)}; password {DEMO_PASSWORD}"
    )
    typer.echo(
        f"演示公司 {company} 已生成 / demo company built: {summary.customers} customers, "
        f"{summary.invoices} invoices, {summary.payments} payments, {summary.credit_notes} credit notes "
        f"(as of {day.isoformat()}); {credit['assessed']} assessed and scored, {credit['orders']} open orders, "
        f"{credit['held']} customers on hold; collections: {history['runs']} daily runs, "
        f"{history['messages']} messages on the timelines, "
        f"{history.get('desk_scenes', 0)} customers called or visited by the collector; "
        f"reconciliation: {reconciled['statements']} statements, {reconciled['bank_lines']} bank "
        f"lines ({reconciled['auto_applied']} applied, {reconciled['waiting']} to confirm)"
    )


def _progress(done: int, total: int) -> None:
    typer.echo(f"  {done}/{total} customers ({done * 100 // total}%)", err=True)


DEMO_PASSWORD = "huikuan2026"
# One user per role. Display names match the demo's salespeople and collectors, so the sales
# and collector users see their own customers.
DEMO_USERS = (
    ("admin", "系统管理员", Role.ADMIN),
    ("credit", "信用经理", Role.CREDIT_MANAGER),
    ("finance", "财务", Role.FINANCE),
    ("collector", names.COLLECTORS[0], Role.COLLECTOR),
    ("collector2", names.COLLECTORS[1], Role.COLLECTOR),
    ("sales", names.SALESPEOPLE[0], Role.SALES),
    ("legal", "法务", Role.LEGAL),
    ("viewer", "只读用户", Role.VIEWER),
)


def _demo_users(session: Session, company_id: int) -> None:
    from huikuan.cli import cli_actor

    for username, display_name, role in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session, actor=cli_actor(), company_id=company_id, username=username,
                display_name=display_name, role=role.value, password=DEMO_PASSWORD,
            )  # fmt: skip
