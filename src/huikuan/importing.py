"""The three imports behind one entry point, shared by ``huikuan import`` and the import page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from huikuan.core.audit import Actor
from huikuan.core.models import Company
from huikuan.core.tabular import FieldSpec, ImportResult, Table
from huikuan.customers.imports import CUSTOMER_FIELDS, import_customers
from huikuan.ledger.imports import INVOICE_FIELDS, PAYMENT_FIELDS, import_invoices, import_payments

KINDS = ("invoices", "payments", "customers")
FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "customers": CUSTOMER_FIELDS,
    "invoices": INVOICE_FIELDS,
    "payments": PAYMENT_FIELDS,
}


@dataclass(frozen=True, slots=True)
class ImportOptions:
    as_of: dt.date  # contacts in a customer file take effect from this date
    date_format: str | None = None
    create_customers: bool = False  # invoices: create customers the file names but we lack
    progress: Callable[[int, int], None] | None = None


def run_import(
    kind: str,
    session: Session,
    *,
    actor: Actor,
    company: Company,
    table: Table,
    overrides: dict[str, str],
    options: ImportOptions,
) -> ImportResult:
    """Validate and write one file of ``kind`` in the caller's transaction."""
    if kind == "customers":
        return import_customers(
            session, actor=actor, company_id=company.id, table=table, overrides=overrides,
            as_of=options.as_of, progress=options.progress,
        )  # fmt: skip
    if kind == "invoices":
        return import_invoices(
            session, actor=actor, company_id=company.id, table=table, overrides=overrides,
            currency=company.currency, date_format=options.date_format,
            create_customers=options.create_customers, progress=options.progress,
        )  # fmt: skip
    if kind == "payments":
        return import_payments(
            session, actor=actor, company_id=company.id, table=table, overrides=overrides,
            currency=company.currency, date_format=options.date_format, progress=options.progress,
        )  # fmt: skip
    raise ValueError(f"unknown import kind {kind}")
