"""The Chinese font that PDF letters and statements embed.

Letters go to customers and, when it comes to that, to a court: what a reader sees must not depend
on the fonts of the reader's computer, so the glyphs are embedded (subset to the characters used).
The font comes from the machine, never from the network: Debian's ``fonts-noto-cjk`` package
(installed by ``scripts/run.sh`` and ``scripts/test.sh``) gives Noto Serif CJK SC (a Song-style
face, the usual choice for formal letters) and Noto Sans CJK SC. ``HUIKUAN_PDF_FONT`` names any
other TTF/OTF/TTC file (``/path/font.ttc#2`` picks the third face of a collection) and
``HUIKUAN_PDF_FONT_BOLD`` its bold companion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from huikuan.core.errors import HuikuanError

FONT_ENV = "HUIKUAN_PDF_FONT"
BOLD_FONT_ENV = "HUIKUAN_PDF_FONT_BOLD"
FONT_PACKAGE = "fonts-noto-cjk"

_NOTO = "/usr/share/fonts/opentype/noto"
# (regular, bold) in order of preference; a missing bold falls back to the regular face.
_KNOWN_FONTS: tuple[tuple[str, str | None], ...] = (
    (f"{_NOTO}/NotoSerifCJK-Regular.ttc", f"{_NOTO}/NotoSerifCJK-Bold.ttc"),
    (f"{_NOTO}/NotoSansCJK-Regular.ttc", f"{_NOTO}/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
)
# Characters every letter uses: the font must have them, else it cannot write Chinese.
_PROBE = "催款函贵司¥"


class FontMissing(HuikuanError):
    """No usable Chinese font: an installation problem, named with the package that fixes it."""

    code = "pdf_font_missing"


@dataclass(frozen=True, slots=True)
class FontFace:
    """One face of a font file; ``index`` picks the face inside a collection (.ttc)."""

    path: Path
    index: int = 0


@dataclass(frozen=True, slots=True)
class PdfFonts:
    regular: FontFace
    bold: FontFace


def find_fonts(environ: Mapping[str, str] | None = None) -> PdfFonts:
    """The fonts to embed: ``HUIKUAN_PDF_FONT`` if set, else the first known font installed."""
    env = os.environ if environ is None else environ
    return _find_fonts(env.get(FONT_ENV, "").strip(), env.get(BOLD_FONT_ENV, "").strip())


@lru_cache(maxsize=8)
def _find_fonts(regular_spec: str, bold_spec: str) -> PdfFonts:
    if regular_spec:
        regular = _face_from_spec(regular_spec, FONT_ENV)
        bold = _face_from_spec(bold_spec, BOLD_FONT_ENV) if bold_spec else regular
        return PdfFonts(regular, bold)
    for regular_path, bold_path in _KNOWN_FONTS:
        if not Path(regular_path).is_file():
            continue
        regular = _checked_face(Path(regular_path), None, regular_path)
        bold = regular
        if bold_path and Path(bold_path).is_file():
            bold = _checked_face(Path(bold_path), None, bold_path)
        return PdfFonts(regular, bold)
    raise FontMissing(
        f"找不到可嵌入 PDF 的中文字体：请安装 Debian 软件包 {FONT_PACKAGE}"
        f"（apt-get install {FONT_PACKAGE}），或用环境变量 {FONT_ENV} 指定 TTF/OTF/TTC 字体文件"
        f" / no Chinese font to embed in PDF documents: install the Debian package {FONT_PACKAGE}"
        f" (apt-get install {FONT_PACKAGE}) or point {FONT_ENV} at a TTF/OTF/TTC font file"
    )


def _face_from_spec(spec: str, variable: str) -> FontFace:
    path_text, _, index_text = spec.partition("#")
    index: int | None = None
    if index_text:
        if not index_text.isdigit():
            raise FontMissing(
                f"{variable} 的字体序号 '{index_text}' 不是数字 / "
                f"{variable}: the face number '{index_text}' is not a number"
            )
        index = int(index_text)
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise FontMissing(
            f"{variable} 指定的字体文件不存在：{path} / {variable}: no font file at {path}"
        )
    return _checked_face(path, index, variable)


def _checked_face(path: Path, index: int | None, source: str) -> FontFace:
    """Open the font, pick the Simplified Chinese face of a collection, check it has Chinese."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            collection = TTCollection(str(path), lazy=True)
            fonts = list(collection.fonts)
            if index is None:
                index = _simplified_chinese_face(fonts)
            if index >= len(fonts):
                raise FontMissing(
                    f"{source}：字体集只有 {len(fonts)} 个字体 / "
                    f"{source}: the collection has only {len(fonts)} faces"
                )
            font = fonts[index]
        else:
            font = TTFont(str(path), lazy=True)
            index = 0
        cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError) as exc:
        raise FontMissing(
            f"{source}：无法读取字体文件 {path} / {source}: cannot read the font file {path} ({exc})"
        ) from exc
    missing = [ch for ch in _PROBE if ord(ch) not in cmap]
    if missing:
        raise FontMissing(
            f"{source}：字体 {path} 没有中文字形 / {source}: the font {path} has no Chinese "
            f"glyphs (missing {''.join(missing)}); install {FONT_PACKAGE}"
        )
    return FontFace(path, index)


def _simplified_chinese_face(fonts: list[object]) -> int:
    """The face of a CJK collection meant for Simplified Chinese ("SC"), else the first."""
    for i, font in enumerate(fonts):
        name = font["name"].getDebugName(1) or ""  # type: ignore[index]
        if name.endswith(" SC") and "Mono" not in name:
            return i
    return 0
