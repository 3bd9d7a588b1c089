"""Card sheets: wrapping by measured width, and cards drawn without overlaps (checked on what a
real canvas was asked to draw), the barcode SVG's digits clear of its bars."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from shuanglian.supermarket.cards import (
    FONT,
    Box,
    card_frames,
    card_layout,
    draw_card,
    font_extent,
    wrap_text,
)
from shuanglian.supermarket.codes import code128_svg, listing_url, qr_matrix


@settings(max_examples=60)
@given(
    st.text(
        alphabet="一种基于深度学习的水下机器人导航方法ABC xyz，。0123", min_size=1, max_size=200
    )
)
def test_wrapped_lines_fit_and_truncation_is_marked(text: str) -> None:
    width = 150.0
    lines = wrap_text(text, size=12, width=width, max_lines=2)
    assert len(lines) <= 2
    for line in lines:
        assert pdfmetrics.stringWidth(line, FONT, 12) <= width + 0.01
    joined = "".join(lines).replace(" ", "")
    if not joined.endswith("…"):
        assert joined == " ".join(text.split()).replace(" ", "")


def test_qr_urls_carry_their_source() -> None:
    assert listing_url("http://example.org/", 7) == "http://example.org/market/7?src=qr"
    assert listing_url("http://example.org", 7, source=None) == "http://example.org/market/7"
    matrix = qr_matrix(listing_url("http://example.org", 7))
    assert len(matrix) == len(matrix[0]) >= 21  # square, at least version 1


# ---------------------------------------------------------------- layout from measured text

LONG_EN = (
    "Ultrasonic-assisted recovery of cathode materials from spent lithium batteries "
    "with closed-loop electrolyte regeneration"
)


class RecordingCanvas(Canvas):
    """A real reportlab canvas that also notes where each string and filled rectangle lands,
    measured from what was drawn (font, size, position), not from the layout's own boxes."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO())
        self.texts: list[tuple[str, Box]] = []
        self.fills: list[Box] = []

    def drawString(self, x, y, text, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: N802
        size = self._fontsize
        ascent, descent = font_extent()
        width = pdfmetrics.stringWidth(text, self._fontname, size)
        bottom = y + descent * size
        self.texts.append((text, Box(text, x, bottom, width, (ascent - descent) * size)))
        return super().drawString(x, y, text, *args, **kwargs)

    def rect(self, x, y, width, height, stroke=1, fill=0):  # type: ignore[no-untyped-def]
        if fill:
            self.fills.append(Box("fill", x, y, width, height))
        return super().rect(x, y, width, height, stroke=stroke, fill=fill)


def _listing(**kw) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    base = {
        "id": 42,
        "number": "SL000042",
        "title": LONG_EN,
        "institution": SimpleNamespace(name="中国科学院过程工程研究所"),
        "modes": ",licence,transfer,open_licence,",
        "price": Decimal("120.5"),
        "trl": 7,
        "open_licence_terms": "开放许可使用费：每年 2 万元",
    }
    base.update(kw)
    return SimpleNamespace(**base)


def _inside(inner: Box, outer: Box, slack: float = 0.01) -> bool:
    return (
        inner.x >= outer.x - slack
        and inner.y >= outer.y - slack
        and inner.x + inner.w <= outer.x + outer.w + slack
        and inner.y + inner.h <= outer.y + outer.h + slack
    )


@pytest.mark.parametrize(
    "listing",
    [
        _listing(),
        _listing(
            title="一种基于深度学习的水下机器人自主导航与避障方法及其在海洋牧场巡检中的应用系统"
        ),
        _listing(price=None, trl=None, modes=",licence,", institution=None),
        _listing(title="X" * 300, id=999999, number="SL999999"),
    ],
    ids=["english", "chinese", "sparse", "unbroken"],
)
def test_a_drawn_card_has_no_overlaps(listing) -> None:  # type: ignore[no-untyped-def]
    """Draw a card on a real canvas and compare what landed where: no string touches another
    string, a bar or a QR module, and everything stays inside the card."""
    x, y, w, h = card_frames(1)[0]
    layout = card_layout(listing, "http://example.org", x, y, w, h)
    boxes = layout.boxes()
    for i, a in enumerate(boxes):
        assert _inside(a, layout.frame), a
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    canvas = RecordingCanvas()
    draw_card(canvas, layout)
    assert canvas.texts and len(canvas.fills) > 100  # bars and QR modules were drawn
    for i, (text, a) in enumerate(canvas.texts):
        assert _inside(a, layout.frame), text
        for other, b in canvas.texts[i + 1 :]:
            assert not a.overlaps(b), (text, other)
        touching = [f for f in canvas.fills if a.overlaps(f)]
        assert not touching, (text, touching[:1])
        assert "·" not in text  # not in STSong-Light's map: printed as a missing glyph


def test_english_titles_break_between_words_and_price_stands_apart_from_trl() -> None:
    x, y, w, h = card_frames(1)[0]
    layout = card_layout(_listing(), "http://example.org", x, y, w, h)
    title = [line.text for line in layout.lines if line.box.name == "title"]
    words = set(LONG_EN.split())
    for line in title:
        for word in line.removesuffix("…").split():
            assert word in words or line.endswith("…"), word
    assert len(title) == 2 and title[0].split()[-1] in words
    facts = [line.text for line in layout.lines if line.box.name == "fact"]
    price = next(f for f in facts if f.startswith("价格"))
    assert "TRL" not in price and "开放许可使用费 120.5 万元" in price
    assert any(f == "技术成熟度：TRL 7/9" for f in facts)


def test_barcode_svg_digits_sit_below_the_bars() -> None:
    svg = ElementTree.fromstring(code128_svg("SL000042"))
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = svg.findall("s:g/s:rect", ns)
    assert len(bars) > 20
    bottom = max(float(r.get("y", 0)) + float(r.get("height", 0)) for r in bars)
    text = svg.find("s:text", ns)
    assert text is not None and text.text == "SL000042"
    size = float(text.get("font-size", 0))
    # A full em above the baseline still clears the bars' bottom edge.
    assert float(text.get("y", 0)) - size >= bottom
    assert float(svg.get("height", 0)) >= float(text.get("y", 0)) + 0.2 * size
    assert re.fullmatch(r"[\d.]+", svg.get("width", ""))
