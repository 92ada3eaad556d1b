"""The collector's worklist for a day: today's phone and visit tasks plus every customer who
needs attention (a promise due, a promise broken, a new dispute, a large new overdue), ranked
by the expected value of acting today (``worklist_rules``), each with its reasons and the
customer's payment habits.

Reading is SQL: one grouped statement per signal over the collector's customers (a subquery,
never a list of every customer), then one grouped statement per habit over the rows kept.
Nothing here walks the ledger invoice by invoice.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Integer, Select, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from huikuan.collections import worklist_rules as rules
from huikuan.collections.contact_log import TASK_CHANNELS
from huikuan.collections.daily import as_date, chaseable, chased_amount
from huikuan.collections.models import (
    CollectionAction,
    ContactLog,
    Dispute,
    PromiseInstalment,
    PromiseToPay,
)
from huikuan.core.errors import InvalidInput
from huikuan.credit.service import latest_grades
from huikuan.customers.models import Customer
from huikuan.ledger.exports import Money, xlsx_cell
from huikuan.ledger.models import Invoice, InvoiceStatus, Payment

HABIT_LOOKBACK_DAYS = 548  # about eighteen months of payments and settled invoices
RECENT_INVOICES = 3
ID_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class WorklistRow:
    rank: int
    customer_id: int
    code: str
    name: str
    customer_type: str
    salesperson: str
    collector: str
    grade: str | None
    value: int  # expected fen collected by acting today
    at_stake: int  # chased overdue + owed on promises due today or tomorrow, fen
    chased_overdue: int
    days_overdue: int
    collectability: Fraction
    urgency: Fraction
    reasons: tuple[rules.Reason, ...]
    task_id: int | None  # the oldest open phone or visit task, for ``call log --task``
    habits: rules.Habits = field(default_factory=rules.Habits)

    @property
    def why(self) -> str:
        return "；".join(reason.text for reason in self.reasons)


def worklist(
    session: Session,
    *,
    company_id: int,
    collector: str | None,
    as_of: dt.date,
    customer_type: str | None = None,
    min_amount: int | None = None,
    max_amount: int | None = None,
    salesperson: str | None = None,
    limit: int = 200,
    large_overdue: int = rules.LARGE_NEW_OVERDUE,
    only: tuple[str, str] | None = None,
) -> list[WorklistRow]:
    """The ranked worklist of ``collector`` (every collector's when None) on ``as_of``.
    ``min_amount``/``max_amount`` (fen) bound the amount at stake; ``only`` (customer column,
    value) keeps the customers a signed-in user sees, as the other lists do."""
    if limit < 1:
        raise InvalidInput("条数须为正数 / the limit must be positive")
    if min_amount is not None and max_amount is not None and min_amount > max_amount:
        raise InvalidInput("最小金额大于最大金额 / the minimum amount exceeds the maximum")
    scope = _scope(company_id, collector, as_of, customer_type, salesperson)
    if only is not None:
        scope = scope.where(getattr(Customer, only[0]) == only[1])
    tasks = _tasks(session, company_id, as_of, scope)
    broken = _broken(session, company_id, as_of, scope)
    disputes = _disputes(session, company_id, scope)
    promised = _promises_due(session, company_id, as_of, scope)
    overdue = _overdue(session, company_id, as_of, scope)
    open_totals = _open_totals(session, company_id, scope)
    candidates = (
        set(tasks)
        | {c for c, (_, last) in broken.items() if last is not None and last > as_of - _week()}
        | {c for c, (_, last) in disputes.items() if last is not None and last > as_of - _week()}
        | set(promised)
        | {c for c, (_, _, new) in overdue.items() if new >= large_overdue}
    )
    if not candidates:
        return []
    grades = latest_grades(session, company_id=company_id, customer_ids=sorted(candidates))
    scored: list[tuple[int, rules.Situation, rules.Score]] = []
    for customer_id in candidates:
        chased, oldest, new = overdue.get(customer_id, (0, None, 0))
        broken_count, last_broken = broken.get(customer_id, (0, None))
        disputed, last_dispute = disputes.get(customer_id, (0, None))
        due_on, due_amount = promised.get(customer_id, (None, 0))
        situation = rules.Situation(
            as_of=as_of,
            chased_overdue=chased,
            oldest_due=oldest,
            grade=grades.get(customer_id),
            open_amount=open_totals.get(customer_id, 0),
            disputed=disputed,
            broken_promises=broken_count,
            last_broken_on=last_broken,
            last_dispute_on=last_dispute,
            task_channel=tasks[customer_id][0] if customer_id in tasks else "",
            promise_due_on=due_on,
            promise_due_amount=due_amount,
            new_overdue=new,
        )
        if not rules.needs_attention(situation, large_overdue=large_overdue):
            continue
        result = rules.score(situation, large_overdue=large_overdue)
        if min_amount is not None and result.at_stake < min_amount:
            continue
        if max_amount is not None and result.at_stake > max_amount:
            continue
        scored.append((customer_id, situation, result))
    ids = [row[0] for row in scored]
    customers: dict[int, Customer] = {}
    for start in range(0, len(ids), ID_CHUNK):  # PostgreSQL takes at most 65,535 parameters
        chunk = ids[start : start + ID_CHUNK]
        customers.update((c.id, c) for c in session.scalars(select(Customer).where(Customer.id.in_(chunk))))  # fmt: skip
    scored.sort(key=lambda r: rules.rank_key(r[2].value, r[2].at_stake, customers[r[0]].code))
    kept = scored[:limit]
    habits = _habits(session, company_id, as_of, [row[0] for row in kept])
    rows = []
    for rank, (customer_id, situation, result) in enumerate(kept, start=1):
        customer = customers[customer_id]
        rows.append(
            WorklistRow(
                rank=rank,
                customer_id=customer_id,
                code=customer.code,
                name=customer.name,
                customer_type=customer.customer_type,
                salesperson=customer.salesperson,
                collector=customer.collector,
                grade=situation.grade,
                value=result.value,
                at_stake=result.at_stake,
                chased_overdue=situation.chased_overdue,
                days_overdue=rules.days_overdue(situation),
                collectability=result.collectability,
                urgency=result.urgency,
                reasons=result.reasons,
                task_id=tasks[customer_id][1] if customer_id in tasks else None,
                habits=habits.get(customer_id, rules.Habits()),
            )
        )
    return rows


def _week() -> dt.timedelta:
    return dt.timedelta(days=rules.NEW_DAYS)


def _open_task(company_id: int, as_of: dt.date) -> Any:
    return and_(
        CollectionAction.company_id == company_id,
        CollectionAction.channel.in_(TASK_CHANNELS),
        CollectionAction.status == "open",
        CollectionAction.as_of <= as_of,
    )


def _scope(
    company_id: int,
    collector: str | None,
    as_of: dt.date,
    customer_type: str | None,
    salesperson: str | None,
) -> Select[Any]:
    """The customers the list may show: the collector's own, and any whose open task is
    assigned to the collector by name (a customer without a collector falls to its salesperson
    and the task names them)."""
    query = select(Customer.id).where(Customer.company_id == company_id)
    if collector is not None:
        assigned = select(CollectionAction.customer_id).where(
            _open_task(company_id, as_of), CollectionAction.assignee == collector
        )
        query = query.where(or_(Customer.collector == collector, Customer.id.in_(assigned)))
    if customer_type:
        query = query.where(Customer.customer_type == customer_type)
    if salesperson:
        query = query.where(Customer.salesperson == salesperson)
    return query


def _tasks(
    session: Session, company_id: int, as_of: dt.date, scope: Select[Any]
) -> dict[int, tuple[str, int]]:
    """Customer → (visit_task if any open visit task else phone_task, the oldest task's id)."""
    visits = func.sum(case((CollectionAction.channel == "visit_task", 1), else_=0))
    rows = session.execute(
        select(CollectionAction.customer_id, visits, func.min(CollectionAction.id))
        .where(_open_task(company_id, as_of), CollectionAction.customer_id.in_(scope))
        .group_by(CollectionAction.customer_id)
    )
    return {
        row[0]: ("visit_task" if int(row[1] or 0) > 0 else "phone_task", int(row[2]))
        for row in rows
    }


def _broken(
    session: Session, company_id: int, as_of: dt.date, scope: Select[Any]
) -> dict[int, tuple[int, dt.date | None]]:
    since = as_of - dt.timedelta(days=rules.BROKEN_LOOKBACK_DAYS)
    rows = session.execute(
        select(PromiseToPay.customer_id, func.count(), func.max(PromiseToPay.settled_on))
        .where(
            PromiseToPay.company_id == company_id,
            PromiseToPay.status == "broken",
            PromiseToPay.settled_on > since,
            PromiseToPay.settled_on <= as_of,
            PromiseToPay.customer_id.in_(scope),
        )
        .group_by(PromiseToPay.customer_id)
    )
    return {row[0]: (int(row[1]), as_date(row[2])) for row in rows}


def _disputes(
    session: Session, company_id: int, scope: Select[Any]
) -> dict[int, tuple[int, dt.date | None]]:
    rows = session.execute(
        select(Dispute.customer_id, func.sum(Dispute.amount), func.max(Dispute.raised_on))
        .where(
            Dispute.company_id == company_id,
            Dispute.status == "open",
            Dispute.customer_id.in_(scope),
        )
        .group_by(Dispute.customer_id)
    )
    return {row[0]: (int(row[1] or 0), as_date(row[2])) for row in rows}


def _promises_due(
    session: Session, company_id: int, as_of: dt.date, scope: Select[Any]
) -> dict[int, tuple[dt.date | None, int]]:
    """Open instalments of open promises due today or tomorrow: earliest date, amount owed."""
    owed = PromiseInstalment.amount - PromiseInstalment.paid
    rows = session.execute(
        select(PromiseToPay.customer_id, func.min(PromiseInstalment.due_on), func.sum(owed))
        .join(PromiseToPay, PromiseToPay.id == PromiseInstalment.promise_id)
        .where(
            PromiseInstalment.company_id == company_id,
            PromiseToPay.status == "open",
            PromiseInstalment.status == "open",
            PromiseInstalment.due_on >= as_of,
            PromiseInstalment.due_on <= as_of + dt.timedelta(days=1),
            PromiseToPay.customer_id.in_(scope),
        )
        .group_by(PromiseToPay.customer_id)
    )
    return {row[0]: (as_date(row[1]), max(int(row[2] or 0), 0)) for row in rows}


def _overdue(
    session: Session, company_id: int, as_of: dt.date, scope: Select[Any]
) -> dict[int, tuple[int, dt.date | None, int]]:
    """Customer → (chased overdue, oldest chased overdue due date, chased amount that fell
    overdue within the last week), as the daily run chases it."""
    chased = chased_amount()
    is_overdue = Invoice.due_date < as_of
    is_new = and_(is_overdue, Invoice.due_date >= as_of - _week())
    rows = session.execute(
        select(
            Invoice.customer_id,
            func.sum(case((is_overdue, chased), else_=0)),
            func.min(case((and_(is_overdue, chased > 0), Invoice.due_date))),
            func.sum(case((is_new, chased), else_=0)),
        )
        .where(chaseable(company_id, as_of), Invoice.customer_id.in_(scope))
        .group_by(Invoice.customer_id)
    )
    return {row[0]: (int(row[1] or 0), as_date(row[2]), int(row[3] or 0)) for row in rows}


def _open_totals(session: Session, company_id: int, scope: Select[Any]) -> dict[int, int]:
    rows = session.execute(
        select(Invoice.customer_id, func.sum(Invoice.open_amount))
        .where(
            Invoice.company_id == company_id,
            Invoice.open_amount > 0,
            Invoice.status == InvoiceStatus.OPEN.value,
            Invoice.customer_id.in_(scope),
        )
        .group_by(Invoice.customer_id)
    )
    return {row[0]: int(row[1] or 0) for row in rows}


# ---- habits ------------------------------------------------------------------------------


def _days_between(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _habits(
    session: Session, company_id: int, as_of: dt.date, ids: Sequence[int]
) -> dict[int, rules.Habits]:
    if not ids:
        return {}
    since = as_of - dt.timedelta(days=HABIT_LOOKBACK_DAYS)
    pay_days = _pay_days(session, company_id, as_of, since, ids)
    average, recent = _days_late(session, company_id, as_of, since, ids)
    last = _last_contacts(session, company_id, as_of, ids)
    names, hours = _good_contacts(session, company_id, as_of, since, ids)
    return {
        customer_id: rules.Habits(
            typical_pay_day=rules.mode(pay_days.get(customer_id, {})),
            average_days_late=average.get(customer_id),
            recent_days_late=recent.get(customer_id),
            last_contact_at=last.get(customer_id, (None, ""))[0],
            last_outcome=last.get(customer_id, (None, ""))[1],
            best_contact=rules.best_name(names.get(customer_id, [])),
            best_hour=rules.mode(hours.get(customer_id, {})),
        )
        for customer_id in ids
    }


def _pay_days(
    session: Session, company_id: int, as_of: dt.date, since: dt.date, ids: Sequence[int]
) -> dict[int, dict[int, int]]:
    day = func.extract("day", Payment.received_on)
    found: dict[int, dict[int, int]] = {}
    for customer_id, day_of_month, count in session.execute(
        select(Payment.customer_id, day, func.count())
        .where(
            Payment.company_id == company_id,
            Payment.customer_id.in_(list(ids)),
            Payment.reversed_on.is_(None),
            Payment.received_on > since,
            Payment.received_on <= as_of,
        )
        .group_by(Payment.customer_id, day)
    ):
        found.setdefault(customer_id, {})[int(day_of_month)] = int(count)
    return found


def _days_late(
    session: Session, company_id: int, as_of: dt.date, since: dt.date, ids: Sequence[int]
) -> tuple[dict[int, Fraction], dict[int, Fraction]]:
    """Average days late of the invoices settled in the look-back (early counts as 0), and of
    the last three settled."""
    raw = _days_between(session, Invoice.settled_on, Invoice.due_date)
    late = case((raw > 0, raw), else_=0)
    order = func.row_number().over(
        partition_by=Invoice.customer_id,
        order_by=(Invoice.settled_on.desc(), Invoice.id.desc()),
    )
    settled = (
        select(Invoice.customer_id.label("customer_id"), late.label("late"), order.label("n"))
        .where(
            Invoice.company_id == company_id,
            Invoice.customer_id.in_(list(ids)),
            Invoice.status != InvoiceStatus.VOID.value,
            Invoice.settled_on.is_not(None),
            Invoice.settled_on > since,
            Invoice.settled_on <= as_of,
        )
        .subquery()
    )
    recent = settled.c.n <= RECENT_INVOICES
    average: dict[int, Fraction] = {}
    last: dict[int, Fraction] = {}
    for customer_id, total, count, r_total, r_count in session.execute(
        select(
            settled.c.customer_id,
            func.sum(settled.c.late),
            func.count(),
            func.sum(case((recent, settled.c.late), else_=0)),
            func.sum(case((recent, 1), else_=0)),
        ).group_by(settled.c.customer_id)
    ):
        for target, value in (
            (average, rules.ratio(total, count)),
            (last, rules.ratio(r_total, r_count)),
        ):
            if value is not None:
                target[customer_id] = value
    return average, last


def _end_of(as_of: dt.date) -> dt.datetime:
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0, 0))


def _last_contacts(
    session: Session, company_id: int, as_of: dt.date, ids: Sequence[int]
) -> dict[int, tuple[dt.datetime | None, str]]:
    order = func.row_number().over(
        partition_by=ContactLog.customer_id,
        order_by=(ContactLog.contacted_at.desc(), ContactLog.id.desc()),
    )
    ranked = (
        select(
            ContactLog.customer_id.label("customer_id"),
            ContactLog.contacted_at.label("at"),
            ContactLog.outcome.label("outcome"),
            order.label("n"),
        )
        .where(
            ContactLog.company_id == company_id,
            ContactLog.customer_id.in_(list(ids)),
            ContactLog.contacted_at < _end_of(as_of),
        )
        .subquery()
    )
    return {
        row[0]: (row[1], str(row[2]))
        for row in session.execute(
            select(ranked.c.customer_id, ranked.c.at, ranked.c.outcome).where(ranked.c.n == 1)
        )
    }


def _good_contacts(
    session: Session, company_id: int, as_of: dt.date, since: dt.date, ids: Sequence[int]
) -> tuple[dict[int, list[tuple[str, int, dt.datetime | None]]], dict[int, dict[int, int]]]:
    """Per customer: who was reached with a good outcome (count, latest), and by hour."""
    good = and_(
        ContactLog.company_id == company_id,
        ContactLog.customer_id.in_(list(ids)),
        ContactLog.outcome.in_(sorted(rules.GOOD_OUTCOMES)),
        ContactLog.contacted_at >= dt.datetime.combine(since, dt.time(0, 0)),
        ContactLog.contacted_at < _end_of(as_of),
    )
    names: dict[int, list[tuple[str, int, dt.datetime | None]]] = {}
    for customer_id, reached, count, latest in session.execute(
        select(
            ContactLog.customer_id,
            ContactLog.reached,
            func.count(),
            func.max(ContactLog.contacted_at),
        )
        .where(good)
        .group_by(ContactLog.customer_id, ContactLog.reached)
    ):
        names.setdefault(customer_id, []).append((str(reached), int(count), _moment(latest)))
    hour = func.extract("hour", ContactLog.contacted_at)
    hours: dict[int, dict[int, int]] = {}
    for customer_id, at_hour, count in session.execute(
        select(ContactLog.customer_id, hour, func.count())
        .where(good)
        .group_by(ContactLog.customer_id, hour)
    ):
        hours.setdefault(customer_id, {})[int(at_hour)] = int(count)
    return names, hours


def _moment(value: object) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))  # SQLite returns MAX() over datetimes as text


