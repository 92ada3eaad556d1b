"""The shipped strategies, run day by day for a customer of each kind, fire every step on the
working day an independent reading of the YAML and the official calendar says they should."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections.strategies import assign_customer, default_strategy_text
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from tests.actors import ACTOR
from tests.integration.collection_builders import (
    actions_of,
    bill,
    debtor,
    run_days,
    with_strategies,
)

D = dt.date
DUE = D(2026, 6, 10)  # a Wednesday; every step of every ladder falls within 2026
SETTLEMENT_DAY = 25

# customer code, customer type, amount, strategy the rules (or a person) should pick
CASES = [
    ("P", "project", 100_000_00, "project"),
    ("PL", "project", 800_000_00, "project_large"),  # by hand: the rule needs it overdue
    ("DL", "dealer", 50_000_00, "dealer"),
    ("IN", "industrial", 50_000_00, "industrial"),
    ("RC", "retail_chain", 50_000_00, "retail_chain"),
    ("BAD", "dealer", 50_000_00, "bad_customer"),  # put there by a person (or by grade C)
    ("OT", "other", 50_000_00, "standard"),
]


def workday_on_or_after(day: dt.date) -> dt.date:
    while not chinese_calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def workdays_before(day: dt.date, count: int) -> dt.date:
    while count:
        day -= dt.timedelta(days=1)
        count -= chinese_calendar.is_workday(day)
    return day


def expected_dates(
    strategy: dict, due: dt.date, settlement_day: int | None
) -> list[tuple[dt.date, str]]:  # type: ignore[type-arg]
    """Each group of steps (same trigger) fires on the first working day on or after both its
    trigger date and the end of the previous group's wait."""
    groups: dict[int, list[dict]] = {}  # type: ignore[type-arg]
    for step in strategy["steps"]:
        groups.setdefault(step["trigger"], []).append(step)
    fired: list[tuple[dt.date, str]] = []
    earliest = D(1900, 1, 1)
    for trigger in sorted(groups):
        steps = groups[trigger]
        anchor = due
        if steps[0].get("anchor") == "settlement" and settlement_day:
            anchor = due.replace(day=settlement_day) if due.day <= settlement_day else None  # type: ignore[assignment]
            assert anchor is not None, "the test's due date is before the settlement day"
        anchor = workday_on_or_after(anchor)
        if steps[0].get("working_days"):
            target = workdays_before(anchor, -trigger) if trigger < 0 else anchor
        else:
            target = workday_on_or_after(anchor + dt.timedelta(days=trigger))
        day = workday_on_or_after(max(target, earliest))
        fired.extend((day, step["name"]) for step in steps)
        earliest = day + dt.timedelta(days=max(step.get("wait", 0) for step in steps))
    return fired


@pytest.mark.slow
@pytest.mark.usefixtures("backend")
def test_every_default_ladder_fires_each_step_on_its_working_day(
    factory: sessionmaker[Session], company: Company
) -> None:
    from huikuan.collections.strategies import default_strategy_text as text

    with_strategies(factory, company, text=text())
    with unit_of_work(factory) as session:
        for code, kind, amount, strategy in CASES:
            c = debtor(session, company, code, kind=kind)
            if code == "RC":
                c.settlement_day = SETTLEMENT_DAY
            bill(session, company, c, f"INV-{code}", DUE, amount)
            if code in ("BAD", "PL"):
                assign_customer(
                    session, actor=ACTOR, company_id=company.id, customer=c, code=strategy
                )
    run_days(factory, company, D(2026, 5, 25), D(2026, 12, 31))

    spec = {s["code"]: s for s in yaml.safe_load(default_strategy_text())["strategies"]}
    with factory() as session:
        for code, _, _, strategy in CASES:
            fired = [(day, step) for _, day, step, _ in actions_of(session, company, [code])]
            settlement = SETTLEMENT_DAY if code == "RC" else None
            expected = expected_dates(spec[strategy], DUE, settlement)
            assert sorted(fired) == sorted(expected), (code, strategy)
            assert all(chinese_calendar.is_workday(day) for day, _ in fired)


@pytest.mark.usefixtures("backend")
def test_a_contractor_moves_to_the_large_sum_ladder_once_its_overdue_passes_the_threshold(
    factory: sessionmaker[Session], company: Company
) -> None:
    """Segments (分段催收) follow the overdue balance: before due the invoice is on the
    ordinary contractor ladder; once ¥800,000 is overdue the large-sum ladder takes over from
    the trigger the invoice had reached, so the lawyer letter comes at +60, not +90."""
    from huikuan.collections.strategies import default_strategy_text as text

    with_strategies(factory, company, text=text())
    with unit_of_work(factory) as session:
        c = debtor(session, company, "PL", kind="project")
        bill(session, company, c, "INV-PL", DUE, 800_000_00)
    run_days(factory, company, D(2026, 5, 25), D(2026, 9, 30))
    with factory() as session:
        fired = [(day, step) for _, day, step, _ in actions_of(session, company)]
    assert fired[:2] == [(D(2026, 6, 3), "节点到期前提醒"), (D(2026, 6, 3), "提醒销售跟进验收")]
    assert (D(2026, 6, 10), "到期通知") in fired  # the same on both ladders
    # Overdue from 06-11: the large-sum ladder's call at +3 and its lawyer letter at +60.
    assert (D(2026, 6, 15), "电话确认审批进度") in fired
    assert (D(2026, 8, 10), "律师函") in fired
