"""Printable card sheets: A4 PDF, eight cards per page, Chinese text, a QR code on each.

Chinese text uses reportlab's built-in CID font STSong-Light (Adobe-GB1), which every PDF
reader supplies, so no font file ships with the package. Its Unicode map lacks some Western
punctuation (U+00B7 · showed as a missing glyph), so cards use no separator glyph at all.

Every piece of a card is laid out from measured text (`pdfmetrics.stringWidth`) into a box
(`card_layout`), and drawing only fills those boxes; tests/supermarket/test_cards.py checks that
no two boxes overlap and that what is drawn stays inside them.
"""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from shuanglian.supermarket.codes import (
    CODE128_QUIET_MODULES,
    code128_runs,
    listing_url,
    qr_matrix,
)
from shuanglian.supermarket.models import Listing
from shuanglian.supermarket.service import MODES, price_words, unfence

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 4
MARGIN = 10 * mm
GAP = 4 * mm
QR_SIZE = 30 * mm
MAX_IDS = 200
PAD = 4 * mm
BAR_HEIGHT = 9 * mm
BAR_MODULE = 0.8  # points per Code128 module
HEADER_SIZE, TITLE_SIZE, FACT_SIZE, SMALL_SIZE = 8.0, 12.0, 8.0, 6.0
LEADING = 1.25  # line height as a multiple of the font size
SCAN_LABEL = "扫码查看详情 Scan for details"
# A Latin word, number or code (kept whole when wrapping); any other character stands alone.
_UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-.,:;/%&+]*|\s+|.", re.S)


# Columns that change without changing what a card shows (counters, their timestamp).
_VOLATILE = frozenset({"view_count", "scan_count", "updated_at"})


def sheet_key(listings: Sequence[Listing], *, base_url: str) -> tuple[object, ...]:
    """What a card sheet depends on: the listings' own values (less counters), their
    institutions' names, the order and the site address; an edited listing gets a new key,
    so a cached sheet is never stale."""
    columns = [c.key for c in Listing.__table__.columns if c.key not in _VOLATILE]
    return (
        base_url,
        tuple(
            (
                tuple(repr(getattr(listing, name)) for name in columns),
                listing.institution.name if listing.institution else None,
            )
            for listing in listings
        ),
    )


