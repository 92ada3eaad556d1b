"""A strategy's ladder as a timeline, drawn on the server as inline SVG: each step a mark on an
axis of days from the due date, with its label on a row of its own (steps on the same day, such
as an email and an SMS on the due date, stay readable). The geometry is computed here; the
template ``strategy.html`` only writes it out."""

from __future__ import annotations

from dataclasses import dataclass

from huikuan.collections import rules
from huikuan.collections.spec import StepSpec
from huikuan.web.i18n import Lang


@dataclass(frozen=True, slots=True)
class Mark:
    """One step drawn on the timeline: its mark on the axis and its label on a row above."""

    x: int
    y: int
    label: str
    kind: str  # message, task, severe, internal
    anchor_end: bool


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    axis_y: int
    left: int
    right: int
    marks: list[Mark]
    ticks: list[tuple[int, str]]  # (x, label)
    zero_x: int


TIMELINE_WIDTH, ROW, PAD = 920, 20, 40


def step_kind(channel: str) -> str:
    try:
        ch = rules.Channel(channel)
    except ValueError:
        return "message"
    if ch in rules.SEVERE:
        return "severe"
    if ch in rules.TASKS:
        return "task"
    return "internal" if ch is rules.Channel.ALERT else "message"


def timeline(steps: list[StepSpec], lang: Lang) -> Timeline:
    """The ladder as marks along the days from the due date, one label row per step, so that
    steps on the same day stay readable. Working-day triggers are drawn as calendar days."""
    triggers = [s.trigger_days for s in steps] or [0]
    low, high = min(min(triggers), 0) - 5, max(max(triggers), 0) + 10
    span = high - low

    def x(day: int) -> int:
        return round(PAD + (day - low) * (TIMELINE_WIDTH - 2 * PAD) / span)

    axis_y = 24 + ROW * len(steps)
    unit, left, right = ("工作日", "（", "）") if lang == "zh" else (" wd", " (", ")")
    marks = [
        Mark(x(s.trigger_days), 18 + ROW * i,
             f"{s.name}{left}{s.trigger_days:+d}{unit if s.working_days else ''}{right}",
             step_kind(s.channel), x(s.trigger_days) > TIMELINE_WIDTH * 0.6)
        for i, s in enumerate(steps)
    ]  # fmt: skip
    every = 7 if span <= 70 else 15 if span <= 150 else 30
    ticks = [(x(d), f"{d:+d}" if d else "0") for d in range(low, high + 1) if d % every == 0]
    return Timeline(TIMELINE_WIDTH, axis_y + 30, axis_y, PAD, TIMELINE_WIDTH - PAD, marks, ticks, x(0))  # fmt: skip
