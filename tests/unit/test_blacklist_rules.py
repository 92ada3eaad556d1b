"""Blacklist rules: the unified social credit code check and company-name matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.core.uscc import (
    USCC_CHARSET,
    normalise_uscc,
    to_half_width,
    uscc_check_character,
    uscc_problem,
)
from huikuan.credit.blacklist_rules import (
    BlacklistMatch,
    ListedParty,
    match,
    name_core,
    normalise_name,
    split_aliases,
)

BODIES = st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17)


def valid_code(body: str = "91310115MA1K4LXY0") -> str:
    return body + uscc_check_character(body)


def test_the_check_character_follows_the_weighted_sum_mod_31() -> None:
    body = "91310115MA1K4LXY0"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, weights, strict=True))
    expected = USCC_CHARSET[(31 - total % 31) % 31]
    assert uscc_check_character(body) == expected
    assert uscc_problem(body + expected) is None


def test_a_check_value_of_31_is_written_zero() -> None:
    # A body whose weighted sum is a multiple of 31 (here 0) has check value 31, written 0.
    assert uscc_check_character("0" * 17) == "0"
    assert uscc_problem("0" * 18) is None


def test_a_code_of_the_wrong_length_says_how_long_it_is() -> None:
    problem = uscc_problem(valid_code()[:17])
    assert problem is not None
    assert "18 位" in problem and "has 17" in problem


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_charset_are_named_with_their_position(letter: str) -> None:
    code = valid_code()
    problem = uscc_problem(code[:4] + letter + code[5:])
    assert problem is not None
    assert f"'{letter}' at position 5" in problem and "第 5 位" in problem


def test_a_wrong_check_character_says_which_was_expected() -> None:
    code = valid_code()
    wrong = next(c for c in USCC_CHARSET if c != code[-1])
    problem = uscc_problem(code[:-1] + wrong)
    assert problem == (
        f"统一社会信用代码校验位错误：应为 {code[-1]}，得到 {wrong} / "
        f"wrong check character: expected {code[-1]}, got {wrong}"
    )


def test_codes_are_read_with_spaces_lower_case_and_full_width_characters() -> None:
    code = valid_code()
    written = " " + to_full_width(code[:9]).lower() + "  " + code[9:].lower() + "\u3000"
    assert to_half_width(to_full_width(code)) == code
    assert normalise_uscc(written) == code
    assert uscc_problem(written) is None


def to_full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@given(BODIES)
def test_any_body_with_its_computed_check_character_is_valid(body: str) -> None:
    assert uscc_problem(body + uscc_check_character(body)) is None


@given(BODIES, st.integers(0, 17), st.integers(1, 30))
def test_changing_any_one_character_makes_a_code_invalid(
    body: str, position: int, shift: int
) -> None:
    code = body + uscc_check_character(body)
    other = USCC_CHARSET[(USCC_CHARSET.index(code[position]) + shift) % 31]
    changed = code[:position] + other + code[position + 1 :]
    assert uscc_problem(changed) is not None


def test_names_compare_without_spaces_punctuation_and_bracket_width() -> None:
    assert normalise_name("华东建材（上海） 有限公司") == normalise_name("华东建材(上海)有限公司")
    assert normalise_name("ＡＢＣ Trading Co., Ltd.") == "abctradingcoltd"
    assert normalise_name("华东·建材、有限公司。") == "华东建材有限公司"


def test_legal_form_suffixes_are_compared_with_and_without() -> None:
    assert name_core("华东建材有限公司") == name_core("华东建材") == "华东建材"
    assert name_core("华东建材集团有限责任公司") == "华东建材"
    assert name_core("华东建材股份有限公司") == "华东建材"
    assert name_core("公司") == "公司"  # nothing but a suffix: kept, never empty


def test_aliases_are_split_on_bars_of_either_width() -> None:
    assert split_aliases(" 华东建材 | 华东集团｜| ") == ("华东建材", "华东集团")
    assert split_aliases("") == ()


ENTRIES = [
    ListedParty(1, "华东建材有限公司", ("华东集团",), valid_code()),
    ListedParty(2, "南方（广州）贸易有限公司"),
    ListedParty(3, "北方重工股份有限公司", ("北重",)),
]


def test_a_code_matches_exactly_whatever_the_name() -> None:
    found = match("完全不同的名字", (), valid_code().lower(), ENTRIES)
    assert found == [BlacklistMatch(1, "uscc", valid_code(), valid_code().lower())]


def test_a_name_matches_across_spacing_bracket_width_and_suffix() -> None:
    assert match("南方 (广州) 贸易", (), "", ENTRIES) == [
        BlacklistMatch(2, "name", "南方（广州）贸易有限公司", "南方 (广州) 贸易")
    ]


def test_an_alias_on_either_side_matches_as_alias() -> None:
    ours = match("华东集团有限公司", (), "", ENTRIES)
    assert ours == [BlacklistMatch(1, "alias", "华东集团", "华东集团有限公司")]
    theirs = match("无关公司", ("北方重工",), "", ENTRIES)
    assert theirs == [BlacklistMatch(3, "alias", "北方重工股份有限公司", "北方重工")]


def test_each_entry_is_reported_once_with_its_strongest_match() -> None:
    found = match("华东建材", ("华东集团",), valid_code(), ENTRIES)
    assert [(m.key, m.how) for m in found] == [(1, "uscc")]
    found = match("华东建材", ("华东集团",), "", ENTRIES)
    assert [(m.key, m.how) for m in found] == [(1, "name")]


def test_nothing_matches_an_unrelated_customer_or_empty_texts() -> None:
    assert match("西部物流有限公司", ("", " "), "", ENTRIES) == []
    assert match("", (), "", [ListedParty(9, "", ("",), "")]) == []