# ---- export ------------------------------------------------------------------------------

XLSX_HEADERS = (
    "排名 Rank",
    "客户编码 Code",
    "客户名称 Name",
    "类型 Type",
    "业务员 Salesperson",
    "催收员 Collector",
    "信用等级 Grade",
    "期望回收 Expected value",
    "涉及金额 At stake",
    "逾期天数 Days overdue",
    "可回收性 Collectability",
    "紧迫度 Urgency",
    "原因 Why",
    "任务 Task",
    "惯常付款日 Pay day",
    "平均逾期天数 Avg days late",
    "最近3张 Last 3 days late",
    "最近联系 Last contact",
    "结果 Outcome",
    "最佳联系人 Best contact",
    "最佳时段 Best hour",
)


def _days(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 1)


def xlsx_values(row: WorklistRow) -> list[Any]:
    habits = row.habits
    return [
        row.rank,
        row.code,
        row.name,
        row.customer_type,
        row.salesperson,
        row.collector,
        row.grade or "",
        Money(row.value),
        Money(row.at_stake),
        row.days_overdue,
        round(float(row.collectability), 2),
        round(float(row.urgency), 2),
        row.why,
        row.task_id,
        habits.typical_pay_day,
        _days(habits.average_days_late),
        _days(habits.recent_days_late),
        habits.last_contact_at.date() if habits.last_contact_at else None,
        habits.last_outcome,
        habits.best_contact,
        f"{habits.best_hour:02d}:00" if habits.best_hour is not None else "",
    ]


def worklist_xlsx(rows: Sequence[WorklistRow]) -> bytes:
    """The worklist as a workbook: amounts as numbers with #,##0.00, dates as dates."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工作清单 Worklist")
    sheet.append(list(XLSX_HEADERS))
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in xlsx_values(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
