"""``huikuan user`` and ``huikuan audit``: accounts, API tokens and the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from huikuan.cli import CompanyOption, DbOption, cli_actor, fail, report_errors, transaction
from huikuan.core.audit import history, verify_chain
from huikuan.core.company import resolve_company
from huikuan.core.errors import HuikuanError
from huikuan.users import service
from huikuan.users.rules import Role

user_app = typer.Typer(help="User accounts and API tokens. 用户与令牌", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail. 审计记录", no_args_is_help=True)

PasswordOption = Annotated[
    str,
    typer.Option(
        prompt=True,
        confirmation_prompt=True,
        hide_input=True,
        envvar="HUIKUAN_PASSWORD",
        help="Password (asked if not given)",
    ),
]


@user_app.command("create")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(help="What the user may do")],
    name: Annotated[
        str, typer.Option("--name", help="Name as customers are assigned (salesperson/collector)")
    ],
    password: PasswordOption,
    team_view: Annotated[
        bool, typer.Option("--team-view", help="A collector who sees every customer")
    ] = False,
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Create a user of the company."""
    try:
        with transaction(db) as session:
            co = resolve_company(session, company)
            service.create_user(
                session, actor=cli_actor(), company_id=co.id, username=username, display_name=name,
                role=role.value, password=password, team_view=team_view,
            )  # fmt: skip
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"已创建用户 created user {username} ({role.value})")


@user_app.command("passwd")
def change_password(username: str, password: PasswordOption, db: DbOption = None) -> None:
    """Set a user's password (and unlock the account)."""
    try:
        with transaction(db) as session:
            user = service.get_user(session, username=username)
            service.set_password(session, actor=cli_actor(), user=user, password=password)
    except HuikuanError as exc:
        report_errors(exc)
    typer.echo(f"密码已更新 password updated for {username}")


@user_app.command("token")
def token(
    username: str,
    create: Annotated[
        str | None, typer.Option("--create", help="Create a token with this name")
    ] = None,
    revoke: Annotated[
        int | None, typer.Option("--revoke", help="Revoke the token with this id")
    ] = None,
    db: DbOption = None,
) -> None:
    """List a user's API tokens, create one (shown once) or revoke one."""
    try:
        with transaction(db) as session:
            user = service.get_user(session, username=username)
            if create:
                plain, row = service.create_token(
                    session, actor=cli_actor(), user=user, name=create
                )
                typer.echo(f"令牌 token {row.id} ({create}), shown only now:\n{plain}")
                return
            if revoke is not None:
                service.revoke_token(session, actor=cli_actor(), user=user, token_id=revoke)
                typer.echo(f"已吊销 revoked token {revoke}")
                return
            for row in service.list_tokens(session, user=user):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                typer.echo(
                    f"{row.id}\t{row.prefix}…\t{row.name}\t{row.created_at:%Y-%m-%d}\t{state}"
                )
    except HuikuanError as exc:
        report_errors(exc)


@audit_app.command("verify")
def verify(db: DbOption = None, company: CompanyOption = None) -> None:
    """Check the hash chain: any edited, deleted or inserted record is reported."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        breaks = verify_chain(session, company_id=co.id)
    if breaks:
        for item in breaks[:100]:
            typer.echo(f"记录 record {item.seq}: {item.reason}", err=True)
        fail(f"审计链被破坏 / audit chain broken in {len(breaks)} place(s)")
    typer.echo("审计链完整 audit chain intact")


@audit_app.command("show")
def show(
    entity: Annotated[
        str, typer.Argument(help="invoice, payment, credit_note, customer, user, import")
    ],
    entity_id: Annotated[
        str, typer.Argument(help="Invoice number, payment id, customer code, ...")
    ],
    db: DbOption = None,
    company: CompanyOption = None,
) -> None:
    """Everything recorded about one entity, oldest first."""
    with transaction(db) as session:
        co = resolve_company(session, company)
        for r in history(session, company_id=co.id, entity=entity, entity_id=entity_id):
            typer.echo(
                f"{r.seq}\t{r.at:%Y-%m-%d %H:%M:%S}\t{r.actor}\t{r.source}\t{r.action}\t{r.before}\t{r.after}"
            )
