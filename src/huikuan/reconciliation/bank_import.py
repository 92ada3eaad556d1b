"""Importing a bank statement: the file read (``bank_files``), each line stored once with its
original text, in one transaction.

A line is known by its key (``bank_lines.line_keys``: the bank's reference, else the line's
facts and its occurrence in the file), unique per company in the database. Importing the same
file again, or a statement overlapping one already imported, adds only the lines not seen
before; a file with nothing new leaves no trace but its answer. Money in waits for matching
(``new``); money out is kept for the record (``outgoing``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput
from huikuan.reconciliation.bank_files import read_bank_file
from huikuan.reconciliation.bank_lines import BankLine as FileLine
from huikuan.reconciliation.bank_lines import BankStatement as FileStatement
from huikuan.reconciliation.bank_lines import line_keys
from huikuan.reconciliation.models import BankLine, BankStatement

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class BankImport:
    statement_id: int | None  # None when the file added nothing
    account: str
    format: str
    lines: int  # in the file
    added: int
    known: int  # imported before, left alone
    money_in: int  # fen of the lines added with money in
    added_ids: tuple[int, ...]


def import_bank_statement(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    data: bytes,
    filename: str,
    mapping: dict[str, str] | None = None,
    account: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BankImport:
    """Read ``data`` and store its new lines (see the module). Raises ``InvalidInput`` or
    ``ImportRejected`` (every bad row) having written nothing."""
    read = read_bank_file(data, filename, mapping=mapping, account=account)
    if not read.account:
        raise InvalidInput(
            f"{filename}：文件中没有账号，请指定入账账户 / {filename}: the file names no account: "
            "say which account it is for"
        )
    keys = line_keys(read.account, read.lines)
    known = _known(session, company_id, keys)
    fresh = [(key, line) for key, line in zip(keys, read.lines, strict=True) if key not in known]
    if not fresh:
        return BankImport(None, read.account, read.format, len(keys), 0, len(known), 0, ())
    statement = _statement(session, actor, company_id, read, filename, data, len(fresh), len(known))
    ids = _insert_lines(session, company_id, statement.id, read.account, fresh, progress)
    money_in = sum(line.amount for _, line in fresh if line.amount > 0)
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="bank_statement",
        entity_id=statement.id,
        action="import",
        after={
            "file": filename,
            "sha256": statement.sha256,
            "account": read.account,
            "lines": len(keys),
            "added": len(fresh),
            "known": len(known),
            "money_in": money_in,
        },
    )
    return BankImport(
        statement.id, read.account, read.format, len(keys), len(fresh), len(known), money_in, ids
    )


def _known(session: Session, company_id: int, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            session.scalars(
                select(BankLine.line_key).where(
                    BankLine.company_id == company_id, BankLine.line_key.in_(chunk)
                )
            )
        )
    return found


def _statement(
    session: Session,
    actor: Actor,
    company_id: int,
    read: FileStatement,
    filename: str,
    data: bytes,
    added: int,
    known: int,
) -> BankStatement:
    statement = BankStatement(
        company_id=company_id,
        account=read.account,
        statement_ref=read.statement_id[:100],
        format=read.format,
        filename=filename[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        opened_on=read.opened_on,
        closed_on=read.closed_on,
        opening_balance=read.opening_balance,
        closing_balance=read.closing_balance,
        currency=read.currency,
        lines_added=added,
        lines_known=known,
        imported_by=actor.name,
        imported_at=actor.at.replace(tzinfo=None),
    )
    session.add(statement)
    session.flush()
    return statement


def _insert_lines(
    session: Session,
    company_id: int,
    statement_id: int,
    account: str,
    fresh: list[tuple[str, FileLine]],
    progress: Callable[[int, int], None] | None,
) -> tuple[int, ...]:
    rows = [
        {
            "company_id": company_id,
            "statement_id": statement_id,
            "line_key": key,
            "account": account,
            "booked_on": line.booked_on,
            "value_on": line.value_on,
            "amount": line.amount,
            "currency": line.currency,
            "payer_name": line.payer_name[:200],
            "payer_account": line.payer_account[:60],
            "remittance": line.remittance[:1000],
            "bank_reference": line.bank_reference[:100],
            "raw": line.raw,
            "row": line.row,
            "status": "new" if line.amount > 0 else "outgoing",
            "decided_by": "",
            "reasons": "",
            "applications": 0,
        }
        for key, line in fresh
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(BankLine), rows[start : start + CHUNK])
        if progress:
            progress(min(start + CHUNK, len(rows)), len(rows))
    return tuple(
        session.scalars(
            select(BankLine.id)
            .where(BankLine.company_id == company_id, BankLine.statement_id == statement_id)
            .order_by(BankLine.id)
        )
    )
