"""Roles, what each may do, whose customers each sees, and when sign-in locks. Pure rules.

The table of rights is data (:data:`RIGHTS`); ``docs/security.md`` shows it and a test walks
every route with every role against it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    CREDIT_MANAGER = "credit_manager"
    FINANCE = "finance"
    COLLECTOR = "collector"
    SALES = "sales"
    LEGAL = "legal"
    VIEWER = "viewer"


class Right(enum.StrEnum):
    READ_LEDGER = "read_ledger"  # customers, invoices, payments, aging
    WRITE_LEDGER = "write_ledger"  # enter invoices and payments, allocate, import
    WRITE_CUSTOMERS = "write_customers"  # create and edit customers and contacts
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    READ_CREDIT = "read_credit"  # grades, scorecards, limits, holds, orders and their decisions
    MANAGE_CREDIT = "manage_credit"  # assess, score, set limits and policies, blacklist, groups
    PLACE_HOLDS = "place_holds"  # credit hold / supply stop, and their release
    ENTER_ORDERS = "enter_orders"  # create, change, split, ship and close sales orders
    APPROVE_ORDERS = "approve_orders"  # approve or reject orders waiting for credit
    READ_COLLECTIONS = "read_collections"  # strategies, daily runs, actions, letters sent
    MANAGE_STRATEGIES = "manage_strategies"  # edit strategies and rules, assign customers
    RUN_COLLECTIONS = "run_collections"  # preview and run the day's collections
    WORK_ACTIONS = "work_actions"  # complete tasks (calls, visits, letters posted)
    EDIT_TEMPLATES = "edit_templates"  # the company's wording of messages and letters
    LOG_CONTACTS = "log_contacts"  # log calls and visits, record promises, raise disputes
    RESOLVE_DISPUTES = "resolve_disputes"  # settle a dispute: credit note, correction, rejection
    # issue and send customer statements, record confirmations and the differences reported
    RECONCILE_STATEMENTS = "reconcile_statements"


ALL = frozenset(Role)
RIGHTS: dict[Right, frozenset[Role]] = {
    Right.READ_LEDGER: ALL,
    Right.WRITE_LEDGER: frozenset({Role.ADMIN, Role.FINANCE}),
    Right.WRITE_CUSTOMERS: frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE}),
    Right.READ_AUDIT: frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE, Role.LEGAL}),
    Right.MANAGE_USERS: frozenset({Role.ADMIN}),
    Right.READ_CREDIT: ALL,
    Right.MANAGE_CREDIT: frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    Right.PLACE_HOLDS: frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE}),
    Right.ENTER_ORDERS: frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE, Role.SALES}),
    Right.APPROVE_ORDERS: frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    Right.READ_COLLECTIONS: ALL,
    Right.MANAGE_STRATEGIES: frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    Right.RUN_COLLECTIONS: frozenset(
        {Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE, Role.COLLECTOR}
    ),
    Right.WORK_ACTIONS: frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE, Role.COLLECTOR}),
    Right.EDIT_TEMPLATES: frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    Right.LOG_CONTACTS: frozenset(
        {Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE, Role.COLLECTOR, Role.SALES}
    ),
    Right.RESOLVE_DISPUTES: frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE}),
    Right.RECONCILE_STATEMENTS: frozenset(
        {Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE, Role.COLLECTOR}
    ),
}

ROLE_LABELS_ZH = {
    Role.ADMIN: "系统管理员",
    Role.CREDIT_MANAGER: "信用经理",
    Role.FINANCE: "财务",
    Role.COLLECTOR: "催收专员",
    Role.SALES: "销售",
    Role.LEGAL: "法务",
    Role.VIEWER: "只读",
}


def may(role: str, right: Right) -> bool:
    return role in RIGHTS[right]


@dataclass(frozen=True, slots=True)
class CustomerScope:
    """Which customers a user sees: all of the company's, or those assigned to them as
    salesperson or collector (matched on the user's display name)."""

    field: str | None = None  # None: all; else "salesperson" or "collector"
    name: str = ""

    @property
    def only(self) -> tuple[str, str] | None:
        """As a filter for queries: (customer column, value), or None for all customers."""
        return (self.field, self.name) if self.field else None


def customer_scope(role: str, display_name: str, team_view: bool) -> CustomerScope:
    if role == Role.SALES:
        return CustomerScope("salesperson", display_name)
    if role == Role.COLLECTOR and not team_view:
        return CustomerScope("collector", display_name)
    return CustomerScope()


# Sign-in slows down, then locks: five failures lock the account for 15 minutes, and each
# further failure while locked is refused without checking the password.
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)


def locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(failures: int, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The failure count and lock after one more wrong password."""
    failures += 1
    return failures, (now + LOCK_FOR if failures >= MAX_FAILURES else None)


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None. Long enough and not all one kind of character."""
    if len(password) < 8:
        return "密码至少 8 位 / password needs at least 8 characters"
    if password.isdigit() or password.isalpha():
        return "密码需同时包含字母和数字 / password needs letters and digits"
    return None
