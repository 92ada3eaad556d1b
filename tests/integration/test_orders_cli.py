"""``huikuan order`` and ``huikuan credit hold/release`` as a user runs them, on SQLite and
PostgreSQL. The commands are mounted on a small app here, as the real command will mount them."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

# The command module first: the order and hold commands import their options from it.
import huikuan.cli  # noqa: F401
from huikuan.core.models import Company
from huikuan.credit.cli_holds import hold_command, release_command
from huikuan.credit.cli_orders import order_app
from huikuan.credit.models import CreditLimit
from huikuan.users.service import create_user
from tests.actors import ACTOR
from tests.integration.ledger_builders import customer

runner = CliRunner()
app = typer.Typer()
credit_app = typer.Typer()
credit_app.command("hold")(hold_command)
credit_app.command("release")(release_command)
app.add_typer(order_app, name="order")
app.add_typer(credit_app, name="credit")
AS_OF = ("--as-of", "2026-03-31")


@pytest.fixture
def url(database_url: str, session: Session, company: Company) -> str:
    """A customer of salesperson 王销售 with a limit of ¥1,000.00, and four users."""
    cust = customer(session, company, "C1", salesperson="王销售")
    limit = CreditLimit(
        company_id=company.id, customer_id=cust.id, source="policy", status="approved",
        amount=1000_00, terms_days=30, valid_from=dt.date(2026, 1, 1), created_at=ACTOR.at,
    )  # fmt: skip
    session.add(limit)
    for username, name, role in [
        ("li", "李经理", "credit_manager"),
        ("wang", "王销售", "sales"),
        ("wang_cm", "王销售", "credit_manager"),
        ("qian", "钱财务", "finance"),
    ]:
        create_user(
            session, actor=ACTOR, company_id=company.id, username=username, display_name=name,
            role=role, password="secret123",
        )  # fmt: skip
    session.commit()
    return database_url


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", url])
    return result.exit_code, result.stdout, result.stderr


def create(url: str, number: str, *lines: str) -> tuple[int, str, str]:
    line_args = [arg for value in lines for arg in ("--line", value)]
    return run(
        url, "order", "create", number, "--customer", "C1", "--date", "2026-03-30", *line_args,
        *AS_OF,
    )  # fmt: skip


def test_an_order_within_the_limit_is_approved_and_shown_with_its_decision(url: str) -> None:
    code, out, err = create(url, "SO-1", "螺纹钢,2.5,100.00", "钢板,1,1,000.50")
    assert code == 0, err
    assert out == "订单 order SO-1 ¥1,250.50: 待审批 pending\n" + (
        "  - over_limit: 占用 ¥0.00 + ¥1,250.50 > ¥1,000.00，超出 ¥250.50 / exposure ¥0.00 plus "
        "order ¥1,250.50 exceeds the limit ¥1,000.00 by ¥250.50\n"
    )
    code, out, _ = create(url, "SO-2", "螺纹钢,2.5,100.00")
    assert (code, out) == (0, "订单 order SO-2 ¥250.00: 已批准 approved\n")
    code, out, _ = run(url, "order", "show", "SO-1")
    assert code == 0
    assert "  1\t螺纹钢\t2.5\t¥100.00\t¥250.00\n  2\t钢板\t1\t¥1,000.50\t¥1,000.50\n" in out
    assert "\tpending\tby system\t占用 exposure ¥1,250.50\t额度 limit ¥1,000.00\n" in out
    code, out, _ = run(url, "order", "list", "--pending")
    assert (code, out) == (0, "SO-1\tC1\t2026-03-30\t¥1,250.50\topen\tpending\n")


def test_bad_lines_are_refused_before_anything_is_written(url: str) -> None:
    for bad in (
        "螺纹钢,2.5",
        "螺纹钢,2.5555,1.00",
        "螺纹钢,2,1.005",
        "螺纹钢,0,1.00",
        "水泥,1,1,00.50",
    ):
        code, _, err = create(url, "SO-1", bad)
        assert code == 2, bad
        assert "--line" in err
    code, out, _ = run(url, "order", "list")
    assert (code, out) == (0, "")


def test_who_may_approve_and_why_is_recorded(url: str) -> None:
    create(url, "SO-1", "钢板,1,1,200.00")
    for approver, message in [
        ("wang", "salespeople cannot approve"),
        ("wang_cm", "is the salesperson of customer C1"),
        ("qian", "may not approve"),
        ("nobody", "no user nobody"),
    ]:
        code, _, err = run(url, "order", "approve", "SO-1", "--approver", approver)
        assert code == 1 and message in err, (approver, err)
    code, out, err = run(url, "order", "approve", "SO-1", "--approver", "li", "--note", "担保到位")
    assert (code, out) == (0, "订单 order SO-1: 已批准 approved by 李经理\n"), err
    code, out, _ = run(url, "order", "show", "SO-1")
    assert "\tapproved\tby 李经理\t" in out and "说明 note: 担保到位" in out
    code, _, err = run(url, "order", "approve", "SO-1", "--approver", "li")
    assert code == 1 and "not waiting for approval" in err


def test_a_rejection_needs_a_note(url: str) -> None:
    create(url, "SO-1", "钢板,1,1,200.00")
    code, _, err = run(url, "order", "reject", "SO-1", "--approver", "li", "--note", " ")
    assert code == 1 and "needs a note" in err
    code, out, _ = run(url, "order", "reject", "SO-1", "--approver", "li", "--note", "超额")
    assert (code, out) == (0, "订单 order SO-1: 已驳回 rejected by 李经理\n")


def test_holds_stop_shipping_until_released(url: str) -> None:
    create(url, "SO-1", "钢板,1,500.00")
    hold = ("credit", "hold", "C1", "--kind", "supply_stop", "--reason", "逾期 60 天")
    code, out, _ = run(url, *hold)
    assert (code, out) == (0, "已冻结 placed supply_stop on C1 (#1): 逾期 60 天\n")
    code, _, err = run(url, *hold)
    assert code == 1 and "already on supply_stop" in err
    code, _, err = run(url, "order", "ship", "SO-1", "--amount", "100")
    assert code == 1 and "supply to the customer is stopped" in err
    code, out, err = create(url, "SO-2", "钢板,1,1.00")
    assert code == 0 and "on_hold" in out
    release = ("credit", "release", "C1", "--kind", "supply_stop", "--reason", "已还款")
    code, out, _ = run(url, *release)
    assert (code, out) == (0, "已解除 released supply_stop on C1 (#1): 已还款\n")
    code, _, err = run(url, *release)
    assert code == 1 and "not on supply_stop" in err
    code, out, _ = run(url, "order", "ship", "SO-1", "--amount", "100")
    assert (code, out) == (0, "订单 order SO-1: 已发货 shipped ¥100.00 / ¥500.00\n")
    code, _, err = run(url, "credit", "hold", "C1", "--kind", "freeze", "--reason", "x")
    assert code == 2
    code, _, err = run(url, "credit", "hold", "C9", "--kind", "credit_hold", "--reason", "x")
    assert code == 1 and "no customer C9" in err


def test_split_invoice_close_reopen_and_cancel(url: str) -> None:
    create(url, "SO-1", "钢板,1,700.00", "螺纹钢,1,500.00")
    code, out, _ = run(url, "order", "split", "SO-1", "SO-1B", "--line", "2", *AS_OF)
    assert code == 0
    assert out.splitlines()[0] == "订单 order SO-1 ¥700.00: 已批准 approved"
    assert out.splitlines()[1] == "订单 order SO-1B ¥500.00: 待审批 pending"
    code, out, _ = run(url, "order", "show", "SO-1B")
    assert "拆自 split from SO-1" in out
    code, out, _ = run(url, "order", "invoice", "SO-1", "--amount", "700.00")
    assert (code, out) == (0, "订单 order SO-1: 已开票 invoiced ¥700.00 / ¥700.00, closed\n")
    code, _, err = run(url, "order", "reopen", "SO-1", *AS_OF)
    assert code == 1 and "fully invoiced" in err
    code, out, _ = run(url, "order", "change", "SO-1B", "--line", "螺纹钢,1,300.00", *AS_OF)
    assert (code, out) == (0, "订单 order SO-1B ¥300.00: 已批准 approved\n")
    code, out, _ = run(url, "order", "close", "SO-1B", "--reason", "客户暂缓")
    assert (code, out) == (0, "订单 order SO-1B: closed\n")
    code, out, _ = run(url, "order", "reopen", "SO-1B", *AS_OF)
    assert (code, out) == (0, "订单 order SO-1B ¥300.00: 已批准 approved\n")
    code, out, _ = run(url, "order", "cancel", "SO-1B", "--reason", "客户取消")
    assert (code, out) == (0, "订单 order SO-1B: cancelled\n")
    code, _, err = run(url, "order", "show", "SO-9")
    assert code == 1 and "no order SO-9" in err
