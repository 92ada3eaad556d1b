"""The company's working-day calendar, kept as data.

``chinese-calendar`` knows the State Council's holiday schedules only up to the year it was
released (2026 for 1.11); the schedule for the next year is published around November. So the
calendar lives in two tables the company owns: ``calendar_year`` (which years have an official
schedule, and where it came from) and ``calendar_day`` (the days that differ from Monday to
Friday: holidays on weekdays, weekend days worked in exchange, and named holidays on weekends).
Years the package knows are copied in on first use; a new year is imported from a CSV
(``huikuan calendar import``) or entered day by day. A year with neither falls back to Monday to
Friday, and every caller is told (``WorkCalendar.unknown_years``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from huikuan.core.audit import Actor, record_change
from huikuan.core.db import Base
from huikuan.core.errors import InvalidInput
from huikuan.core.workdays import WorkCalendar

PACKAGE_SOURCE = "chinese-calendar"


class CalendarYear(Base):
    __tablename__ = "calendar_year"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # "chinese-calendar" (seeded from the package), "import" (a file) or "manual".
    source: Mapped[str] = mapped_column(String(40))


class CalendarDay(Base):
    __tablename__ = "calendar_day"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60), default="")


@dataclass(frozen=True, slots=True)
class ScheduledDay:
    day: dt.date
    is_workday: bool
    name: str = ""


def package_years() -> range:
    """The years the installed ``chinese-calendar`` has official schedules for."""
    import chinese_calendar

    known = sorted({day.year for day in chinese_calendar.holidays})
    return range(known[0], known[-1] + 1)


def package_schedule(year: int) -> list[ScheduledDay]:
    """The days of ``year`` that differ from Monday to Friday, as the package knows them."""
    import chinese_calendar

    days = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        weekday = day.weekday() < 5
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        label = _holiday_label(name)
        if on_holiday and (weekday or label):
            days.append(ScheduledDay(day, False, label))
        elif not on_holiday and not weekday:
            days.append(ScheduledDay(day, True, f"{label}调休" if label else "调休"))
        day += dt.timedelta(days=1)
    return days


_HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _holiday_label(name: str | None) -> str:
    return _HOLIDAY_NAMES_ZH.get(name or "", name or "")


def ensure_seeded(session: Session, *, company_id: int) -> None:
    """Copy the package's schedules into the company's calendar for years not yet present.
    Cheap when already done (one query); never overwrites a year the company has."""
    have = set(
        session.scalars(select(CalendarYear.year).where(CalendarYear.company_id == company_id))
    )
    for year in package_years():
        if year in have:
            continue
        session.add(CalendarYear(company_id=company_id, year=year, source=PACKAGE_SOURCE))
        session.add_all(
            CalendarDay(company_id=company_id, day=d.day, is_workday=d.is_workday, name=d.name)
            for d in package_schedule(year)
        )
    session.flush()


def load_calendar(session: Session, *, company_id: int) -> WorkCalendar:
    ensure_seeded(session, company_id=company_id)
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name).where(
            CalendarDay.company_id == company_id
        )
    ).all()
    years = session.scalars(select(CalendarYear.year).where(CalendarYear.company_id == company_id))
    return WorkCalendar(
        exceptions={day: worked for day, worked, _ in rows},
        known_years=frozenset(years),
        names={day: name for day, _, name in rows if name},
    )


def set_year_schedule(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    year: int,
    days: Sequence[ScheduledDay],
    source: str = "import",
) -> None:
    """Replace the company's schedule for ``year`` with ``days`` (all-or-nothing, audited).

    ``days`` lists only what differs from Monday to Friday: holidays and worked weekend days."""
    problems = list(_schedule_problems(year, days))
    if problems:
        raise InvalidInput("; ".join(problems))
    before = _year_facts(session, company_id, year)
    session.execute(
        delete(CalendarDay).where(
            CalendarDay.company_id == company_id,
            CalendarDay.day >= dt.date(year, 1, 1),
            CalendarDay.day <= dt.date(year, 12, 31),
        )
    )
    session.execute(
        delete(CalendarYear).where(CalendarYear.company_id == company_id, CalendarYear.year == year)
    )
    session.add(CalendarYear(company_id=company_id, year=year, source=source))
    session.add_all(
        CalendarDay(company_id=company_id, day=d.day, is_workday=d.is_workday, name=d.name)
        for d in days
    )
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="calendar_year", entity_id=year,
        action="set", before=before, after=_year_facts(session, company_id, year),
    )  # fmt: skip


def _schedule_problems(year: int, days: Iterable[ScheduledDay]) -> Iterable[str]:
    seen: set[dt.date] = set()
    for d in days:
        if d.day.year != year:
            yield f"{d.day.isoformat()} 不在 {year} 年 / {d.day.isoformat()} is not in {year}"
        if d.day in seen:
            yield f"{d.day.isoformat()} 重复 / {d.day.isoformat()} appears twice"
        seen.add(d.day)


def _year_facts(session: Session, company_id: int, year: int) -> dict[str, object]:
    source = session.scalar(
        select(CalendarYear.source).where(
            CalendarYear.company_id == company_id, CalendarYear.year == year
        )
    )
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.is_workday).where(
            CalendarDay.company_id == company_id,
            CalendarDay.day >= dt.date(year, 1, 1),
            CalendarDay.day <= dt.date(year, 12, 31),
        )
    ).all()
    return {
        "source": source,
        "holidays": sum(1 for _, worked in rows if not worked),
        "worked_weekend_days": sum(1 for _, worked in rows if worked),
    }


def year_days(session: Session, *, company_id: int, year: int) -> list[ScheduledDay]:
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name)
        .where(
            CalendarDay.company_id == company_id,
            CalendarDay.day >= dt.date(year, 1, 1),
            CalendarDay.day <= dt.date(year, 12, 31),
        )
        .order_by(CalendarDay.day)
    )
    return [ScheduledDay(day, worked, name) for day, worked, name in rows]
