"""Pure blacklist rules: checking a unified social credit code and matching names.

A unified social credit code (统一社会信用代码, GB 32100-2015) is 18 characters drawn from
``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S or V). The first is the registration
authority, the last a check character over the other seventeen::

    value(c)  = position of c in the charset (0..30)
    sum       = Σ value(c_i) × weight_i        weights 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, ...
    check     = 31 − (sum mod 31), and 31 is written 0

so one mistyped character, or two swapped neighbours, is caught. Only the charset and the
check character are verified here: authority, category and region codes change over time.

Company names are matched after normalising what people write differently: full- and
half-width forms, spaces, punctuation and brackets, Latin letter case, and the legal-form
suffix (华东建材 matches 华东建材有限公司 and 华东建材（集团）股份有限公司 matches 华东建材集团).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from huikuan.core.uscc import (  # the code check lives with the core identifiers
    normalise_uscc,
    to_half_width,
)

# Longest first, and stripped repeatedly: 华东建材集团有限公司 → 华东建材集团 → 华东建材.
NAME_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "公司", "集团")


def normalise_name(name: str) -> str:
    """A company name as compared: half-width, lower case, without spaces, punctuation,
    symbols, or brackets of any width or shape (（）()【】 all go, so they all compare equal).
    ``'华东 建材（上海）有限公司'`` → ``'华东建材上海有限公司'``."""
    text = unicodedata.normalize("NFKC", to_half_width(name)).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PZSC")


def name_core(name: str) -> str:
    """The normalised name without its legal-form suffixes, or the whole normalised name if
    nothing else would be left (a name that is only ``公司``)."""
    core = normalise_name(name)
    stripped = True
    while stripped:
        stripped = False
        for suffix in NAME_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix):
                core, stripped = core[: -len(suffix)], True
                break
    return core


def split_aliases(text: str) -> tuple[str, ...]:
    """``'华东建材| 华东集团 ||'`` → ``('华东建材', '华东集团')`` (also splits on ｜)."""
    return tuple(part.strip() for part in re.split(r"[|｜]", text) if part.strip())


@dataclass(frozen=True, slots=True)
class ListedParty:
    """A blacklist entry as the rules see it."""

    key: int
    name: str
    aliases: tuple[str, ...] = ()
    uscc: str = ""


@dataclass(frozen=True, slots=True)
class BlacklistMatch:
    """Why a candidate matches entry ``key``: ``how`` is "uscc", "name" (name against name)
    or "alias" (an alias on either side); ``matched`` is the listed text, ``candidate`` ours."""

    key: int
    how: Literal["uscc", "name", "alias"]
    matched: str
    candidate: str = ""


def match(
    candidate_name: str,
    candidate_aliases: Sequence[str],
    candidate_uscc: str,
    entries: Iterable[ListedParty],
) -> list[BlacklistMatch]:
    """The entries the candidate matches, at most one match each, the strongest (code, then
    name, then alias), in the entries' order."""
    code = normalise_uscc(candidate_uscc)
    ours = _cores([candidate_name], "name") + _cores(candidate_aliases, "alias")
    found = []
    for entry in entries:
        if code and normalise_uscc(entry.uscc) == code:
            found.append(BlacklistMatch(entry.key, "uscc", entry.uscc, candidate_uscc))
            continue
        hit = _name_match(entry, ours)
        if hit is not None:
            found.append(hit)
    return found


def _cores(names: Iterable[str], kind: str) -> list[tuple[str, str, str]]:
    """(core, original text, "name" or "alias") for every name that has a core."""
    return [(core, name, kind) for name in names if (core := name_core(name))]


def _name_match(entry: ListedParty, ours: list[tuple[str, str, str]]) -> BlacklistMatch | None:
    theirs = _cores([entry.name], "name") + _cores(entry.aliases, "alias")
    best: BlacklistMatch | None = None
    for core, listed, their_kind in theirs:
        for our_core, text, our_kind in ours:
            if core != our_core:
                continue
            if their_kind == our_kind == "name":
                return BlacklistMatch(entry.key, "name", listed, text)
            best = best or BlacklistMatch(entry.key, "alias", listed, text)
    return best
