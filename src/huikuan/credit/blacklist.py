"""The credit blacklist (不良客户名单): list and unlist bad customers, check a customer against
the list, and share the list with partner companies as CSV.

An entry is never deleted: removal sets ``removed_on``/``removed_by`` and the entry stops
matching, so who was listed when, and why, can always be shown. Every change is audited as
entity ``blacklist`` in the caller's transaction.

Blacklists are small (hundreds of entries per company, not hundreds of thousands): matching
loads the company's active entries (four short columns) and compares them in Python, because
name normalisation cannot be done by an index. Should lists grow large, keep a normalised
name column and an index on it.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.dates import DateError, format_date, parse_date
from huikuan.core.errors import Conflict, ImportRejected, InvalidInput, NotFound, RowError
from huikuan.core.tabular import FieldSpec, ImportResult, Row, Table, map_columns, rows_of
from huikuan.core.uscc import normalise_uscc, uscc_problem
from huikuan.credit import blacklist_rules as rules
from huikuan.credit.blacklist_rules import BlacklistMatch
from huikuan.credit.models import BlacklistEntry
from huikuan.customers.models import Customer

EXPORT_HEADERS = ("name", "aliases", "uscc", "reason", "evidence", "source", "listed_on")
BLACKLIST_FIELDS = (
    FieldSpec("name", True, ("名称", "客户名称")),
    FieldSpec("aliases", False, ("别名",)),
    FieldSpec("uscc", False, ("统一社会信用代码", "信用代码")),
    FieldSpec("reason", True, ("原因", "列入原因")),
    FieldSpec("evidence", False, ("证据", "证据说明")),
    FieldSpec("source", False, ("来源",)),
    FieldSpec("listed_on", False, ("列入日期",)),
)
# Column widths of BlacklistEntry; longer text is refused rather than cut.
LIMITS = {"name": 200, "aliases": 1000, "reason": 1000, "evidence": 2000, "source": 200}
LABELS = {
    "name": "名称 / name",
    "aliases": "别名 / aliases",
    "reason": "原因 / reason",
    "evidence": "证据 / evidence",
    "source": "来源 / source",
}


@dataclass(frozen=True, slots=True)
class Listing:
    """What is written on one entry, checked: the input of an add or one imported row."""

    name: str
    reason: str
    uscc: str = ""
    aliases: str = ""  # "|"-separated
    evidence: str = ""
    source: str = ""


def listing_problems(listing: Listing) -> dict[str, str]:
    """Every problem of a listing, by field, as "中文 / English"; empty when it is fine."""
    problems = {}
    for field, limit in LIMITS.items():
        if len(getattr(listing, field)) > limit:
            problems[field] = f"{LABELS[field]} 超过 {limit} 字 / longer than {limit} characters"
    if not listing.name:
        problems["name"] = "名称为空 / name is empty"
    if not listing.reason:
        problems["reason"] = "列入原因为空 / reason is empty"
    bad_code = uscc_problem(listing.uscc) if listing.uscc else None
    if bad_code:
        problems["uscc"] = bad_code
    return problems


def make_listing(
    *,
    name: str,
    reason: str,
    uscc: str = "",
    aliases: Iterable[str] = (),
    evidence: str = "",
    source: str = "",
) -> Listing:
    """Trimmed text, the code normalised, aliases split on "|" and joined again."""
    return Listing(
        name=name.strip(),
        reason=reason.strip(),
        uscc=normalise_uscc(uscc),
        aliases="|".join(rules.split_aliases("|".join(aliases))),
        evidence=evidence.strip(),
        source=source.strip(),
    )


def entry_facts(entry: BlacklistEntry) -> dict[str, object]:
    """The audited facts of an entry."""
    return {
        "name": entry.name,
        "aliases": entry.aliases,
        "uscc": entry.uscc,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "source": entry.source,
        "listed_on": entry.listed_on,
        "listed_by": entry.listed_by,
        "removed_on": entry.removed_on,
        "removed_by": entry.removed_by,
    }


def add_to_blacklist(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    name: str,
    reason: str,
    uscc: str = "",
    aliases: Sequence[str] = (),
    evidence: str = "",
    source: str = "",
    listed_on: dt.date,
) -> BlacklistEntry:
    """List a bad customer. Refused if the name or reason is missing, the code is not a valid
    unified social credit code, or an active entry has the same code or normalised name."""
    listing = make_listing(
        name=name, reason=reason, uscc=uscc, aliases=aliases, evidence=evidence, source=source
    )
    problems = listing_problems(listing)
    if problems:
        raise InvalidInput("; ".join(problems.values()))
    duplicate = _duplicate_of(listing, _index(active_entries(session, company_id=company_id)))
    if duplicate is not None:
        raise Conflict(
            f"名单中已有 {duplicate.name}（编号 {duplicate.id}）/ "
            f"already listed as {duplicate.name} (entry {duplicate.id})"
        )
    return _create(session, actor=actor, company_id=company_id, listing=listing, on=listed_on)


def listing_keys(listing: Listing) -> list[tuple[str, str]]:
    """(field, key) pairs under which two listings are the same party: the code if there is
    one, and the normalised name."""
    keys = [("name", "name:" + rules.normalise_name(listing.name))]
    if listing.uscc:
        keys.insert(0, ("uscc", "uscc:" + listing.uscc))
    return keys


def _index(entries: Iterable[BlacklistEntry]) -> dict[str, BlacklistEntry]:
    index: dict[str, BlacklistEntry] = {}
    for entry in entries:
        for _, key in listing_keys(_listing_of(entry)):
            index.setdefault(key, entry)
    return index


def _listing_of(entry: BlacklistEntry) -> Listing:
    return Listing(
        entry.name, entry.reason, entry.uscc, entry.aliases, entry.evidence, entry.source
    )


def _duplicate_of(listing: Listing, index: dict[str, BlacklistEntry]) -> BlacklistEntry | None:
    return next((index[key] for _, key in listing_keys(listing) if key in index), None)


def _create(
    session: Session, *, actor: Actor, company_id: int, listing: Listing, on: dt.date
) -> BlacklistEntry:
    entry = BlacklistEntry(
        company_id=company_id,
        name=listing.name,
        aliases=listing.aliases,
        uscc=listing.uscc,
        reason=listing.reason,
        evidence=listing.evidence,
        source=listing.source,
        listed_on=on,
        listed_by=actor.name,
    )
    session.add(entry)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="blacklist", entity_id=entry.id,
        action="add", after=entry_facts(entry),
    )  # fmt: skip
    return entry


def remove_from_blacklist(
    session: Session, *, actor: Actor, company_id: int, entry_id: int, removed_on: dt.date
) -> BlacklistEntry:
    """Take an entry off the list: it is kept, with who removed it and when, and stops
    matching. Refused if it is already removed or ``removed_on`` is before it was listed."""
    entry = session.scalar(
        select(BlacklistEntry)
        .where(BlacklistEntry.company_id == company_id, BlacklistEntry.id == entry_id)
        .with_for_update()
    )
    if entry is None:
        raise NotFound(f"名单中没有编号 {entry_id} / no blacklist entry {entry_id}")
    if entry.removed_on is not None:
        raise Conflict(
            f"编号 {entry_id} 已于 {format_date(entry.removed_on)} 移出 / "
            f"entry {entry_id} was already removed on {format_date(entry.removed_on)}"
        )
    if removed_on < entry.listed_on:
        raise InvalidInput(
            f"移出日期早于列入日期 {format_date(entry.listed_on)} / "
            f"removal date before the listing date {format_date(entry.listed_on)}"
        )
    before = entry_facts(entry)
    entry.removed_on, entry.removed_by = removed_on, actor.name
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="blacklist", entity_id=entry.id,
        action="remove", before=before, after=entry_facts(entry),
    )  # fmt: skip
    return entry


def active_entries(session: Session, *, company_id: int) -> list[BlacklistEntry]:
    """The entries in force (not removed), oldest first."""
    return list(
        session.scalars(
            select(BlacklistEntry)
            .where(BlacklistEntry.company_id == company_id, BlacklistEntry.removed_on.is_(None))
            .order_by(BlacklistEntry.id)
        )
    )


def blacklist_matches(
    session: Session, *, company_id: int, customer: Customer, uscc: str = ""
) -> list[BlacklistMatch]:
    """The active entries a customer matches, by unified social credit code (the customer's
    own, or ``uscc`` when checking a prospect's code), name or alias. One query over the company's active entries, reading only the four
    columns matching needs (see the module docstring for why the whole list is read)."""
    query = select(
        BlacklistEntry.id, BlacklistEntry.name, BlacklistEntry.aliases, BlacklistEntry.uscc
    ).where(BlacklistEntry.company_id == company_id, BlacklistEntry.removed_on.is_(None))
    parties = [
        rules.ListedParty(key, name, rules.split_aliases(aliases), code)
        for key, name, aliases, code in session.execute(query.order_by(BlacklistEntry.id))
    ]
    code = uscc or customer.uscc
    return rules.match(customer.name, rules.split_aliases(customer.aliases), code, parties)


# --- sharing with partners: CSV out, any table in ----------------------------------------------


def export_blacklist(session: Session, *, company_id: int) -> list[dict[str, str]]:
    """The active entries as rows with :data:`EXPORT_HEADERS`, what the import reads."""
    return [
        {
            "name": e.name,
            "aliases": e.aliases,
            "uscc": e.uscc,
            "reason": e.reason,
            "evidence": e.evidence,
            "source": e.source,
            "listed_on": format_date(e.listed_on),
        }
        for e in active_entries(session, company_id=company_id)
    ]


def write_blacklist_csv(path: Path, rows: Sequence[dict[str, str]]) -> int:
    """UTF-8 with a BOM, so that Excel opens the Chinese text correctly. Returns rows written."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_HEADERS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class ImportedListing:
    row: int
    listing: Listing
    listed_on: dt.date | None


def parse_blacklist_row(row: Row, *, source: str) -> ImportedListing | list[RowError]:
    """One row checked; ``source`` (the partner who sent the file) replaces the row's own."""
    listing = make_listing(
        name=row.text("name"),
        reason=row.text("reason"),
        uscc=row.text("uscc"),
        aliases=[row.text("aliases")],
        evidence=row.text("evidence"),
        source=source or row.text("source"),
    )
    problems = listing_problems(listing)
    errors = [RowError(row.number, row.column(f), reason) for f, reason in problems.items()]
    listed_on = None
    if row.text("listed_on"):
        try:
            listed_on = parse_date(row.raw("listed_on"))
        except DateError as exc:
            errors.append(RowError(row.number, row.column("listed_on"), str(exc)))
    return errors or ImportedListing(row.number, listing, listed_on)


def validate_blacklist(table: Table, *, source: str) -> list[ImportedListing]:
    """Every row checked; every bad row and every repeated code or name reported together."""
    mapping = map_columns(table.headers, BLACKLIST_FIELDS, {})
    records: list[ImportedListing] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows_of(table, mapping):
        parsed = parse_blacklist_row(row, source=source)
        if isinstance(parsed, list):
            errors.extend(parsed)
            continue
        repeated = _repeated(parsed, seen)
        if repeated is not None:
            field, first = repeated
            errors.append(
                RowError(
                    row.number,
                    row.column(field),
                    f"与第 {first} 行重复 / duplicate of row {first}",
                )
            )
            continue
        records.append(parsed)
    if errors:
        raise ImportRejected(errors)
    return records


def _repeated(record: ImportedListing, seen: dict[str, int]) -> tuple[str, int] | None:
    """(field, first row) if an earlier row had the same code or normalised name."""
    keys = listing_keys(record.listing)
    for field, key in keys:
        if key in seen:
            return field, seen[key]
    for _, key in keys:
        seen[key] = record.row
    return None


def import_blacklist(
    session: Session, *, actor: Actor, company_id: int, table: Table, source: str = ""
) -> ImportResult:
    """Add a partner's (or our own exported) list. Nothing is written unless every row is
    good; entries already active with the same code or normalised name are left alone, so
    importing a file twice adds nothing. A row without a date is listed on the import's day."""
    records = validate_blacklist(table, source=source.strip())
    index = _index(active_entries(session, company_id=company_id))
    result = ImportResult()
    for record in records:
        if _duplicate_of(record.listing, index) is not None:
            result.unchanged += 1
            continue
        _create(
            session, actor=actor, company_id=company_id, listing=record.listing,
            on=record.listed_on or actor.at.date(),
        )  # fmt: skip
        result.created += 1
    record_change(
        session, actor=actor, company_id=company_id, entity="import", entity_id="blacklist",
        action="import", after={"file_sha256": table.sha256, "source": source,
                                "created": result.created, "unchanged": result.unchanged},
    )  # fmt: skip
    return result
