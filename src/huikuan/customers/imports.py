"""Importing customers (and their current contacts) from CSV or XLSX.

A row's customer code decides: a new code is created; a known code with the same values is
left alone; a known code with other values is updated. A contact named in the row becomes the
customer's contact for that role from the import's as-of date; the previous one is kept as
history. Every bad row is reported and nothing is written unless the whole file is clean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import ImportRejected, RowError
from huikuan.core.tabular import FieldSpec, ImportResult, Row, Table, map_columns, rows_of
from huikuan.core.uscc import normalise_uscc, uscc_problem
from huikuan.customers import rules
from huikuan.customers.models import Contact, Customer
from huikuan.customers.service import apply_contact_change, contact_facts, customer_facts

Progress = Callable[[int, int], None]
CHUNK = 500

CUSTOMER_FIELDS = (
    FieldSpec("code", True, ("customer_code", "客户编码", "客户代码", "客户编号", "编码", "代码")),
    FieldSpec("name", True, ("customer_name", "客户名称", "客户", "名称", "单位名称")),
    FieldSpec("customer_type", False, ("type", "客户类型", "类型", "类别")),
    FieldSpec("salesperson", False, ("销售员", "业务员", "销售", "负责销售")),
    FieldSpec("collector", False, ("催收员", "收款负责人", "催收")),
    FieldSpec("aliases", False, ("别名", "曾用名")),
    FieldSpec("uscc", False, ("统一社会信用代码", "信用代码", "社会信用代码", "纳税人识别号")),
    FieldSpec("tags", False, ("标签",)),
    FieldSpec("contact_name", False, ("contact", "联系人", "联系人姓名")),
    FieldSpec("contact_role", False, ("role", "联系人角色", "职务", "岗位")),
    FieldSpec("contact_phone", False, ("phone", "电话", "联系电话", "手机", "手机号")),
    FieldSpec("contact_email", False, ("email", "邮箱", "电子邮件", "邮件")),
    FieldSpec("contact_is_decision_maker", False, ("decision_maker", "决策人", "是否决策人")),
)
_YES = {"1", "y", "yes", "true", "是", "√", "x"}
_NO = {"", "0", "n", "no", "false", "否"}


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    row: int
    code: str
    name: str
    customer_type: str
    salesperson: str
    collector: str
    aliases: str
    tags: str
    contact: rules.ContactFacts | None
    uscc: str = ""


def parse_customer_row(row: Row) -> CustomerRecord | list[RowError]:
    errors: list[RowError] = []
    code, name = row.text("code"), row.text("name")
    if not code:
        errors.append(
            RowError(row.number, row.column("code"), "客户编码为空 / customer code is empty")
        )
    elif len(code) > 60:
        errors.append(
            RowError(row.number, row.column("code"), "客户编码超过 60 字 / code longer than 60")
        )
    if not name:
        errors.append(
            RowError(row.number, row.column("name"), "客户名称为空 / customer name is empty")
        )
    ctype = rules.read_customer_type(row.text("customer_type"))
    if ctype is None:
        errors.append(
            RowError(
                row.number,
                row.column("customer_type"),
                f"未知客户类型 '{row.text('customer_type')}'（工程项目型/厂商型/厂家对厂家/商场超市/其他）/ "
                f"unknown customer type '{row.text('customer_type')}' (project/dealer/industrial/retail_chain/other)",
            )
        )
    contact = _contact(row, errors)
    uscc = normalise_uscc(row.text("uscc"))
    if uscc and (problem := uscc_problem(uscc)):
        errors.append(RowError(row.number, row.column("uscc"), problem))
    if errors:
        return errors
    assert ctype is not None
    return CustomerRecord(
        row.number,
        code,
        name,
        ctype.value,
        row.text("salesperson"),
        row.text("collector"),
        row.text("aliases"),
        row.text("tags"),
        contact,
        uscc,
    )


def _contact(row: Row, errors: list[RowError]) -> rules.ContactFacts | None:
    name = row.text("contact_name")
    email = row.text("contact_email")
    flag = row.text("contact_is_decision_maker").lower()
    if email and "@" not in email:
        errors.append(
            RowError(
                row.number,
                row.column("contact_email"),
                f"邮箱格式不对 '{email}' / not an email address",
            )
        )
    if flag not in _YES | _NO:
        errors.append(
            RowError(
                row.number,
                row.column("contact_is_decision_maker"),
                f"应为 是/否，得到 '{flag}' / expected yes or no",
            )
        )
    if not name:
        if row.text("contact_phone") or email:
            errors.append(
                RowError(
                    row.number,
                    row.column("contact_name"),
                    "有电话或邮箱但没有联系人姓名 / phone or email without a contact name",
                )
            )
        return None
    return rules.ContactFacts(
        name, row.text("contact_role"), row.text("contact_phone"), email, flag in _YES
    )


def validate_customers(table: Table, overrides: dict[str, str]) -> list[CustomerRecord]:
    mapping = map_columns(table.headers, CUSTOMER_FIELDS, overrides)
    records: list[CustomerRecord] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows_of(table, mapping):
        parsed = parse_customer_row(row)
        if isinstance(parsed, list):
            errors.extend(parsed)
            continue
        if parsed.code in seen:
            errors.append(
                RowError(
                    row.number,
                    row.column("code"),
                    f"客户编码 {parsed.code} 与第 {seen[parsed.code]} 行重复 / duplicate of row {seen[parsed.code]}",
                )
            )
            continue
        seen[parsed.code] = row.number
        records.append(parsed)
    if errors:
        raise ImportRejected(errors)
    return records


def import_customers(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    table: Table,
    overrides: dict[str, str],
    as_of: dt.date,
    progress: Progress | None = None,
) -> ImportResult:
    records = validate_customers(table, overrides)
    result = ImportResult()
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        _write_chunk(session, actor, company_id, chunk, as_of, result)
        if progress:
            progress(start + len(chunk), len(records))
    record_change(
        session, actor=actor, company_id=company_id, entity="import", entity_id="customers",
        action="import", after={"file_sha256": table.sha256, "created": result.created,
                                "updated": result.updated, "unchanged": result.unchanged},
    )  # fmt: skip
    return result


_FIELDS = ("name", "uscc", "customer_type", "salesperson", "collector", "aliases", "tags")


def _write_chunk(
    session: Session,
    actor: Actor,
    company_id: int,
    chunk: list[CustomerRecord],
    as_of: dt.date,
    result: ImportResult,
) -> None:
    existing = {
        c.code: c
        for c in session.scalars(
            select(Customer).where(
                Customer.company_id == company_id, Customer.code.in_([r.code for r in chunk])
            )
        )
    }
    customers = []
    for record in chunk:
        customer = existing.get(record.code)
        if customer is None:
            customer = Customer(
                company_id=company_id, code=record.code, **{f: getattr(record, f) for f in _FIELDS}
            )
            session.add(customer)
            result.created += 1
        elif any(getattr(customer, f) != getattr(record, f) for f in _FIELDS):
            before = customer_facts(customer)
            for f in _FIELDS:
                setattr(customer, f, getattr(record, f))
            result.updated += 1
            record_change(
                session, actor=actor, company_id=company_id, entity="customer", entity_id=customer.code,
                action="update", before=before, after=customer_facts(customer),
            )  # fmt: skip
        else:
            result.unchanged += 1
        customers.append(customer)
    session.flush()
    _write_contacts(session, actor, list(zip(chunk, customers, strict=True)), as_of)


def _write_contacts(
    session: Session, actor: Actor, pairs: list[tuple[CustomerRecord, Customer]], as_of: dt.date
) -> None:
    with_contact = [(r, c) for r, c in pairs if r.contact is not None]
    if not with_contact:
        return
    current: dict[int, list[Contact]] = {}
    for contact in session.scalars(
        select(Contact).where(
            Contact.customer_id.in_([c.id for _, c in with_contact]),
            Contact.valid_from <= as_of,
            (Contact.valid_to.is_(None)) | (Contact.valid_to >= as_of),
        )
    ):
        current.setdefault(contact.customer_id, []).append(contact)
    for record, customer in with_contact:
        assert record.contact is not None
        contacts = current.get(customer.id, [])
        change = rules.contact_change([contact_facts(c) for c in contacts], record.contact)
        apply_contact_change(
            session,
            actor=actor,
            customer=customer,
            change=change,
            contacts={c.id: c for c in contacts},
            as_of=as_of,
        )