class SheetCache:
    """The most recently rendered card sheets (a sheet of 60 cards costs ~0.3 s of CPU):
    an exhibition prints the same few sheets again and again."""

    def __init__(self, *, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._sheets: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> bytes | None:
        with self._lock:
            pdf = self._sheets.get(key)
            if pdf is not None:
                self._sheets.move_to_end(key)
            return pdf

    def put(self, key: tuple[object, ...], pdf: bytes) -> None:
        with self._lock:
            self._sheets[key] = pdf
            self._sheets.move_to_end(key)
            while len(self._sheets) > self.max_entries:
                self._sheets.popitem(last=False)


@lru_cache(maxsize=1)
def _register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def text_width(text: str, size: float) -> float:
    """Width in points of `text` set in the card font at `size`."""
    return float(pdfmetrics.stringWidth(text, _register_font(), size))


def wrap_text(text: str, *, size: float, width: float, max_lines: int) -> list[str]:
    """Break `text` into lines no wider than `width` points.

    Chinese breaks between any two characters; an English word moves whole to the next line
    (it is split only when it alone is wider than the line). The last line ends with an
    ellipsis when text is left over.
    """
    lines: list[str] = []
    current = ""
    units = _UNIT.findall(" ".join(text.split()))
    i = 0
    while i < len(units):
        unit = units[i]
        if unit.isspace() and not current:
            i += 1
            continue
        if text_width(current + unit, size) <= width:
            current += unit
            i += 1
            continue
        if not current:
            # One word wider than the line: split it where it must be split.
            cut = 1
            while cut < len(unit) and text_width(unit[: cut + 1], size) <= width:
                cut += 1
            current, units[i] = unit[:cut], unit[cut:]
        lines.append(current.rstrip())
        current = ""
        if len(lines) == max_lines:
            break
    else:
        if current.strip():
            lines.append(current.rstrip())
        return lines
    last = lines[-1]
    while last and text_width(last + "…", size) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return lines


@dataclass(frozen=True)
class Box:
    """One drawn piece of a card, in PDF points (y grows upwards)."""

    name: str
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


@dataclass(frozen=True)
class TextLine:
    """A line of text and its box; the baseline sits a descent above the box's bottom."""

    box: Box
    text: str
    size: float


def _line(name: str, text: str, size: float, x: float, top: float) -> TextLine:
    """`text` set at `size` with its box's top at `top`."""
    height = size * LEADING
    return TextLine(Box(name, x, top - height, text_width(text, size), height), text, size)


@dataclass(frozen=True)
class CardLayout:
    """Where everything on one card goes: text lines, the QR code and the barcode."""

    frame: Box
    lines: list[TextLine]
    qr: Box
    bars: Box
    runs: tuple[tuple[bool, int], ...]
    url: str

    def boxes(self) -> list[Box]:
        return [line.box for line in self.lines] + [self.qr, self.bars]


def card_facts(listing: Listing) -> list[str]:
    """The short facts under the title, one per line group: who, how, what price, how mature."""
    facts = []
    if listing.institution is not None:
        facts.append(listing.institution.name)
    modes = "、".join(MODES[m][0] for m in unfence(listing.modes) if m in MODES)
    if modes:
        facts.append("合作方式：" + modes)
    facts.append("价格：" + price_words(listing)[0])
    if listing.trl:
        facts.append(f"技术成熟度：TRL {listing.trl}/9")
    return facts


def card_layout(
    listing: Listing, base_url: str, x: float, y: float, w: float, h: float
) -> CardLayout:
    """Lay out one card in the frame (x, y, w, h) from measured text.

    Top to bottom: a header (market name left, number right), the title over the full width,
    then the facts in the column left of the QR code. The QR code sits bottom right with its
    label under it; the barcode sits bottom left with its number under the bars.
    """
    _register_font()
    inner_x, inner_w = x + PAD, w - 2 * PAD
    lines: list[TextLine] = []
    top = y + h - PAD
    lines.append(_line("header", "科技成果超市", HEADER_SIZE, inner_x, top))
    number = _line("number", listing.number, HEADER_SIZE, inner_x, top)
    lines.append(
        TextLine(
            Box(
                "number", inner_x + inner_w - number.box.w, number.box.y, number.box.w, number.box.h
            ),
            number.text,
            HEADER_SIZE,
        )
    )
    top -= HEADER_SIZE * LEADING + 1.5 * mm
    for text in wrap_text(listing.title, size=TITLE_SIZE, width=inner_w, max_lines=2):
        lines.append(_line("title", text, TITLE_SIZE, inner_x, top))
        top -= TITLE_SIZE * LEADING
    top -= 1 * mm

    # Bottom right: the QR code with its label under it.
    label_w = text_width(SCAN_LABEL, SMALL_SIZE)
    label_h = SMALL_SIZE * LEADING
    qr = Box("qr", x + w - PAD - QR_SIZE, y + PAD + label_h + 0.5 * mm, QR_SIZE, QR_SIZE)
    lines.append(
        TextLine(
            Box("scan-label", qr.x + QR_SIZE - label_w, y + PAD, label_w, label_h),
            SCAN_LABEL,
            SMALL_SIZE,
        )
    )
    # Bottom left: the bars, then the number under them with a clear gap.
    runs = code128_runs(listing.number)
    modules = sum(width for _, width in runs)
    digits = _line("barcode-number", listing.number, SMALL_SIZE, inner_x, y + PAD + label_h)
    bars = Box(
        "bars",
        inner_x + CODE128_QUIET_MODULES * BAR_MODULE,
        y + PAD + label_h + 0.8 * mm,
        modules * BAR_MODULE,
        BAR_HEIGHT,
    )
    centred = bars.x + (bars.w - digits.box.w) / 2
    lines.append(
        TextLine(
            Box(digits.box.name, centred, y + PAD, digits.box.w, label_h),
            listing.number,
            SMALL_SIZE,
        )
    )

    # The facts fill the column left of the QR code, down to just above the bars.
    fact_w = qr.x - 2 * mm - inner_x
    floor = max(bars.y + bars.h, y) + 1 * mm
    fact_h = FACT_SIZE * LEADING
    room = int((top - floor) // fact_h)
    for fact in card_facts(listing):
        if room <= 0:
            break
        for text in wrap_text(fact, size=FACT_SIZE, width=fact_w, max_lines=min(2, room)):
            lines.append(_line("fact", text, FACT_SIZE, inner_x, top))
            top -= fact_h
            room -= 1
    return CardLayout(
        frame=Box("card", x, y, w, h),
        lines=lines,
        qr=qr,
        bars=bars,
        runs=runs,
        url=listing_url(base_url, listing.id),
    )


def font_extent() -> tuple[float, float]:
    """The font's ascent and descent (negative) per point of size, from its own metrics."""
    face = pdfmetrics.getFont(_register_font()).face
    return face.ascent / 1000, face.descent / 1000


def baseline(line: TextLine) -> float:
    """The baseline that centres a line's glyphs (ascent to descent) in its box."""
    ascent, descent = font_extent()
    return line.box.y + (line.box.h - (ascent - descent) * line.size) / 2 - descent * line.size


def _draw_qr(canvas: Canvas, url: str, box: Box) -> None:
    matrix = qr_matrix(url)
    cell = box.w / len(matrix)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                # PDF y grows upwards; row 0 is the top of the code.
                canvas.rect(
                    box.x + c * cell, box.y + box.h - (r + 1) * cell, cell, cell, stroke=0, fill=1
                )


def _draw_bars(canvas: Canvas, runs: tuple[tuple[bool, int], ...], box: Box) -> None:
    x = box.x
    for is_bar, width in runs:
        if is_bar:
            canvas.rect(x, box.y, width * BAR_MODULE, box.h, stroke=0, fill=1)
        x += width * BAR_MODULE


def draw_card(canvas: Canvas, layout: CardLayout) -> None:
    """Draw a laid-out card: the frame, each text line at its box, the codes."""
    frame = layout.frame
    canvas.setStrokeColorRGB(0.55, 0.6, 0.65)
    canvas.setLineWidth(0.6)
    canvas.roundRect(frame.x, frame.y, frame.w, frame.h, 3 * mm, stroke=1, fill=0)
    for line in layout.lines:
        if line.box.name in ("header", "number"):
            canvas.setFillColorRGB(0.05, 0.3, 0.55)
        elif line.box.name == "fact":
            canvas.setFillColorRGB(0.25, 0.25, 0.25)
        else:
            canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(FONT, line.size)
        canvas.drawString(line.box.x, baseline(line), line.text)
    canvas.setFillColorRGB(0, 0, 0)
    _draw_qr(canvas, layout.url, layout.qr)
    _draw_bars(canvas, layout.runs, layout.bars)


def card_sheet_pdf(listings: Sequence[Listing], *, base_url: str) -> bytes:
    """An A4 PDF with COLUMNS × ROWS cards per page, one per listing, in the order given."""
    _register_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle("科技成果超市 卡片 (technology market cards)")
    canvas.setAuthor("shuanglian")
    for index, (x, y, w, h) in enumerate(card_frames(len(listings))):
        if index and index % (COLUMNS * ROWS) == 0:
            canvas.showPage()
        draw_card(canvas, card_layout(listings[index], base_url, x, y, w, h))
    if not listings:
        canvas.setFont(FONT, 14)
        canvas.drawString(MARGIN, A4[1] - MARGIN - 20, "没有可打印的成果 (no listings)")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def card_frames(count: int) -> list[tuple[float, float, float, float]]:
    """The (x, y, w, h) of each of `count` cards on its page, filling rows left to right."""
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN - (COLUMNS - 1) * GAP) / COLUMNS
    card_h = (page_h - 2 * MARGIN - (ROWS - 1) * GAP) / ROWS
    frames = []
    for index in range(count):
        slot = index % (COLUMNS * ROWS)
        col, row = slot % COLUMNS, slot // COLUMNS
        x = MARGIN + col * (card_w + GAP)
        y = page_h - MARGIN - (row + 1) * card_h - row * GAP
        frames.append((x, y, card_w, card_h))
    return frames
