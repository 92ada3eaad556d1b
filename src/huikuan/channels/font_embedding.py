"""The Chinese font as each PDF document embeds it: read once per process, subset per document.

fpdf2 on its own re-reads the whole font file for every document (``add_font`` decodes a cmap
and widths of 65,000 glyphs, about 0.4 s a face) and subsets it with fontTools when writing
(about 0.6 s a face for Noto CJK's CFF outlines). The daily run writes hundreds to thousands of
letters in one process, so here:

- each face is read once per process (:func:`_load_face`): fpdf2's own ``TTFFont`` is built once
  and every document gets a :class:`DocumentFont`, a copy sharing its read-only tables (cmap,
  widths, glyph ids, name) with a fresh subset map of its own;
- each glyph's outline is converted once per process to TrueType quadratic curves (fontTools'
  cu2qu, within 1/1000 em of the original: the same shapes at any zoom) and kept as compiled
  bytes; every character of the font is available this way, rare ones in a customer's name
  included — there is no working set to fall out of;
- when the document is written (:class:`EmbeddingOutputProducer`, fpdf2's documented
  ``output_producer_class`` hook, at the moment every glyph the document uses is known, page
  numbers included) a small TrueType font of just those glyphs is assembled from the cached
  bytes and handed to fpdf2, whose own subsetting of a few hundred glyphs then takes a few ms.

The document embeds a CIDFontType2 (FontFile2) subset instead of the CFF one fpdf2 embedded
before: same glyph shapes, same widths, same text extraction. The output is a function of the
document's text only (glyph order by the font's glyph id, no timestamps), so the same letter
gives the same bytes.
"""

from __future__ import annotations

import os
import threading
from copy import copy, deepcopy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from fontTools.ttLib.tables._g_l_y_f import Glyph as TrueTypeGlyph
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer

from huikuan.channels.fonts import FontFace, PdfFonts

# Tables copied as they are into every document's font; the rest is built per document.
_COPIED_TABLES = ("head", "hhea", "OS/2")
# The name records kept: copyright, family, style, unique id, full name, version, PostScript.
_NAME_IDS = range(7)


@dataclass(frozen=True, slots=True)
class _Outline:
    """One glyph as compiled TrueType ``glyf`` data, with what ``hmtx`` and ``maxp`` need."""

    data: bytes
    left_side_bearing: int
    points: int
    contours: int


class _LoadedFace:
    """One face of a font file, read once: fpdf2's metrics, and outlines converted on demand."""

    def __init__(self, face: FontFace) -> None:
        scratch = FPDF()
        scratch.add_font("face", "", str(face.path), collection_font_number=face.index)
        self.template: TTFFont = scratch.fonts["face"]  # type: ignore[assignment]
        source = self.template.ttfont  # the whole face; never subset nor closed
        self._glyph_set = source.getGlyphSet()
        self._cubic = "glyf" not in source  # CFF outlines: cubic, counter-clockwise
        self._max_error = source["head"].unitsPerEm / 1000
        self._advances = {name: metric[0] for name, metric in source["hmtx"].metrics.items()}
        self.notdef = source.getGlyphOrder()[0]
        self.tables = {tag: source.reader[tag] for tag in _COPIED_TABLES}
        self.tables["name"] = _name_table(source)
        self.tables["post"] = _post_table(source)
        self._outlines: dict[str, _Outline] = {}
        self._lock = threading.Lock()  # fontTools reads its tables lazily, not thread-safely

    def outlines(self, names: list[str]) -> dict[str, _Outline]:
        """The glyphs' outlines, converting the ones not seen before in this process."""
        with self._lock:
            for name in names:
                if name not in self._outlines:
                    self._outlines[name] = self._convert(name)
            return {name: self._outlines[name] for name in names}

    def advance(self, name: str) -> int:
        return self._advances[name]

    def _convert(self, name: str) -> _Outline:
        recording = DecomposingRecordingPen(self._glyph_set)
        self._glyph_set[name].draw(recording)
        pen = TTGlyphPen(None)
        if self._cubic:
            recording.replay(Cu2QuPen(pen, self._max_error, reverse_direction=True))
        else:
            recording.replay(pen)
        glyph = pen.glyph()
        data = glyph.compile(None)  # also computes the bounding box
        if glyph.numberOfContours <= 0:
            return _Outline(data, 0, 0, 0)
        return _Outline(data, glyph.xMin, len(glyph.coordinates), glyph.numberOfContours)


def _name_table(source: TTFont) -> bytes:
    table = newTable("name")
    table.names = [
        record
        for record in source["name"].names
        if record.nameID in _NAME_IDS and record.platformID == 3 and record.langID == 0x409
    ]
    return bytes(table.compile(source))


def _post_table(source: TTFont) -> bytes:
    """``post`` version 3: no glyph names (the PDF addresses glyphs by number)."""
    table = newTable("post")
    original = source["post"]
    table.formatType = 3.0
    table.italicAngle = original.italicAngle
    table.underlinePosition = original.underlinePosition
    table.underlineThickness = original.underlineThickness
    table.isFixedPitch = original.isFixedPitch
    table.minMemType42 = table.maxMemType42 = table.minMemType1 = table.maxMemType1 = 0
    return bytes(table.compile(source))


@lru_cache(maxsize=4)
def _load_face(face: FontFace, mtime_ns: int, size: int) -> _LoadedFace:
    """Keyed by the file's modification time and size too: a font upgraded under a running
    server is read again."""
    return _LoadedFace(face)


def loaded_face(face: FontFace) -> _LoadedFace:
    stat = os.stat(face.path)
    return _load_face(face, stat.st_mtime_ns, stat.st_size)


# ---------------------------------------------------------------- one document's font


