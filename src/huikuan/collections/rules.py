"""The escalation ladder as pure rules: which step is due for an invoice, which strategy a
customer follows, how a day's steps become one message per customer, and the weekly cap.

A *strategy* is an ordered ladder of steps. Each step has a trigger in days relative to an
anchor (the due date, or for retail chains their monthly settlement day): negative is before it.
Steps with the same trigger fire together (an email and an SMS on the due date). An invoice
remembers the trigger of the last step it went through (``LadderState.last_trigger``), not a
step number, so editing a strategy or moving a customer to another one never replays or skips
steps by accident: the invoice carries on with the first step of its ladder beyond that trigger.

Catching up: an invoice that enters the ladder late (imported 40 days overdue, or its dispute
just resolved) starts at the latest step already due, not at the pre-due reminder. But it never
jumps *into* a severe step (stop supply, agency, lawyer letter, litigation): those come one
after the other, each after the step before it was taken and its wait has passed.

Worked example, steps at -3 (pre-due email, working days), 0 (due email), +7 (SMS),
+30 (formal letter), +60 (stop supply); invoice due Friday 2026-10-09, a working day:

* 2026-09-30 (3 working days before, skipping the National Day holiday): pre-due email;
* 2026-10-09: due email; 2026-10-16: SMS; 2026-11-09 (+31, since 11-08 is a Sunday): letter;
* an invoice imported on 2026-12-20 already 72 days overdue starts at the letter, and the stop
  of supply follows only after the letter's wait.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from huikuan.core.workdays import WorkCalendar


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"  # a PDF letter: printed and posted, and emailed when we have an address
    PHONE_TASK = "phone_task"  # a call for the collector, on the worklist
    VISIT_TASK = "visit_task"
    STOP_SUPPLY = "stop_supply"  # supply stop through the credit service
    AGENCY = "agency"  # referral to a collection agency
    LAWYER_LETTER = "lawyer_letter"  # 律师函: PDF for the lawyer, and a legal referral
    LITIGATION = "litigation"  # referral to legal for litigation or arbitration
    ALERT = "alert"  # internal: a message to the salesperson and collector's group robot


# What the customer hears about: these count towards the weekly contact cap.
CUSTOMER_CONTACT = frozenset(
    {
        Channel.EMAIL,
        Channel.SMS,
        Channel.LETTER,
        Channel.PHONE_TASK,
        Channel.VISIT_TASK,
        Channel.LAWYER_LETTER,
    }
)
# Steps that change the relationship: never entered by catching up, always one at a time.
SEVERE = frozenset({Channel.STOP_SUPPLY, Channel.AGENCY, Channel.LAWYER_LETTER, Channel.LITIGATION})
# Steps that are work for a person rather than a message sent.
TASKS = frozenset({Channel.PHONE_TASK, Channel.VISIT_TASK})
# Steps that open a referral for the legal issue, with an evidence list.
REFERRALS = frozenset({Channel.AGENCY, Channel.LAWYER_LETTER, Channel.LITIGATION})

CHANNEL_LABELS_ZH = {
    Channel.EMAIL: "邮件",
    Channel.SMS: "短信",
    Channel.LETTER: "书面函件",
    Channel.PHONE_TASK: "电话任务",
    Channel.VISIT_TASK: "上门拜访",
    Channel.STOP_SUPPLY: "暂停供货",
    Channel.AGENCY: "委托催收机构",
    Channel.LAWYER_LETTER: "律师函",
    Channel.LITIGATION: "诉讼/仲裁",
    Channel.ALERT: "内部提醒",
}


class Anchor(enum.StrEnum):
    DUE = "due"  # the invoice's due date
    # The customer's monthly settlement day on or after the due date (retail chains settle
    # suppliers once a month after reconciliation; chasing between settlements is wasted).
    SETTLEMENT = "settlement"


@dataclass(frozen=True, slots=True)
class Step:
    id: int
    seq: int
    name: str
    trigger_days: int  # relative to the anchor; negative = before it
    channel: Channel
    template: str = ""
    wait_days: int = 0  # at least this many days before the next step
    anchor: Anchor = Anchor.DUE
    # Count trigger_days in working days (pre-due reminders: "3 working days before due").
    working_days: bool = False
    min_amount: int | None = None  # fen: the customer's chased balance must be at least this
    max_amount: int | None = None  # fen: ... and below this
    grades: frozenset[str] = frozenset()  # empty = any grade

    def applies_to(self, chased_balance: int, grade: str) -> bool:
        if self.min_amount is not None and chased_balance < self.min_amount:
            return False
        if self.max_amount is not None and chased_balance >= self.max_amount:
            return False
        return not self.grades or grade in self.grades


@dataclass(frozen=True, slots=True)
class Ladder:
    strategy_id: int
    code: str
    steps: tuple[Step, ...]  # ordered by (trigger_days, seq)


@dataclass(frozen=True, slots=True)
class LadderState:
    """Where an invoice stands: the trigger of its last step and when it may move on."""

    last_trigger: int
    not_before: dt.date  # the last step's date + its wait


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    due_date: dt.date
    settlement_day: int | None  # the customer's monthly settlement day (1..31), if any


def effective_due(due_date: dt.date, calendar: WorkCalendar) -> dt.date:
    """A period that ends on a non-working day ends on the next working day (Civil Code art.
    203), so an invoice due on a holiday is not overdue until the day after it."""
    return calendar.next_workday(due_date)


def settlement_anchor(due_date: dt.date, settlement_day: int) -> dt.date:
    """The first settlement day on or after ``due_date``; day 31 means the month's last day."""
    year, month = due_date.year, due_date.month
    for _ in range(2):
        day = min(settlement_day, _month_length(year, month))
        candidate = dt.date(year, month, day)
        if candidate >= due_date:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("a settlement day always falls within two months")


