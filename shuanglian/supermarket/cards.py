"""Printable card sheets: A4 PDF, eight cards per page, Chinese text, a QR code on each.

Chinese text uses reportlab's built-in CID font STSong-Light (Adobe-GB1), which every PDF
reader supplies, so no font file ships with the package.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

from reportlab.graphics import renderPDF
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from shuanglian.supermarket.codes import code128_drawing, listing_url, qr_matrix
from shuanglian.supermarket.models import Listing
from shuanglian.supermarket.service import MODES, unfence

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 4
MARGIN = 10 * mm
GAP = 4 * mm
QR_SIZE = 30 * mm
MAX_IDS = 200


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


def wrap_text(text: str, *, size: float, width: float, max_lines: int) -> list[str]:
    """Break `text` into lines no wider than `width` points, char by char (CJK has no spaces).

    The last line ends with an ellipsis when text is left over.
    """
    font = _register_font()
    lines: list[str] = []
    current = ""
    for ch in " ".join(text.split()):
        if pdfmetrics.stringWidth(current + ch, font, size) <= width:
            current += ch
            continue
        lines.append(current)
        current = ch.lstrip()
        if len(lines) == max_lines:
            break
    else:
        if current:
            lines.append(current)
        return lines
    last = lines[-1]
    while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(url)
    n = len(matrix)
    cell = size / n
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                # PDF y grows upwards; row 0 is the top of the code.
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)


def _draw_card(
    canvas: Canvas, listing: Listing, base_url: str, x: float, y: float, w: float, h: float
) -> None:
    font = _register_font()
    pad = 4 * mm
    canvas.setStrokeColorRGB(0.55, 0.6, 0.65)
    canvas.setLineWidth(0.6)
    canvas.roundRect(x, y, w, h, 3 * mm, stroke=1, fill=0)
    canvas.setFillColorRGB(0.05, 0.3, 0.55)
    canvas.setFont(font, 8)
    canvas.drawString(x + pad, y + h - pad - 6, "科技成果超市 · " + listing.number)
    canvas.setFillColorRGB(0, 0, 0)
    text_w = w - 2 * pad
    top = y + h - pad - 20
    canvas.setFont(font, 12)
    for line in wrap_text(listing.title, size=12, width=text_w, max_lines=2):
        canvas.drawString(x + pad, top, line)
        top -= 15
    canvas.setFont(font, 8)
    canvas.setFillColorRGB(0.25, 0.25, 0.25)
    facts = []
    if listing.institution is not None:
        facts.append(listing.institution.name)
    modes = "、".join(MODES[m][0] for m in unfence(listing.modes) if m in MODES)
    if modes:
        facts.append("合作方式：" + modes)
    price = "面议" if listing.price is None else f"{listing.price.normalize():f} 万元"
    facts.append("价格：" + price + (f"　TRL {listing.trl}" if listing.trl else ""))
    for fact in facts:
        for line in wrap_text(fact, size=8, width=text_w - QR_SIZE - 2 * mm, max_lines=2):
            canvas.drawString(x + pad, top, line)
            top -= 10
    canvas.setFillColorRGB(0, 0, 0)
    url = listing_url(base_url, listing.id)
    _draw_qr(canvas, url, x + w - pad - QR_SIZE, y + pad, QR_SIZE)
    barcode = code128_drawing(listing.number, bar_height=9 * mm, bar_width=0.8)
    renderPDF.draw(barcode, canvas, x + pad, y + pad)
    canvas.setFont(font, 6)
    canvas.drawString(x + pad, y + pad + 12 * mm, "扫码查看详情 Scan for details")


def card_sheet_pdf(listings: Sequence[Listing], *, base_url: str) -> bytes:
    """An A4 PDF with COLUMNS × ROWS cards per page, one per listing, in the order given."""
    _register_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle("科技成果超市 卡片 (technology market cards)")
    canvas.setAuthor("shuanglian")
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN - (COLUMNS - 1) * GAP) / COLUMNS
    card_h = (page_h - 2 * MARGIN - (ROWS - 1) * GAP) / ROWS
    per_page = COLUMNS * ROWS
    for index, listing in enumerate(listings):
        slot = index % per_page
        if index and slot == 0:
            canvas.showPage()
        col, row = slot % COLUMNS, slot // COLUMNS
        x = MARGIN + col * (card_w + GAP)
        y = page_h - MARGIN - (row + 1) * card_h - row * GAP
        _draw_card(canvas, listing, base_url, x, y, card_w, card_h)
    if not listings:
        canvas.setFont(FONT, 14)
        canvas.drawString(MARGIN, page_h - MARGIN - 20, "没有可打印的成果 (no listings)")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
