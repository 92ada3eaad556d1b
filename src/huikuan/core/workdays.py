"""Working days in China: statutory holidays and the weekend days worked in exchange (调休).

Pure rules over a :class:`WorkCalendar`, which the company owns as data
(``core/calendar.py`` stores it, seeded from the ``chinese-calendar`` package for the years the
package knows and importable for new years). A year with no schedule falls back to Monday to
Friday, and :meth:`WorkCalendar.unknown_years` says so, so that callers can warn loudly.

Worked example, National Day 2026 (holiday 10-01 … 10-07, Sunday 09-20 and Saturday 10-10 worked):

>>> cal = WorkCalendar(exceptions={dt.date(2026, 10, d): False for d in range(1, 8)}
...     | {dt.date(2026, 9, 20): True, dt.date(2026, 10, 10): True}, known_years=frozenset({2026}))
>>> cal.next_workday(dt.date(2026, 10, 1))
datetime.date(2026, 10, 8)
>>> cal.add_workdays(dt.date(2026, 10, 8), -2)   # 2 working days before: back over the holiday
datetime.date(2026, 9, 29)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Days that differ from the Monday-to-Friday rule (True = worked, False = off), the
    holidays' names, and the years whose official schedule is loaded."""

    exceptions: Mapping[dt.date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()
    names: Mapping[dt.date, str] = field(default_factory=dict)

    def is_workday(self, day: dt.date) -> bool:
        worked = self.exceptions.get(day)
        return worked if worked is not None else day.weekday() < 5

    def holiday_name(self, day: dt.date) -> str:
        """The holiday's name when ``day`` is off because of a holiday, else ''."""
        return "" if self.is_workday(day) else self.names.get(day, "")

    def next_workday(self, day: dt.date) -> dt.date:
        """``day`` itself if worked, else the first working day after it."""
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def add_workdays(self, day: dt.date, count: int) -> dt.date:
        """Move ``count`` working days from ``day`` (backwards when negative); the result is
        always a working day. ``add_workdays(d, 0)`` is ``next_workday(d)``."""
        step = ONE_DAY if count >= 0 else -ONE_DAY
        remaining = abs(count)
        if remaining == 0:
            return self.next_workday(day)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def unknown_years(self, days: Iterable[dt.date]) -> list[int]:
        """The years among ``days`` with no official schedule (Monday to Friday assumed)."""
        return sorted({day.year for day in days} - self.known_years)


def monday_to_friday() -> WorkCalendar:
    """A calendar that knows no holidays: what is assumed for a year with no schedule."""
    return WorkCalendar()
