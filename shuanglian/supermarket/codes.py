"""QR codes (segno) and Code128 barcodes (reportlab; PNG drawn with Pillow) for listing cards."""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.shapes import Drawing

# Code128 needs a quiet zone of at least ten modules on each side (ISO/IEC 15417 §4.3.3) or
# scanners cannot find where the symbol starts.
CODE128_QUIET_MODULES = 10


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


def code128_runs(value: str) -> tuple[tuple[bool, int], ...]:
    """The Code128 symbol of `value` as runs (is_bar, width in modules), start to stop.

    reportlab does the encoding (code set choice, checksum); its `decomposed` string spells
    each run as a letter whose position in the alphabet is the width: upper case a bar,
    lower case a space.
    """
    symbol = Code128(value, quiet=0, barWidth=1)
    symbol.validate()
    if not symbol.valid:
        raise ValueError(f"Code128 encodes ASCII only, not {value!r}")
    symbol.encode()
    symbol.decompose()
    return tuple((char.isupper(), ord(char.lower()) - ord("a") + 1) for char in symbol.decomposed)


@lru_cache(maxsize=2048)
def code128_png(
    value: str, *, module_px: int = 2, bar_height_px: int = 80, text_px: int = 16
) -> bytes:
    """`value` as a Code128 barcode in PNG with the text under the bars.

    Drawn pixel-exact with Pillow from reportlab's bar widths: every module is `module_px`
    pixels, so no bar is blurred by resampling (a scanner reads edges, not greys). reportlab's
    own bitmap renderer would need the extra cairo packages. The image is
    (modules + 2 × quiet zone) × module_px wide and bar_height_px + 2 × text_px high.
    """
    runs = code128_runs(value)
    modules = sum(width for _, width in runs) + 2 * CODE128_QUIET_MODULES
    width, height = modules * module_px, bar_height_px + 2 * text_px
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    x = CODE128_QUIET_MODULES * module_px
    for is_bar, run in runs:
        if is_bar:
            draw.rectangle((x, 0, x + run * module_px - 1, bar_height_px - 1), fill=0)
        x += run * module_px
    # Pillow's bundled font: the listing number is ASCII, so no font file is needed.
    font = ImageFont.load_default(size=text_px)
    draw.text((width / 2, bar_height_px + text_px), value, fill=0, font=font, anchor="mm")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
