import datetime as dt

import pytest

from huikuan.users import rules
from huikuan.users.rules import CustomerScope, Right, Role

NOW = dt.datetime(2026, 3, 1, 9, 0)


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes() -> None:
    failures, locked_until = 0, None
    for _ in range(4):
        failures, locked_until = rules.after_failure(failures, NOW)
        assert locked_until is None
    failures, locked_until = rules.after_failure(failures, NOW)
    assert locked_until == NOW + dt.timedelta(minutes=15)
    assert rules.locked(locked_until, NOW + dt.timedelta(minutes=14, seconds=59))
    assert not rules.locked(locked_until, NOW + dt.timedelta(minutes=15))


def test_salespeople_and_collectors_see_their_own_customers() -> None:
    assert rules.customer_scope("sales", "王强", False) == CustomerScope("salesperson", "王强")
    assert rules.customer_scope("collector", "张伟", False) == CustomerScope("collector", "张伟")
    assert rules.customer_scope("collector", "张伟", True) == CustomerScope()
    assert rules.customer_scope("credit_manager", "赵敏", False) == CustomerScope()


@pytest.mark.parametrize(
    ("role", "right", "allowed"),
    [
        (Role.FINANCE, Right.WRITE_LEDGER, True),
        (Role.COLLECTOR, Right.WRITE_LEDGER, False),
        (Role.SALES, Right.WRITE_LEDGER, False),
        (Role.VIEWER, Right.READ_LEDGER, True),
        (Role.ADMIN, Right.MANAGE_USERS, True),
        (Role.CREDIT_MANAGER, Right.MANAGE_USERS, False),
        (Role.LEGAL, Right.READ_AUDIT, True),
        (Role.SALES, Right.READ_AUDIT, False),
    ],
)
def test_rights_by_role(role: Role, right: Right, allowed: bool) -> None:
    assert rules.may(role, right) is allowed


@pytest.mark.parametrize(
    ("password", "ok"),
    [("short1", False), ("12345678901", False), ("onlyletters", False), ("huikuan2026", True)],
)
def test_passwords_need_length_and_mixed_characters(password: str, ok: bool) -> None:
    assert (rules.password_problem(password) is None) is ok