def _month_length(year: int, month: int) -> int:
    following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return (following - dt.timedelta(days=1)).day


def step_date(step: Step, facts: InvoiceFacts, calendar: WorkCalendar) -> dt.date:
    """The working day the step falls due for this invoice."""
    anchor = facts.due_date
    if step.anchor is Anchor.SETTLEMENT and facts.settlement_day:
        anchor = settlement_anchor(facts.due_date, facts.settlement_day)
    anchor = effective_due(anchor, calendar)
    if step.working_days:
        return calendar.add_workdays(anchor, step.trigger_days)
    return calendar.next_workday(anchor + dt.timedelta(days=step.trigger_days))


def trigger_groups(steps: Sequence[Step]) -> list[tuple[int, list[Step]]]:
    """Steps grouped by trigger, in ladder order."""
    groups: dict[int, list[Step]] = {}
    for step in sorted(steps, key=lambda s: (s.trigger_days, s.seq)):
        groups.setdefault(step.trigger_days, []).append(step)
    return list(groups.items())


def due_group(
    ladder: Ladder,
    facts: InvoiceFacts,
    state: LadderState | None,
    *,
    as_of: dt.date,
    calendar: WorkCalendar,
    chased_balance: int,
    grade: str,
) -> tuple[int, list[Step]] | None:
    """The trigger and the steps to take today for one invoice, or None.

    Only steps beyond the state's last trigger are considered; among those due by ``as_of``
    the latest is taken (catching up), never skipping into or over a severe step."""
    if state is not None and as_of < state.not_before:
        return None
    chosen: tuple[int, list[Step]] | None = None
    for trigger, steps in trigger_groups(ladder.steps):
        if state is not None and trigger <= state.last_trigger:
            continue
        if step_date(steps[0], facts, calendar) > as_of:
            break
        severe = any(step.channel in SEVERE for step in steps)
        if severe and chosen is not None:
            break  # a severe step comes only after the step before it was actually taken
        chosen = (trigger, steps)
        if severe:
            break
    if chosen is None:
        return None
    applicable = [s for s in chosen[1] if s.applies_to(chased_balance, grade)]
    # A group whose steps all fall outside the customer's conditions is passed over (the
    # state still moves on), so the invoice is not stuck before a step that never applies.
    return chosen[0], applicable


def next_check(
    ladder: Ladder, facts: InvoiceFacts, state: LadderState, calendar: WorkCalendar
) -> dt.date | None:
    """When the invoice's next step can fall due (None when the ladder is finished): lets the
    daily run read only the invoices with something to do."""
    for trigger, steps in trigger_groups(ladder.steps):
        if trigger > state.last_trigger:
            return max(step_date(steps[0], facts, calendar), state.not_before)
    return None


# --- Which strategy a customer follows --------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssignmentRule:
    """Customers of this type (or any, when empty) and grade, whose overdue balance and days
    overdue reach these thresholds, follow ``strategy_id``. Rules are tried by priority."""

    priority: int
    strategy_id: int
    customer_type: str = ""
    grades: frozenset[str] = frozenset()
    min_overdue: int = 0  # fen
    min_days_overdue: int = 0

    def matches(self, segment: Segment) -> bool:
        return (
            (not self.customer_type or self.customer_type == segment.customer_type)
            and (not self.grades or segment.grade in self.grades)
            and segment.overdue >= self.min_overdue
            and segment.days_overdue >= self.min_days_overdue
        )


