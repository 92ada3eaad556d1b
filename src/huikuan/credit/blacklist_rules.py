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

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18
# Longest first, and stripped repeatedly: 华东建材集团有限公司 → 华东建材集团 → 华东建材.
NAME_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "公司", "集团")
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_half_width(text: str) -> str:
    """Full-width ASCII forms (ＡＢＣ１２３（）) and the ideographic space as half-width."""
    return text.translate(_FULL_WIDTH)


def normalise_uscc(code: str) -> str:
    """``' 91３１ 0000...x '`` → ``'913100000...X'``: half-width, no spaces, upper case."""
    return re.sub(r"\s", "", to_half_width(code)).upper()


def uscc_check_character(body: str) -> str:
    """The 18th character for a 17-character body from the charset."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """What is wrong with a unified social credit code, as "中文 / English"; None if valid."""
    text = normalise_uscc(code)
    if len(text) != USCC_LENGTH:
        return (
            f"统一社会信用代码应为 18 位，'{text}' 为 {len(text)} 位 / "
            f"a unified social credit code has 18 characters, '{text}' has {len(text)}"
        )
    for position, char in enumerate(text, start=1):
        if char not in USCC_CHARSET:
            return (
                f"统一社会信用代码第 {position} 位 '{char}' 不是有效字符（不用 I、O、Z、S、V）/ "
                f"bad character '{char}' at position {position} (I, O, Z, S and V are not used)"
            )
    expected = uscc_check_character(text[:17])
    if text[17] != expected:
        return (
            f"统一社会信用代码校验位错误：应为 {expected}，得到 {text[17]} / "
            f"wrong check character: expected {expected}, got {text[17]}"
        )
    return None


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
