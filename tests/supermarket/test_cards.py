"""Card sheet layout helpers: Chinese wrapping and the A4 page count."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase import pdfmetrics

from shuanglian.supermarket.cards import FONT, wrap_text
from shuanglian.supermarket.codes import listing_url, qr_matrix


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
