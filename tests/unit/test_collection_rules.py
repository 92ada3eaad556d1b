"""The escalation ladder's pure rules: which step is due, catching up, severe steps one at a
time, holiday shifts, settlement anchors, the weekly cap, quiet hours and late fees."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from hypothesis import given
from hypothesis import strategies as st

from huikuan.collections import rules
from huikuan.collections.rules import Anchor, Channel, Ladder, LadderState, Step
from huikuan.core.calendar import package_schedule
from huikuan.core.workdays import WorkCalendar

D = dt.date


def calendar_2026() -> WorkCalendar:
    days = package_schedule(2026)
    return WorkCalendar(
        exceptions={d.day: d.is_workday for d in days},
        known_years=frozenset({2026}),
        names={d.day: d.name for d in days},
    )


CAL = calendar_2026()

LADDER = Ladder(
    1,
    "dealer",
    (
        Step(1, 1, "到期前提醒", -3, Channel.EMAIL, "pre_due_reminder", working_days=True),
        Step(2, 2, "到期通知", 0, Channel.EMAIL, "due_notice"),
        Step(3, 3, "到期短信", 0, Channel.SMS, "sms_reminder", wait_days=3),
        Step(4, 4, "电话", 15, Channel.PHONE_TASK, wait_days=7),
        Step(5, 5, "催款函", 30, Channel.LETTER, "dunning_letter", wait_days=10),
        Step(6, 6, "暂停供货", 45, Channel.STOP_SUPPLY, wait_days=10),
        Step(7, 7, "律师函", 60, Channel.LAWYER_LETTER, "lawyer_letter"),
    ),
)


def due(
    as_of: dt.date, due_date: dt.date, state: LadderState | None = None, balance: int = 100_00
) -> tuple[int, list[str]] | None:
    found = rules.due_group(
        LADDER,
        rules.InvoiceFacts(due_date, None),
        state,
        as_of=as_of,
        calendar=CAL,
        chased_balance=balance,
        grade="BB",
    )
    return None if found is None else (found[0], [s.name for s in found[1]])


def test_workdays_follow_the_official_schedule_including_worked_weekends() -> None:
    for day in (D(2026, 1, 1) + dt.timedelta(days=n) for n in range(365)):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
    assert CAL.is_workday(D(2026, 10, 10))  # a Saturday worked for National Day
    assert CAL.holiday_name(D(2026, 10, 2)) == "国庆节"


def test_pre_due_reminder_counts_working_days_back_over_the_national_day_holiday() -> None:
    # Due Friday 2026-10-09: 3 working days back are 10-08, 09-30 and 09-29.
    assert due(D(2026, 9, 28), D(2026, 10, 9)) is None
    assert due(D(2026, 9, 29), D(2026, 10, 9)) == (-3, ["到期前提醒"])


def test_a_due_date_on_a_holiday_is_not_overdue_until_the_next_working_day() -> None:
    # Due 2026-10-01 (National Day): the period ends on 10-08, the first working day.
    assert rules.effective_due(D(2026, 10, 1), CAL) == D(2026, 10, 8)
    state = LadderState(-3, D(2026, 9, 28))
    assert due(D(2026, 10, 7), D(2026, 10, 1), state) is None
    assert due(D(2026, 10, 8), D(2026, 10, 1), state) == (0, ["到期通知", "到期短信"])


def test_a_step_falling_on_a_weekend_moves_to_monday() -> None:
    # Due 2026-11-09 (Mon) + 15 days = Tuesday 11-24; + 30 = Wednesday 12-09; due 11-06 + 15
    # = Saturday 11-21, so the call is on Monday 11-23.
    state = LadderState(0, D(2026, 11, 9))
    assert due(D(2026, 11, 20), D(2026, 11, 6), state) is None
    assert due(D(2026, 11, 23), D(2026, 11, 6), state) == (15, ["电话"])


def test_an_invoice_entering_late_starts_at_the_latest_step_due_but_not_at_a_severe_one() -> None:
    # 50 days overdue on entry: the letter (+30) is due and so is the supply stop (+45), but
    # the supply stop only follows a step actually taken.
    assert due(D(2026, 12, 1), D(2026, 10, 12)) == (30, ["催款函"])


def test_severe_steps_come_one_at_a_time_after_each_wait() -> None:
    after_letter = LadderState(30, D(2026, 12, 11))  # letter on 12-01 with a 10-day wait
    assert due(D(2026, 12, 10), D(2026, 10, 12), after_letter) is None
    assert due(D(2026, 12, 11), D(2026, 10, 12), after_letter) == (45, ["暂停供货"])
    after_stop = LadderState(45, D(2026, 12, 21))
    # The lawyer letter (+60) is due too, but never in the same run as the stop before it.
    assert due(D(2026, 12, 21), D(2026, 10, 12), after_stop) == (60, ["律师函"])


def test_the_ladder_ends_after_its_last_step() -> None:
    finished = LadderState(60, D(2026, 12, 1))
    assert due(D(2026, 12, 31), D(2026, 1, 5), finished) is None
    assert rules.next_check(LADDER, rules.InvoiceFacts(D(2026, 1, 5), None), finished, CAL) is None


def test_next_check_is_the_next_step_date_or_the_end_of_the_wait() -> None:
    facts = rules.InvoiceFacts(D(2026, 11, 9), None)
    # After the due notice (wait 3): the call at +15 = 11-24.
    assert rules.next_check(LADDER, facts, LadderState(0, D(2026, 11, 12)), CAL) == D(2026, 11, 24)
    # A wait that ends after the next step's date holds it back.
    assert rules.next_check(LADDER, facts, LadderState(0, D(2026, 12, 1)), CAL) == D(2026, 12, 1)


def test_steps_outside_the_amount_band_or_grades_are_passed_over() -> None:
    ladder = Ladder(
        2,
        "x",
        (
            Step(1, 1, "大额电话", 10, Channel.PHONE_TASK, min_amount=1_000_000_00),
            Step(2, 2, "邮件", 10, Channel.EMAIL, "overdue_reminder", grades=frozenset({"C"})),
        ),
    )
    found = rules.due_group(
        ladder,
        rules.InvoiceFacts(D(2026, 11, 2), None),
        None,
        as_of=D(2026, 11, 12),
        calendar=CAL,
        chased_balance=5_000_00,
        grade="C",
    )
    assert found is not None and [s.name for s in found[1]] == ["邮件"]


def test_retail_chains_are_chased_from_their_settlement_day() -> None:
    assert rules.settlement_anchor(D(2026, 11, 3), 25) == D(2026, 11, 25)
    assert rules.settlement_anchor(D(2026, 11, 26), 25) == D(2026, 12, 25)
    assert rules.settlement_anchor(D(2026, 2, 10), 31) == D(2026, 2, 28)  # month's last day
    step = Step(1, 1, "结算日电话", 1, Channel.PHONE_TASK, anchor=Anchor.SETTLEMENT)
    # Settlement day 25 after a 11-03 due date: 11-25 (Wed) + 1 = 11-26.
    assert rules.step_date(step, rules.InvoiceFacts(D(2026, 11, 3), 25), CAL) == D(2026, 11, 26)
    # Without a settlement day the step falls back to the due date.
    assert rules.step_date(step, rules.InvoiceFacts(D(2026, 11, 3), None), CAL) == D(2026, 11, 4)


def _action(customer: int, step: Step, invoices: tuple[int, ...]) -> rules.PlannedAction:
    return rules.PlannedAction(customer, step, invoices, 100 * len(invoices))


def test_one_action_per_customer_and_step_lists_all_its_invoices() -> None:
    email = LADDER.steps[1]
    items = [rules.DueItem(7, invoice, email, 1_00) for invoice in (30, 10, 20)]
    items.append(rules.DueItem(8, 40, email, 5_00))
    actions = rules.group_by_customer_step(items)
    assert [(a.customer_id, a.invoice_ids, a.amount) for a in actions] == [
        (7, (10, 20, 30), 3_00),
        (8, (40,), 5_00),
    ]


def test_the_weekly_cap_takes_the_most_advanced_step_and_defers_the_rest() -> None:
    letter, call, notice, sms = LADDER.steps[4], LADDER.steps[3], LADDER.steps[1], LADDER.steps[2]
    actions = [_action(1, notice, (1,)), _action(1, sms, (1,)), _action(1, letter, (2,))]
    taken, deferred = rules.within_cap(actions, contacts_this_week=0, cap=2)
    assert [a.step.name for a in taken] == ["催款函"]  # the due notice and SMS go together
    assert {a.step.name for a in deferred} == {"到期通知", "到期短信"}
    taken, deferred = rules.within_cap([_action(1, call, (3,))], contacts_this_week=2, cap=2)
    assert taken == [] and len(deferred) == 1
    # The supply stop is not a contact: never held back by the cap.
    stop = _action(1, LADDER.steps[5], (4,))
    assert rules.within_cap([stop], contacts_this_week=5, cap=2) == ([stop], [])
    # The first contact of a week goes even when its step has more messages than the cap.
    taken, _ = rules.within_cap(actions[:2], contacts_this_week=0, cap=1)
    assert len(taken) == 2


def test_sms_waits_for_the_end_of_quiet_hours_on_a_working_day() -> None:
    quiet = {"quiet_start": dt.time(21), "quiet_end": dt.time(8, 30), "calendar": CAL}
    at = dt.datetime
    assert rules.sms_send_time(at(2026, 12, 2, 10), **quiet) == at(2026, 12, 2, 10)
    assert rules.sms_send_time(at(2026, 12, 2, 7), **quiet) == at(2026, 12, 2, 8, 30)
    assert rules.sms_send_time(at(2026, 12, 2, 22), **quiet) == at(2026, 12, 3, 8, 30)
    # Friday night before the National Day week: the next working day is 10-08.
    assert rules.sms_send_time(at(2026, 9, 30, 21, 5), **quiet) == at(2026, 10, 8, 8, 30)
    # A worked Saturday is a working day.
    assert rules.sms_send_time(at(2026, 10, 10, 9), **quiet) == at(2026, 10, 10, 9)


def test_assignment_prefers_a_persons_choice_then_rules_by_priority_then_the_default() -> None:
    segment = rules.Segment("project", "BB", overdue=600_000_00, days_overdue=20)
    rule_set = [
        rules.AssignmentRule(30, 3, customer_type="project"),
        rules.AssignmentRule(20, 2, customer_type="project", min_overdue=500_000_00),
        rules.AssignmentRule(10, 1, grades=frozenset({"C"})),
    ]
    assert rules.assign_strategy(segment, rule_set, override=None, default=9) == 2
    small = rules.Segment("project", "BB", overdue=1_00, days_overdue=20)
    assert rules.assign_strategy(small, rule_set, override=None, default=9) == 3
    bad = rules.Segment("dealer", "C", overdue=1_00, days_overdue=1)
    assert rules.assign_strategy(bad, rule_set, override=None, default=9) == 1
    other = rules.Segment("dealer", "A", overdue=1_00, days_overdue=1)
    assert rules.assign_strategy(other, rule_set, override=None, default=9) == 9
    assert rules.assign_strategy(other, rule_set, override=5, default=9) == 5


@given(st.dates(D(2026, 2, 1), D(2026, 11, 15)), st.integers(-25, 25))
def test_adding_working_days_lands_on_a_working_day_the_right_count_away(
    start: dt.date, count: int
) -> None:
    end = CAL.add_workdays(start, count)
    assert chinese_calendar.is_workday(end) or end.year != 2026
    if count > 0:
        between = [start + dt.timedelta(days=n) for n in range(1, (end - start).days + 1)]
        assert sum(CAL.is_workday(d) for d in between) == count
    if count < 0:
        between = [end + dt.timedelta(days=n) for n in range(0, (start - end).days)]
        assert sum(CAL.is_workday(d) for d in between) == -count


def test_a_year_without_a_schedule_falls_back_to_monday_to_friday_and_says_so() -> None:
    assert CAL.unknown_years([D(2026, 12, 31), D(2027, 1, 1)]) == [2027]
    assert not CAL.is_workday(D(2027, 1, 2))  # Saturday
    assert CAL.is_workday(D(2027, 1, 1))  # New Year's Day unknown until imported
