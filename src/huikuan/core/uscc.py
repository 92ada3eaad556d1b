"""The unified social credit code (统一社会信用代码, GB 32100-2015) every Chinese company and
organisation carries: 18 characters, the last a check character over the first 17. Pure."""

from __future__ import annotations

import re

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18
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
