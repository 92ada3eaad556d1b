"""Aging is set-based: the number of SQL statements does not grow with the number of invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.ledger import service
from huikuan.ledger.aging import AgingBy, aging_report
from tests.actors import ACTOR

from .ledger_builders import customer, invoice

D = dt.date


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_invoices(session: Session, company: Company, count: int, start: int) -> None:
    customers = [
        customer(session, company, f"K{start + i:04d}", f"客户{start + i}")
        for i in range(count // 10)
    ]
    for n in range(count):
        cust = customers[n % len(customers)]
        invoice(
            session,
            company,
            cust,
            f"S-{start + n:05d}",
            D(2024, 1, 1) + dt.timedelta(days=n % 300),
            1000 + n,
        )
        if n % 3 == 0:
            service.record_payment(
                session,
                actor=ACTOR,
                company_id=company.id,
                customer=cust,
                received_on=D(2024, 6, 1) + dt.timedelta(days=n % 90),
                amount=700,
            )
    session.commit()


def statements_per_report(
    engine: Engine, session: Session, company: Company
) -> dict[tuple[str, str], int]:
    counts = {}
    for as_of, path in ((D(2025, 1, 1), "today"), (D(2024, 7, 1), "history")):
        for by in AgingBy:
            with counting(engine) as statements:
                aging_report(session, company_id=company.id, as_of=as_of, by=by)
            counts[(path, by.value)] = len(statements)
    return counts


def test_aging_issues_the_same_few_statements_for_20_or_200_invoices(
    engine: Engine, session: Session, company: Company
) -> None:
    add_invoices(session, company, 20, 0)
    small = statements_per_report(engine, session, company)
    add_invoices(session, company, 180, 1000)
    large = statements_per_report(engine, session, company)
    assert small == large
    assert min(large.values()) >= 2
    assert max(large.values()) <= 3  # the path probe, the aggregation, the monthly sales for DSO
