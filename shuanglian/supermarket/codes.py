"""QR codes (segno) and Code128 barcodes (reportlab) for listing cards."""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.shapes import Drawing


def listing_url(base_url: str, listing_id: int, *, source: str | None = "qr") -> str:
    """The stable public address of a listing; cards carry `?src=qr` so scans count apart."""
    url = f"{base_url.rstrip('/')}/market/{listing_id}"
    return f"{url}?src={source}" if source else url


@lru_cache(maxsize=2048)
def _qr(url: str) -> segno.QRCode:
    # Error correction M survives a smudged or partly covered card; short URLs keep it small.
    return segno.make_qr(url, error="m")


def qr_svg(url: str, *, scale: int = 4) -> bytes:
    """The QR code of `url` as a standalone SVG document."""
    buf = io.BytesIO()
    _qr(url).save(buf, kind="svg", scale=scale, border=2, xmldecl=True, svgns=True, title="QR")
    return buf.getvalue()


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """The QR code of `url` as a PNG image (scale = pixels per module)."""
    buf = io.BytesIO()
    _qr(url).save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def qr_matrix(url: str) -> tuple[tuple[int, ...], ...]:
    """The QR modules (1 = dark) without border, for drawing into a PDF."""
    return tuple(tuple(row) for row in _qr(url).matrix)


def code128_drawing(value: str, *, bar_height: float = 28.0, bar_width: float = 1.0) -> Drawing:
    """A reportlab Drawing of `value` as Code128 with the human-readable text under it."""
    return createBarcodeDrawing(
        "Code128",
        value=value,
        barHeight=bar_height,
        barWidth=bar_width,
        humanReadable=True,
        quiet=True,
    )


def code128_svg(value: str) -> bytes:
    """`value` as a Code128 barcode in SVG."""
    return renderSVG.drawToString(code128_drawing(value)).encode("utf-8")
