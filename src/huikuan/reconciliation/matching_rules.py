"""Pure cash-application rules: whose money a bank line is and which open invoices it pays.

No database and no I/O. The service builds a :class:`ReferenceIndex` over the open items and a
:class:`NameIndex` over the customers once per run, then asks :func:`candidates` and
:func:`decide` for each bank line.

Evidence and confidence. ``n`` is the strength of the name evidence for the customer: 1.0 the
same name, 0.98 a learned alias or a payer account seen before (1.0 with both), 0.8 × the
similarity for a merely similar name, 0 for none::

    reference found, amount = open total of the referenced invoices   0.97 + 0.02·n
    reference found, amount = that total less a typical bank fee      0.86 + 0.10·n
    reference found, amount smaller (partial) or larger (overpaid)    0.70 + 0.25·n
    name, amount = the open amount of one invoice                     0.96·n
    name, amount = the open amounts of several invoices together      0.94·n
    name, amount = open invoices less a typical bank fee              0.86·n
    name only (all the money stays unapplied on the customer)         0.55·n
    amount only (no name, no reference)                               0.30

With the default threshold of 0.90 a line is applied automatically only with two independent
pieces of evidence (a reference and a name, a reference and its exact amount, or a
learned/exact name and an amount); a similar name is never enough with an amount alone.
When another candidate comes within ``ambiguity_margin`` of the best, the line is ambiguous:
no candidate stays at or above the threshold, and a person chooses.

Worked example (customer 杭州顺达建材有限公司, open INV-1 ¥300.00 due 03-01 and INV-2
¥500.00 due 04-01)::

    payer                  amount   remittance     applied                        conf.
    杭州顺达建材有限公司    800.00                  INV-1 300, INV-2 500           0.94 auto
    顺达建材 (similar)      500.00   付INV-2货款    INV-2 500                      0.98 auto
    杭州顺达建材有限公司    485.00                  INV-2 485 (15.00 stays open)   0.86 suggest
    李四 (unknown)          600.00   INV 1          INV-1 300, 300.00 unapplied    0.70 suggest
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from huikuan.core.money import format_amount
from huikuan.core.uscc import to_half_width
from huikuan.credit import blacklist_rules
from huikuan.ledger import rules as ledger_rules

ReasonCode = Literal[
    "reference",
    "order_reference",
    "name_exact",
    "name_alias",
    "name_fuzzy",
    "account_known",
    "amount_exact",
    "amount_sum",
    "amount_net_of_fee",
    "partial",
    "overpaid",
    "unapplied",
    "ambiguous",
]


@dataclass(frozen=True, slots=True)
class IncomingLine:
    """One credit line of a bank statement."""

    amount: int  # fen, > 0
    payer_name: str
    payer_account: str
    remittance: str  # 附言 / 摘要: what the payer wrote
    booked_on: dt.date


@dataclass(frozen=True, slots=True)
class OpenItem:
    invoice_id: int
    number: str  # "INV-2024-00123", "FP20240315001", "销2024-0012"
    order_number: str  # may be ""
    customer_id: int
    open_amount: int  # fen, > 0
    due_on: dt.date
    issued_on: dt.date


@dataclass(frozen=True, slots=True)
class CustomerName:
    customer_id: int
    name: str  # the legal name, 杭州顺达建材有限公司
    aliases: tuple[str, ...] = ()  # payer names learned from past lines (the boss, a branch)
    account_numbers: tuple[str, ...] = ()  # payer accounts seen before


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """How cautious matching is. The defaults: 0.90 needs two independent pieces of evidence
    (see the table above); ¥5–¥20 are the fees Chinese banks deduct on transfers; 12 items
    and 5 invoices bound the sum search to 1,585 combinations per amount tried; a similarity
    of 0.80 lets through a dropped region (顺达建材 for 杭州顺达建材) and a typo in a long
    name, not a different trade name in a short one (杭州顺发建材: 0.83, counted, but weakly)."""

    auto_threshold: float = 0.90  # at or above: applied without a person
    suggest_threshold: float = 0.40  # at or above: proposed to the clerk; below: "unknown"
    fee_amounts: tuple[int, ...] = (500, 1000, 1500, 2000)  # bank fees deducted, fen
    max_subset_items: int = 12  # the oldest open items searched for sums (singles: all)
    max_subset_size: int = 5  # invoices one payment may settle together
    max_subsets: int = 5  # combinations kept per amount tried
    name_cutoff: float = 0.80  # similarity (0..1) below which a name is no evidence
    name_limit: int = 5  # similar customers considered per payer name
    ambiguity_margin: float = 0.05  # rivals this close to the best make a line ambiguous

    def __post_init__(self) -> None:
        if not 0 < self.suggest_threshold <= self.auto_threshold <= 1:
            raise ValueError("need 0 < suggest_threshold <= auto_threshold <= 1")
        if not 0 < self.name_cutoff <= 1 or any(fee <= 0 for fee in self.fee_amounts):
            raise ValueError("name_cutoff must be in (0, 1] and fees positive")


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Candidate:
    customer_id: int
    allocations: tuple[tuple[int, int], ...]  # (invoice_id, fen), oldest first
    unapplied: int  # fen left as unapplied cash on the customer
    confidence: float  # 0..1
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Literal["auto", "suggest", "unknown"]
    chosen: Candidate | None  # the candidate to apply ("auto") or propose ("suggest")
    top: tuple[Candidate, ...]  # the best three, for the clerk


def age_key(item: OpenItem) -> tuple[dt.date, dt.date, str, int]:
    """Oldest first, as the ledger applies money: due date, issue date, number, id."""
    return (item.due_on, item.issued_on, item.number, item.invoice_id)


# --- references -------------------------------------------------------------------------

# A match made of digits alone (no letter prefix written, or numbers without one) needs this
# many digits: shorter digit runs in remittance text are amounts, dates and quantities.
MIN_BARE_DIGITS = 6

# Inside a number people write spaces, hyphens, underscores and slashes freely; any other
# punctuation (，。；：、() …) ends it.
_TOKEN = re.compile(
    r"(?P<atom>[A-Z]+|[0-9]+|[^\W_])|(?P<sep>[\s\-_/\\‐‑‒–—―]+)|(?P<stop>.)", re.DOTALL
)
_NOT_ATOM_NOR_LINE = re.compile(r"[^\w\n]+|_+")
# A key with a letter prefix and at least MIN_BARE_DIGITS digits after it, one per line.
_PREFIXED = re.compile(rf"^([^0-9\n]+)((?:[^0-9\n]*[0-9]){{{MIN_BARE_DIGITS}}}[^\n]*)$", re.M)
_NO_DIGITS = str.maketrans("", "", "0123456789")
_ASCII_NOT_ATOM = str.maketrans(
    "", "", "".join(c for c in map(chr, range(128)) if not c.isalnum() and c != "\n")
)


@dataclass(frozen=True, slots=True)
class Reference:
    """An open item whose invoice or order number the remittance text names."""

    item: OpenItem
    kind: Literal["invoice", "order"]
    number: str  # the number as in our books


def _fold(text: str) -> str:
    """Full-width forms as half-width (NFKC: ＩＮＶ－２０２４ → INV-2024), upper case."""
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).upper()


def number_key(number: str) -> str:
    """A document number as compared: ``'inv 2024-00123'`` → ``'INV202400123'``."""
    return _number_keys([number])[0]


def _number_keys(numbers: Sequence[str]) -> list[str]:
    """The keys of many numbers in a few passes over one text (fast for 100k numbers)."""
    if not numbers:
        return []
    lines = _fold("\n".join(number.replace("\n", " ") for number in numbers))
    if lines.isascii():  # the usual case, and translate is ten times faster than a regex
        return lines.translate(_ASCII_NOT_ATOM).split("\n")
    return _NOT_ATOM_NOR_LINE.sub("", lines).split("\n")


def _segments(text: str) -> list[list[str]]:
    """The text as runs of atoms (ASCII letter runs, digit runs, single other characters);
    separators join atoms, other punctuation starts a new run. A number matches only whole
    atoms, so INV-1 is not found in INV-12 nor 00123 in 001234."""
    segments: list[list[str]] = [[]]
    for token in _TOKEN.finditer(_fold(text)):
        if token.lastgroup == "atom":
            segments[-1].append(token.group())
        elif token.lastgroup == "stop" and segments[-1]:
            segments.append([])
    return segments


def _digit_count(key: str) -> int:
    return len(key) - len(key.translate(_NO_DIGITS))


class ReferenceIndex:
    """The open items by invoice number, order number and open amount, built once per run.

    Leading zeros are significant: ``INV-2024-123`` does not find ``INV-2024-00123``, because
    a number with zeros dropped is often another real number (INV-1 and INV-001 in two
    series); such a line still finds its invoice through the name and the amount.
    """

    def __init__(self, items: Iterable[OpenItem]) -> None:
        self._by_key: dict[str, list[tuple[OpenItem, Literal["invoice", "order"]]]] = {}
        self._by_bare: dict[str, set[str]] = defaultdict(set)
        self._by_amount: dict[int, list[OpenItem]] = defaultdict(list)
        items = list(items)
        self._add(items, "invoice", [item.number for item in items])
        self._add(items, "order", [item.order_number for item in items])
        for item in items:
            self._by_amount[item.open_amount].append(item)
        # 2024-00123 written for INV-2024-00123: the key without its prefix, to its full keys.
        for prefix, bare in _PREFIXED.findall("\n".join(self._by_key)):
            self._by_bare[bare].add(prefix + bare)
        # Sorted so that the result does not depend on the order the items came in.
        for entries in self._by_key.values():
            if len(entries) > 1:
                entries.sort(key=lambda entry: (age_key(entry[0]), entry[1]))
        for same_amount in self._by_amount.values():
            if len(same_amount) > 1:
                same_amount.sort(key=age_key)
        self._longest = max(map(len, self._by_key), default=0)

    def _add(
        self, items: list[OpenItem], kind: Literal["invoice", "order"], numbers: list[str]
    ) -> None:
        for item, key in zip(items, _number_keys(numbers), strict=True):
            if key:
                self._by_key.setdefault(key, []).append((item, kind))

    def items_with_amount(self, amount: int) -> tuple[OpenItem, ...]:
        """Open items of any customer with exactly this open amount, oldest first."""
        return tuple(self._by_amount.get(amount, ()))

    def find_references(self, remittance: str) -> tuple[Reference, ...]:
        """The open items whose invoice or order numbers the text names, in the order written.

        Tolerates full-width characters, case, and spaces, hyphens, underscores or slashes
        inside a number. A number written without its letter prefix (``2024-00123``) counts
        when it has at least six digits, is not preceded by another letter prefix
        (``SO-2024-00123`` is a different series) and all the open numbers it can be name the
        same invoices (one number, or an invoice and its own order numbered alike).
        """
        found: dict[int, Reference] = {}
        for atoms in _segments(remittance):
            for item, kind in self._matches(atoms):
                number = item.number if kind == "invoice" else item.order_number
                found.setdefault(item.invoice_id, Reference(item, kind, number))
        return tuple(found.values())

    def _matches(self, atoms: list[str]) -> Iterable[tuple[OpenItem, Literal["invoice", "order"]]]:
        """Greedy, longest match first, left to right: a few dictionary lookups per atom."""
        start = 0
        while start < len(atoms):
            end, key = start, ""
            entries: Sequence[tuple[OpenItem, Literal["invoice", "order"]]] = ()
            after_letters = start > 0 and atoms[start - 1].isascii() and atoms[start - 1].isalpha()
            for stop in range(start, len(atoms)):
                key += atoms[stop]
                if len(key) > self._longest:
                    break
                hit = self._lookup(key, after_letters)
                if hit:
                    end, entries = stop, hit
            yield from entries
            start = end + 1

    def _lookup(
        self, key: str, after_letters: bool
    ) -> Sequence[tuple[OpenItem, Literal["invoice", "order"]]]:
        if not ("0" <= key[0] <= "9"):
            return self._by_key.get(key, ())
        if after_letters or _digit_count(key) < MIN_BARE_DIGITS:
            return ()
        exact = self._by_key.get(key)
        if exact:
            return exact
        owners = [self._by_key[full] for full in sorted(self._by_bare.get(key, ()))]
        # INV-2026-0012345 and its order SO-2026-0012345 share the digits: one invoice, found.
        if len({frozenset(item.invoice_id for item, _ in entries) for entries in owners}) == 1:
            return min(owners, key=lambda entries: entries[0][1] != "invoice")
        return ()


# --- names ------------------------------------------------------------------------------

# Branches pay for their company: 杭州顺达建材有限公司萧山分公司, 顺达建材(萧山分公司).
_BRANCH = "(?:分公司|分店|分厂|办事处|营业部)"
_BRACKETED_BRANCH = re.compile(rf"\([^()]*{_BRANCH}\)$")
_BRANCH_AFTER_COMPANY = re.compile(rf"(?<=公司)[^()]+?{_BRANCH}$")
# Banks cut long payer names: 杭州顺达建材有限公 is 杭州顺达建材有限公司.
_CUT_SUFFIXES = tuple(
    sorted(
        {s[:n] for s in ("有限责任公司", "股份有限公司", "有限公司") for n in range(2, len(s))},
        key=len,
        reverse=True,
    )
)
_SUFFIXES = sorted(
    {*blacklist_rules.NAME_SUFFIXES, *_CUT_SUFFIXES, "分公司"}, key=len, reverse=True
)
# Any run of them at the end, but never the whole name (a name that is only 公司 stays).
_LEGAL_FORM = re.compile(rf"(?<=.)(?:{'|'.join(_SUFFIXES)})+$")
MIN_FUZZY_LENGTH = 4  # shorter names (persons, abbreviations) count only exactly or as aliases


@functools.lru_cache(maxsize=65536)  # the same payers and customers come back line after line
def normalise_name(name: str) -> str:
    """A payer or customer name as compared: half-width, lower case, without spaces,
    punctuation or brackets, without the branch and the legal form (also when the bank cut
    it short). ``'杭州顺达建材有限公司（萧山分公司）'`` → ``'杭州顺达建材'``.

    The character rules are those of the blacklist (``credit.blacklist_rules``)."""
    text = to_half_width(name).strip()
    text = _BRACKETED_BRANCH.sub("", text)
    text = _BRANCH_AFTER_COMPANY.sub("", text)
    return _LEGAL_FORM.sub("", blacklist_rules.normalise_name(text))


def normalise_account(account: str) -> str:
    """``'6222 0212-3456 ７８９０'`` → ``'6222021234567890'``."""
    return re.sub(r"[\s\-]", "", to_half_width(account)).upper()


def similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """How alike two normalised names are, 0..1: rapidfuzz's ``ratio`` (2·LCS / total length).

    Chinese names have no spaces, so token scorers add nothing; ``partial_ratio`` and
    ``WRatio`` score a short name inside a long one as 1.0 (张伟, 建材 against any 建材 company),
    which would make every short payer name match. ``ratio`` also lets :class:`NameIndex`
    skip names that share too few characters to reach the cutoff."""
    return fuzz.ratio(a, b, score_cutoff=cutoff * 100) / 100


def name_score(
    payer_name: str, payer_account: str, customer: CustomerName, *, cutoff: float = 0.80
) -> tuple[float, tuple[Reason, ...]]:
    """How strongly the payer is this customer, 0..1, and why (see the module's table)."""
    payer = normalise_name(payer_name)
    score, reasons = _name_evidence(payer, payer_name, customer, cutoff)
    account = normalise_account(payer_account)
    if account and account in {normalise_account(a) for a in customer.account_numbers}:
        score = 1.0 if score >= 0.98 else 0.98
        reasons += (
            Reason(
                "account_known",
                f"付款账号 {payer_account} 以前为该客户付过款",
                f"payer account {payer_account} has paid for this customer before",
            ),
        )
    return score, reasons


def _name_evidence(
    payer: str, written: str, customer: CustomerName, cutoff: float
) -> tuple[float, tuple[Reason, ...]]:
    if not payer:
        return 0.0, ()
    if payer == normalise_name(customer.name):
        zh = f"付款人名称与客户名称 {customer.name} 一致"
        return 1.0, (Reason("name_exact", zh, f"payer name matches {customer.name}"),)
    if payer in {normalise_name(alias) for alias in customer.aliases}:
        zh = f"付款人 {written} 是该客户已知的付款人"
        en = f"payer {written} is a known payer of this customer"
        return 0.98, (Reason("name_alias", zh, en),)
    if len(payer) < MIN_FUZZY_LENGTH:
        return 0.0, ()
    best, like = max((similarity(payer, normalise_name(n)), n) for n in _names_of(customer))
    if best < cutoff:
        return 0.0, ()
    zh = f"付款人名称 {written} 与 {like} 相似（{best:.0%}）"
    en = f"payer name {written} is similar to {like} ({best:.0%})"
    return 0.8 * best, (Reason("name_fuzzy", zh, en),)


def _names_of(customer: CustomerName) -> tuple[str, ...]:
    return (customer.name, *customer.aliases)


class NameIndex:
    """All customers' names, aliases and payer accounts, for finding a payer's customers.

    Exact names, aliases and accounts are dictionary lookups. Only when none answers are
    similar names searched, and only among those that can reach the cutoff: a name of length
    ``m`` reaches ``ratio = 2·LCS / (n + m) >= cutoff`` against the payer's ``n`` characters
    only with ``t = ⌈cutoff·(n + m)/2⌉`` characters in common, so any ``n - t + 1`` of the
    payer's characters include one that name has. Per length, the payer's rarest characters
    are looked up (杭州 and 建材 are in thousands of names, the trade name in a few). The
    result is the same as comparing with every name, at a small fraction of the cost.
    """

    def __init__(self, customers: Iterable[CustomerName]) -> None:
        self._customers: dict[int, CustomerName] = {}
        self._exact: dict[str, set[int]] = defaultdict(set)
        self._accounts: dict[str, set[int]] = defaultdict(set)
        for customer in customers:
            self._customers[customer.customer_id] = customer
            for name in _names_of(customer):
                if core := normalise_name(name):
                    self._exact[core].add(customer.customer_id)
            for account in customer.account_numbers:
                if key := normalise_account(account):
                    self._accounts[key].add(customer.customer_id)
        self._cores = sorted(c for c in self._exact if len(c) >= MIN_FUZZY_LENGTH)
        # length → character → indexes of the names of that length with that character
        self._postings: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for index, core in enumerate(self._cores):
            for char in set(core):
                self._postings[len(core)][char].append(index)

    def customer(self, customer_id: int) -> CustomerName | None:
        return self._customers.get(customer_id)

    def find(
        self, payer_name: str, payer_account: str, *, limit: int = 5, cutoff: float = 0.80
    ) -> tuple[int, ...]:
        """The customers the payer may be: every exact name, alias or account hit; else the
        ``limit`` most similar names at or above ``cutoff``. Sorted by customer id."""
        core = normalise_name(payer_name)
        hits = self._accounts.get(normalise_account(payer_account), set()) | self._exact.get(
            core, set()
        )
        if not hits and len(core) >= MIN_FUZZY_LENGTH:
            for similar in self._similar(core, limit, cutoff):
                hits |= self._exact[similar]
        return tuple(sorted(hits))

    def _similar(self, core: str, limit: int, cutoff: float) -> list[str]:
        choices = [self._cores[i] for i in self._pool(core, cutoff)]
        found = process.extract(
            core, choices, scorer=fuzz.ratio, score_cutoff=cutoff * 100, limit=None
        )
        found.sort(key=lambda hit: (-hit[1], hit[0]))  # all hits, so any pool order will do
        return [name for name, _score, _index in found[:limit]]

    def _pool(self, core: str, cutoff: float) -> set[int]:
        """Indexes of the names that can reach ``cutoff`` (see the class docstring)."""
        pool: set[int] = set()
        for length, postings in self._postings.items():
            must_share = math.ceil(cutoff * (len(core) + length) / 2 - 1e-9)
            if must_share > min(len(core), length):
                continue
            rarest = sorted(core, key=lambda char: len(postings.get(char, ())))
            for char in set(rarest[: len(core) - must_share + 1]):
                pool.update(postings.get(char, ()))
        return pool


# --- amounts ----------------------------------------------------------------------------


def subset_sum(
    amount: int,
    items: Iterable[OpenItem],
    *,
    max_items: int = 12,
    max_size: int = 5,
    limit: int = 5,
) -> tuple[tuple[OpenItem, ...], ...]:
    """Combinations of the oldest ``max_items`` items whose open amounts add up to ``amount``
    exactly, at most ``max_size`` items each: fewer invoices first, then the oldest; at most
    ``limit`` of them. The items are one customer's; the result does not depend on their
    order. Worst case C(12,1) + … + C(12,5) = 1,585 sums, usually far fewer (see _walk)."""
    pool = sorted((i for i in items if i.open_amount > 0), key=age_key)[:max_items]
    if amount <= 0 or not pool:
        return ()
    found: list[tuple[int, ...]] = []
    by_size = sorted(range(len(pool)), key=lambda i: (-pool[i].open_amount, i))
    _walk([pool[i].open_amount for i in by_size], by_size, amount, max_size, (), found)
    found.sort(key=lambda chosen: (len(chosen), chosen))
    return tuple(tuple(pool[i] for i in chosen) for chosen in found[:limit])


def _walk(
    amounts: list[int],
    ages: list[int],
    left: int,
    slots: int,
    chosen: tuple[int, ...],
    found: list[tuple[int, ...]],
    start: int = 0,
) -> None:
    """Depth first over the amounts, largest first, so two bounds prune: an amount larger
    than what is left is skipped, and once the largest ``slots`` remaining cannot reach
    what is left, no smaller one can."""
    for at in range(start, len(amounts)):
        if sum(amounts[at : at + slots]) < left:
            return
        amount = amounts[at]
        if amount == left:
            found.append(tuple(sorted((*chosen, ages[at]))))
        elif amount < left and slots > 1:
            _walk(amounts, ages, left - amount, slots - 1, (*chosen, ages[at]), found, at + 1)


def _apply(amount: int, items: Iterable[OpenItem]) -> tuple[tuple[tuple[int, int], ...], int]:
    """The ledger's oldest-first allocation: allocations and what stays unapplied."""
    plan = ledger_rules.allocate_oldest_first(
        amount,
        (
            ledger_rules.OpenItem(i.invoice_id, i.number, i.issued_on, i.due_on, i.open_amount)
            for i in items
        ),
    )
    return tuple((a.invoice_id, a.amount) for a in plan.applications), plan.unapplied


# --- candidates -------------------------------------------------------------------------

_NAME_CODES = frozenset({"name_exact", "name_alias", "name_fuzzy", "account_known"})
_AMOUNT_CODES = frozenset({"amount_exact", "amount_sum", "amount_net_of_fee"})
_REFERENCE_CODES = frozenset({"reference", "order_reference"})
_NameEvidence = tuple[float, tuple[Reason, ...]]


def candidates(
    line: IncomingLine,
    reference_index: ReferenceIndex,
    name_index: NameIndex,
    items_by_customer: Mapping[int, Sequence[OpenItem]],
    settings: MatchSettings | None = None,
) -> tuple[Candidate, ...]:
    """Who may have paid ``line`` and for which invoices, best first (see the module's table).

    Every candidate accounts for the whole line: allocations plus unapplied equal its amount,
    and no allocation exceeds an item's open amount. Money going out (amount <= 0) is not
    cash to apply: no candidates."""
    settings = settings or MatchSettings()
    if line.amount <= 0:
        return ()
    refs = _references_by_customer(reference_index.find_references(line.remittance))
    names = _names_for(line, name_index, refs, settings)
    found: list[Candidate] = []
    for customer_id in sorted(refs.keys() | names.keys()):
        items = [i for i in items_by_customer.get(customer_id, ()) if i.customer_id == customer_id]
        name = names.get(customer_id, (0.0, ()))
        found += _customer_candidates(
            line, customer_id, refs.get(customer_id, ()), name, items, settings
        )
    found += _amount_only(line, reference_index, {c.customer_id for c in found}, settings)
    return _mark_ambiguous(_rank(found), settings)


def _references_by_customer(refs: Iterable[Reference]) -> dict[int, tuple[Reference, ...]]:
    grouped: dict[int, list[Reference]] = defaultdict(list)
    for ref in refs:
        grouped[ref.item.customer_id].append(ref)
    return {customer_id: tuple(found) for customer_id, found in grouped.items()}


def _names_for(
    line: IncomingLine,
    name_index: NameIndex,
    refs: Mapping[int, object],
    settings: MatchSettings,
) -> dict[int, _NameEvidence]:
    """Name evidence for the payer's likely customers and for every referenced customer."""
    ids = name_index.find(
        line.payer_name, line.payer_account, limit=settings.name_limit, cutoff=settings.name_cutoff
    )
    found = {}
    for customer_id in sorted(set(ids) | refs.keys()):
        customer = name_index.customer(customer_id)
        if customer is not None:
            evidence = name_score(
                line.payer_name, line.payer_account, customer, cutoff=settings.name_cutoff
            )
            if evidence[0] > 0:
                found[customer_id] = evidence
    return found


def _customer_candidates(
    line: IncomingLine,
    customer_id: int,
    refs: tuple[Reference, ...],
    name: _NameEvidence,
    items: Sequence[OpenItem],
    settings: MatchSettings,
) -> list[Candidate]:
    """The reference's reading of the line; unless it explains the whole amount, also the
    amount's readings (with a name); failing both, the money unapplied on the named customer."""
    found = []
    if refs:
        reference, explained = _by_reference(line, customer_id, refs, name, settings)
        if explained:
            return [reference]
        found.append(reference)
    if name[0] > 0:
        found += _by_amount(line, customer_id, items, name, settings)
        if not found:
            found.append(_name_only(line, customer_id, name))
    return found


def _by_reference(
    line: IncomingLine,
    customer_id: int,
    refs: tuple[Reference, ...],
    name: _NameEvidence,
    settings: MatchSettings,
) -> tuple[Candidate, bool]:
    """Money applied to the referenced invoices oldest first; whether the amount fits them."""
    items = [ref.item for ref in refs]
    total = sum(item.open_amount for item in items)
    allocations, unapplied = _apply(line.amount, items)
    fee = total - line.amount
    if fee == 0:
        base, weight, why = 0.97, 0.02, _total_reason(total)
    elif fee in settings.fee_amounts:
        base, weight, why = 0.86, 0.10, _fee_reason(items, fee)
    elif fee > 0:
        base, weight, why = 0.70, 0.25, _partial_reason(line.amount, total)
    else:
        base, weight, why = 0.70, 0.25, _overpaid_reason(unapplied)
    confidence = round(base + weight * name[0], 4)
    reasons = (*_reference_reasons(refs), *name[1], why)
    candidate = Candidate(customer_id, allocations, unapplied, confidence, reasons)
    return candidate, fee == 0 or fee in settings.fee_amounts


def _by_amount(
    line: IncomingLine,
    customer_id: int,
    items: Sequence[OpenItem],
    name: _NameEvidence,
    settings: MatchSettings,
) -> list[Candidate]:
    """Open items of the customer that the amount pays exactly; failing that, that it pays
    less one typical bank fee. The fee stays open on the youngest invoice: allocations never
    exceed the money received, and the clerk writes the fee off deliberately.

    Sums are sought among the oldest ``max_subset_items`` items; a single invoice among all of
    them (a customer with fifty open invoices pays this month's, not only the oldest)."""
    found: list[Candidate] = []
    ordered = sorted(items, key=age_key)  # once, not once per fee
    oldest, younger = ordered[: settings.max_subset_items], ordered[settings.max_subset_items :]
    for fee in (0, *sorted(set(settings.fee_amounts))):
        subsets = subset_sum(
            line.amount + fee,
            oldest,
            max_items=settings.max_subset_items,
            max_size=settings.max_subset_size,
            limit=settings.max_subsets,
        )
        singles = [(item,) for item in younger if item.open_amount == line.amount + fee]
        for subset in (*subsets, *singles[: settings.max_subsets]):
            found.append(_subset_candidate(line, customer_id, subset, fee, name))
        if found:
            break
    return found


def _subset_candidate(
    line: IncomingLine,
    customer_id: int,
    subset: tuple[OpenItem, ...],
    fee: int,
    name: _NameEvidence,
) -> Candidate:
    allocations, unapplied = _apply(line.amount, subset)
    if fee:
        base, why = 0.86, _fee_reason(subset, fee)
    elif len(subset) == 1:
        base, why = 0.96, _single_reason(subset[0])
    else:
        base, why = 0.94, _sum_reason(subset)
    confidence = round(base * name[0], 4)
    return Candidate(customer_id, allocations, unapplied, confidence, (*name[1], why))


def _name_only(line: IncomingLine, customer_id: int, name: _NameEvidence) -> Candidate:
    why = Reason(
        "unapplied",
        "金额与该客户的未付发票都对不上，整笔作为未分配款",
        "the amount fits none of the customer's open invoices; all of it stays unapplied",
    )
    return Candidate(customer_id, (), line.amount, round(0.55 * name[0], 4), (*name[1], why))


def _amount_only(
    line: IncomingLine, index: ReferenceIndex, covered: set[int], settings: MatchSettings
) -> list[Candidate]:
    """Any other customer's invoice with exactly this open amount: a weak hint, never auto."""
    found: list[Candidate] = []
    for item in index.items_with_amount(line.amount):
        if item.customer_id not in covered and len(found) < settings.name_limit:
            covered.add(item.customer_id)
            allocations = ((item.invoice_id, item.open_amount),)
            reasons = (_single_reason(item),)
            found.append(Candidate(item.customer_id, allocations, 0, 0.30, reasons))
    return found


def _rank(found: Iterable[Candidate]) -> list[Candidate]:
    """Best first; ties: fewer invoices, then customer and invoice ids. Duplicates dropped."""
    ranked = sorted(
        found,
        key=lambda c: (-c.confidence, len(c.allocations), c.customer_id, c.allocations),
    )
    seen: set[tuple[int, tuple[tuple[int, int], ...]]] = set()
    unique = []
    for candidate in ranked:
        if (candidate.customer_id, candidate.allocations) not in seen:
            seen.add((candidate.customer_id, candidate.allocations))
            unique.append(candidate)
    return unique


def _mark_ambiguous(ranked: list[Candidate], settings: MatchSettings) -> tuple[Candidate, ...]:
    """When other candidates come within the margin of the best, the line is ambiguous: those
    rivals say so, and no candidate of the line stays at or above the threshold (two customers
    of the same name, two invoices of one amount)."""
    if len(ranked) < 2:
        return tuple(ranked)
    floor = ranked[0].confidence - settings.ambiguity_margin
    rivals = sum(1 for c in ranked if c.confidence >= floor)  # a prefix: ranked is sorted
    if rivals < 2:
        return tuple(ranked)
    ceiling = max(0.0, settings.auto_threshold - settings.ambiguity_margin)
    why = Reason(
        "ambiguous",
        f"另有 {rivals - 1} 个几乎同样可能的匹配，需人工确认",
        f"{rivals - 1} other match(es) about as likely; a person should choose",
    )
    lowered = [
        Candidate(
            c.customer_id,
            c.allocations,
            c.unapplied,
            round(min(c.confidence, ceiling), 4),
            (*c.reasons, why) if place < rivals else c.reasons,
        )
        for place, c in enumerate(ranked)
    ]
    return tuple(_rank(lowered))


def decide(
    line: IncomingLine, found: Sequence[Candidate], settings: MatchSettings | None = None
) -> Decision:
    """``auto`` when the best candidate reaches the threshold with two independent pieces of
    evidence and accounts for exactly the line's amount; ``suggest`` when it reaches the
    suggestion threshold; else ``unknown`` (the line waits in the unmatched list)."""
    settings = settings or MatchSettings()
    top = tuple(_rank(found)[:3])
    best = top[0] if top else None
    if best is None or best.confidence < settings.suggest_threshold:
        return Decision("unknown", None, top)
    if best.confidence >= settings.auto_threshold and _may_apply_alone(line, best):
        return Decision("auto", best, top)
    return Decision("suggest", best, top)


def _may_apply_alone(line: IncomingLine, candidate: Candidate) -> bool:
    codes = {reason.code for reason in candidate.reasons}
    reference, name = bool(codes & _REFERENCE_CODES), bool(codes & _NAME_CODES)
    amount = bool(codes & _AMOUNT_CODES)
    independent = (reference and (name or amount)) or (name and amount)
    applied = sum(fen for _invoice, fen in candidate.allocations)
    adds_up = applied + candidate.unapplied == line.amount
    return independent and adds_up and "ambiguous" not in codes


# --- reasons ----------------------------------------------------------------------------


def _reference_reasons(refs: Iterable[Reference]) -> list[Reason]:
    reasons: dict[tuple[str, str], Reason] = {}
    for ref in refs:
        if ref.kind == "invoice":
            zh, en = (
                f"附言中的发票号 {ref.number}",
                f"invoice number {ref.number} in the remittance text",
            )
            reasons.setdefault(("invoice", ref.number), Reason("reference", zh, en))
        else:
            zh, en = (
                f"附言中的订单号 {ref.number}",
                f"order number {ref.number} in the remittance text",
            )
            reasons.setdefault(("order", ref.number), Reason("order_reference", zh, en))
    return list(reasons.values())


def _numbers(items: Iterable[OpenItem]) -> str:
    return ", ".join(item.number for item in sorted(items, key=age_key))


def _total_reason(total: int) -> Reason:
    money = format_amount(total)
    return Reason(
        "amount_exact",
        f"金额等于所引用发票的未付合计 {money}",
        f"the amount equals the open total {money} of the referenced invoices",
    )


def _single_reason(item: OpenItem) -> Reason:
    money = format_amount(item.open_amount)
    return Reason(
        "amount_exact",
        f"金额等于发票 {item.number} 的未付金额 {money}",
        f"the amount equals the open amount {money} of invoice {item.number}",
    )


def _sum_reason(items: Sequence[OpenItem]) -> Reason:
    numbers = _numbers(items)
    return Reason(
        "amount_sum",
        f"金额等于 {len(items)} 张发票的未付合计（{numbers}）",
        f"the amount equals the open total of {len(items)} invoices ({numbers})",
    )


def _fee_reason(items: Sequence[OpenItem], fee: int) -> Reason:
    numbers, money = _numbers(items), format_amount(fee)
    return Reason(
        "amount_net_of_fee",
        f"金额等于 {numbers} 的未付合计减去手续费 {money}，手续费仍挂在发票上",
        f"the amount equals the open total of {numbers} less a bank fee of {money}; "
        "the fee stays open on the invoice",
    )


def _partial_reason(amount: int, total: int) -> Reason:
    paid, owed = format_amount(amount), format_amount(total)
    return Reason(
        "partial",
        f"部分付款：所引用发票未付 {owed}，本次 {paid} 按账龄先后分配",
        f"partial payment: {paid} of the {owed} open on the referenced invoices, oldest first",
    )


def _overpaid_reason(unapplied: int) -> Reason:
    money = format_amount(unapplied)
    return Reason(
        "overpaid",
        f"多付：所引用发票已付清，余下 {money} 作为该客户的未分配款",
        f"overpaid: the referenced invoices are paid, {money} stays unapplied on the customer",
    )