class DocumentFont(TTFFont):
    """fpdf2's font for one document: the face's shared read-only tables, its own subset map.

    ``ttfont`` (the font program fpdf2 subsets and embeds) stays unset until the document is
    written, when :meth:`make_program` builds it from the glyphs the document used.
    """

    __slots__ = ("face",)

    face: _LoadedFace

    def make_program(self) -> None:
        glyphs = sorted(
            (glyph.glyph_id, glyph.glyph_name, glyph.unicode)
            for glyph, _ in self.subset.items()
            if glyph is not None and glyph.glyph_name != ".notdef"
        )
        self.ttfont = _program(self.face, glyphs)

    def __deepcopy__(self, memo: dict[int, Any]) -> DocumentFont:
        """What fpdf2's ``unbreakable()`` and ``offset_rendering()`` copy: the same shared
        tables, a copy of the per-document state."""
        twin = _share(self, self.face)
        memo[id(self)] = twin
        twin.subset = deepcopy(self.subset, memo)
        twin.missing_glyphs = list(self.missing_glyphs)
        twin.biggest_size_pt = self.biggest_size_pt
        return twin


def _share(font: TTFFont, face: _LoadedFace) -> DocumentFont:
    """A :class:`DocumentFont` sharing every attribute of ``font`` except its font program."""
    twin = DocumentFont.__new__(DocumentFont)
    for slot in TTFFont.__slots__:
        if slot != "ttfont" and hasattr(font, slot):  # fpdf2 leaves some slots unset
            setattr(twin, slot, getattr(font, slot))
    twin.face = face
    return twin


def add_document_font(pdf: FPDF, family: str, style: str, face: FontFace) -> None:
    """Like ``pdf.add_font(family, style, face.path)``, from the face read once per process."""
    loaded = loaded_face(face)
    font = _share(loaded.template, loaded)
    font.i = len(pdf.fonts) + 1
    font.fontkey = f"{family.lower()}{style}"
    font.emphasis = TextEmphasis.coerce(style)
    font.desc = copy(loaded.template.desc)  # fpdf2 numbers it and attaches the font file
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.is_cff = font.is_cid_keyed = False  # the program embedded is TrueType
    font.cff_ros = None
    font._hbfont = None
    font.color_font = None
    pdf.fonts[font.fontkey] = font


def add_document_fonts(pdf: FPDF, family: str, fonts: PdfFonts) -> None:
    add_document_font(pdf, family, "", fonts.regular)
    add_document_font(pdf, family, "B", fonts.bold)


class EmbeddingOutputProducer(OutputProducer):
    """fpdf2's output, after giving each :class:`DocumentFont` the program of its glyphs."""

    def bufferize(self) -> bytearray:
        for font in self.fpdf.fonts.values():
            if isinstance(font, DocumentFont):
                font.make_program()
        return super().bufferize()


# ---------------------------------------------------------------- the font program


def _program(face: _LoadedFace, glyphs: list[tuple[int, str, Any]]) -> TTFont:
    """A TrueType font of ``.notdef`` and ``glyphs`` (id, name, unicodes), ids in font order.

    Glyph names are the face's own, so fpdf2 finds each glyph it picked by name.
    """
    used = list(dict.fromkeys(name for _, name, _ in glyphs if name != face.notdef))
    sources = [face.notdef, *used]  # two characters may share one glyph (⼀ and 一)
    names = [".notdef", *used]  # fpdf2 calls glyph 0 ".notdef" whatever the face calls it
    outlines = face.outlines(sources)
    font = TTFont(recalcBBoxes=False, recalcTimestamp=False)
    font.setGlyphOrder(names)
    for tag, data in face.tables.items():
        table = newTable(tag)
        table.decompile(data, font)
        font[tag] = table
    glyf = newTable("glyf")
    glyf.glyphOrder = names
    glyf.glyphs = {
        name: TrueTypeGlyph(outlines[source].data)
        for name, source in zip(names, sources, strict=True)
    }
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    hmtx = newTable("hmtx")
    hmtx.metrics = {
        name: (face.advance(source), outlines[source].left_side_bearing)
        for name, source in zip(names, sources, strict=True)
    }
    font["hmtx"] = hmtx
    font["maxp"] = _maxp(list(outlines.values()), len(names))
    font["cmap"] = _cmap(glyphs)
    return font


def _maxp(outlines: list[_Outline], count: int) -> Any:
    table = newTable("maxp")
    table.tableVersion = 0x00010000
    table.numGlyphs = count
    table.maxPoints = max(outline.points for outline in outlines)
    table.maxContours = max(outline.contours for outline in outlines)
    table.maxZones = 2
    for field in (
        "maxCompositePoints",
        "maxCompositeContours",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(table, field, 0)
    return table


def _cmap(glyphs: list[tuple[int, str, Any]]) -> Any:
    """Unicode → glyph, BMP in format 4 and, when a character is beyond it, all in format 12."""
    mapping = {
        code: name
        for _, name, unicodes in glyphs
        for code in (unicodes if isinstance(unicodes, tuple) else (unicodes,))
    }
    subtables = [_subtable(4, 1, {c: n for c, n in mapping.items() if c <= 0xFFFF})]
    if any(code > 0xFFFF for code in mapping):
        subtables.append(_subtable(12, 10, mapping))
    table = newTable("cmap")
    table.tableVersion = 0
    table.tables = subtables
    return table


def _subtable(format_: int, encoding: int, mapping: dict[int, str]) -> Any:
    subtable = CmapSubtable.newSubtable(format_)
    subtable.platformID = 3
    subtable.platEncID = encoding
    subtable.language = 0
    subtable.cmap = mapping
    return subtable
