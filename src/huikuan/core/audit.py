"""The audit trail: who changed what, when, from where, with the values before and after.

Append-only and hash-chained per company: each record carries the hash of the one before it,
so ``huikuan audit verify`` detects any record edited or deleted after the fact. Services write
audit records in the same transaction as the change they describe.

The clock is not read here: the caller's :class:`Actor` carries the moment of the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import DateTime, ForeignKey, Index, String, Table, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from huikuan.core.db import Base, IdType

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, from where, and when: a user name (or ``cli:<name>``) and an address."""

    name: str
    source: str
    at: dt.datetime

    def same_person(self, name: str) -> bool:
        """Whether ``name`` (who made an earlier change) is this actor, by whichever door each
        came in: ``li`` on the web and ``cli:li`` on the command line are one person."""
        return self.name.removeprefix("cli:") == name.removeprefix("cli:")


class AuditRecord(Base):
    __tablename__ = "audit_record"
    __table_args__ = (Index("ix_audit_record_entity", "company_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    seq: Mapped[int] = mapped_column()  # 1, 2, 3 ... within the company's chain
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[str] = mapped_column(Text)  # canonical JSON
    after: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The end of each company's chain. Its row is locked while a record is appended, so two
    concurrent writers on PostgreSQL cannot both link to the same predecessor."""

    __tablename__ = "audit_head"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def canonical(values: dict[str, Any] | None) -> str:
    """JSON with sorted keys and dates as ISO text: the same values always hash the same."""
    return json.dumps(
        values or {}, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")
    )


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = prev_hash + canonical(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_HASHED = ("company_id", "seq", "at", "actor", "source", "entity", "entity_id", "action", "before", "after")  # fmt: skip


def _fields(record: AuditRecord) -> dict[str, Any]:
    return _hashed({key: getattr(record, key) for key in _HASHED})


def _hashed(values: dict[str, Any]) -> dict[str, Any]:
    """What a record's hash covers: its columns but the id and the hashes, the moment as ISO
    text to the microsecond."""
    fields = {key: values[key] for key in _HASHED}
    fields["at"] = fields["at"].isoformat(timespec="microseconds")
    return fields


def record_change(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    entity: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the company's chain, in the caller's transaction."""
    head = session.scalar(
        select(AuditHead).where(AuditHead.company_id == company_id).with_for_update()
    )
    if head is None:
        head = AuditHead(company_id=company_id, seq=0, last_hash=GENESIS)
        session.add(head)
    record = AuditRecord(
        company_id=company_id,
        seq=head.seq + 1,
        at=actor.at.replace(tzinfo=None),
        actor=actor.name,
        source=actor.source,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=canonical(before),
        after=canonical(after),
        prev_hash=head.last_hash,
    )
    record.hash = record_hash(record.prev_hash, _fields(record))
    head.seq, head.last_hash = record.seq, record.hash
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True, slots=True)
class Change:
    """One change to record with :func:`record_changes`."""

    entity: str
    entity_id: object
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def record_changes(
    session: Session, *, actor: Actor, company_id: int, changes: Sequence[Change]
) -> None:
    """Append records for many changes at once, in order, in the caller's transaction: the same
    records and chain as :func:`record_change` called once per change, with the head locked
    once and the records written in one insert (a batch of thousands of charges)."""
    if not changes:
        return
    head = session.scalar(
        select(AuditHead).where(AuditHead.company_id == company_id).with_for_update()
    )
    if head is None:
        head = AuditHead(company_id=company_id, seq=0, last_hash=GENESIS)
        session.add(head)
    seq, last_hash = head.seq, head.last_hash
    rows: list[dict[str, Any]] = []
    for change in changes:
        seq += 1
        values: dict[str, Any] = {
            "company_id": company_id,
            "seq": seq,
            "at": actor.at.replace(tzinfo=None),
            "actor": actor.name,
            "source": actor.source,
            "entity": change.entity,
            "entity_id": str(change.entity_id),
            "action": change.action,
            "before": canonical(change.before),
            "after": canonical(change.after),
            "prev_hash": last_hash,
        }
        last_hash = record_hash(last_hash, _hashed(values))
        rows.append(values | {"hash": last_hash})
    head.seq, head.last_hash = seq, last_hash
    session.flush()
    session.execute(insert(cast(Table, AuditRecord.__table__)), rows)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(session: Session, *, company_id: int) -> list[ChainBreak]:
    """Every place where the company's chain is broken: a record whose hash does not match
    its content (edited), a gap in the sequence or a wrong link (deleted or inserted), or a
    head that does not point at the last record (records cut off at the end)."""
    breaks: list[ChainBreak] = []
    expected_prev, expected_seq = GENESIS, 1
    for record in _chain(session, company_id):
        if record.seq != expected_seq:
            breaks.append(
                ChainBreak(
                    record.seq,
                    f"缺少记录 {expected_seq}…{record.seq - 1} / records missing before {record.seq}",
                )
            )
        if record.prev_hash != expected_prev:
            breaks.append(
                ChainBreak(
                    record.seq, "与前一条记录的链接不符 / link to the previous record broken"
                )
            )
        if record_hash(record.prev_hash, _fields(record)) != record.hash:
            breaks.append(ChainBreak(record.seq, "记录内容被修改 / record content was changed"))
        expected_prev, expected_seq = record.hash, record.seq + 1
    head = session.get(AuditHead, company_id)
    if head is not None and (head.seq, head.last_hash) != (expected_seq - 1, expected_prev):
        breaks.append(ChainBreak(head.seq, "链尾记录缺失 / records missing at the end"))
    return breaks


def _chain(session: Session, company_id: int) -> Iterator[AuditRecord]:
    query = (
        select(AuditRecord).where(AuditRecord.company_id == company_id).order_by(AuditRecord.seq)
    )
    yield from session.scalars(query.execution_options(yield_per=5000))


def history(
    session: Session, *, company_id: int, entity: str, entity_id: object
) -> list[AuditRecord]:
    """What happened to one entity, oldest first, for its page."""
    return list(
        session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.company_id == company_id,
                AuditRecord.entity == entity,
                AuditRecord.entity_id == str(entity_id),
            )
            .order_by(AuditRecord.seq)
        )
    )