@dataclass(frozen=True, slots=True)
class Segment:
    """What decides a customer's strategy (分段催收): who they are and how much, how late."""

    customer_type: str
    grade: str
    overdue: int  # fen, chased overdue balance
    days_overdue: int  # of the oldest chased overdue invoice


def assign_strategy(
    segment: Segment,
    rules: Sequence[AssignmentRule],
    *,
    override: int | None,
    default: int | None,
) -> int | None:
    """A person's choice for this customer wins, then the first matching rule, then the
    company's default strategy."""
    if override is not None:
        return override
    for rule in sorted(rules, key=lambda r: r.priority):
        if rule.matches(segment):
            return rule.strategy_id
    return default


# --- Grouping and the weekly cap ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueItem:
    customer_id: int
    invoice_id: int
    step: Step
    chased_amount: int  # fen


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One action for one customer at one step, covering all its invoices at that step."""

    customer_id: int
    step: Step
    invoice_ids: tuple[int, ...]
    amount: int  # fen

    @property
    def counts_as_contact(self) -> bool:
        return self.step.channel in CUSTOMER_CONTACT


def group_by_customer_step(items: Iterable[DueItem]) -> list[PlannedAction]:
    """One action per customer and step, listing every invoice at that step, not one per
    invoice: a customer with twelve overdue invoices gets one letter with twelve lines."""
    grouped: dict[tuple[int, int], list[DueItem]] = {}
    for item in items:
        grouped.setdefault((item.customer_id, item.step.id), []).append(item)
    actions = [
        PlannedAction(
            customer_id=customer_id,
            step=group[0].step,
            invoice_ids=tuple(sorted(i.invoice_id for i in group)),
            amount=sum(i.chased_amount for i in group),
        )
        for (customer_id, _), group in grouped.items()
    ]
    return sorted(actions, key=lambda a: (a.customer_id, -a.step.trigger_days, a.step.seq))


def within_cap(
    actions: Sequence[PlannedAction], *, contacts_this_week: int, cap: int
) -> tuple[list[PlannedAction], list[PlannedAction]]:
    """Split one customer's actions for today into (taken, deferred) under the weekly cap.

    Actions are weighed by trigger, the most advanced first, and a trigger's actions are taken
    or deferred together (an invoice moves up its ladder whole). Internal steps (alerts, supply
    stop, referrals) cost nothing; the first contact of a week is always allowed, so a step
    with more messages than the cap is not blocked for ever. Deferred invoices stay where they
    are and come up again on the next working day."""
    by_trigger: dict[int, list[PlannedAction]] = {}
    for action in actions:
        by_trigger.setdefault(action.step.trigger_days, []).append(action)
    taken: list[PlannedAction] = []
    deferred: list[PlannedAction] = []
    used = contacts_this_week
    for trigger in sorted(by_trigger, reverse=True):
        group = by_trigger[trigger]
        cost = sum(1 for a in group if a.counts_as_contact)
        if cost == 0 or used == 0 or used + cost <= cap:
            taken.extend(group)
            used += cost
        else:
            deferred.extend(group)
    return taken, deferred


def week_start(day: dt.date) -> dt.date:
    """Monday of the ISO week: the contact cap counts per calendar week."""
    return day - dt.timedelta(days=day.weekday())


# --- Quiet hours ---------------------------------------------------------------------------


def sms_send_time(
    now: dt.datetime, *, quiet_start: dt.time, quiet_end: dt.time, calendar: WorkCalendar
) -> dt.datetime:
    """The earliest moment an SMS may go out: now, unless now is within the quiet hours or on
    a non-working day, then the end of the quiet hours on the next working day."""
    today = now.date()
    if calendar.is_workday(today):
        if not _in_quiet_hours(now.time(), quiet_start, quiet_end):
            return now
        if now.time() < quiet_end:
            return dt.datetime.combine(today, quiet_end, tzinfo=now.tzinfo)
    following = calendar.next_workday(today + dt.timedelta(days=1))
    return dt.datetime.combine(following, quiet_end, tzinfo=now.tzinfo)


def _in_quiet_hours(moment: dt.time, start: dt.time, end: dt.time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # the quiet hours span midnight
