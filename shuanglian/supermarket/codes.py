"""QR codes (segno) and Code128 barcodes (encoded by reportlab; SVG and PNG drawn here from the
bar widths) for listing cards."""

from __future__ import annotations

import io
from functools import lru_cache
from html import escape

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode.code128 import Code128

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


def code128_svg(
    value: str, *, module: float = 1.0, bar_height: float = 28.0, text_size: float = 10.0
) -> bytes:
    """`value` as a Code128 barcode in SVG, with the text under the bars and clear of them.

    Drawn from `code128_runs`, like the PNG: reportlab's own drawing put its human-readable
    text so close under short bars that the digits touched them. Units are user units
    (1 = one module at `module` 1.0); the text's top sits a quarter of its size below the bars.
    """
    runs = code128_runs(value)
    quiet = CODE128_QUIET_MODULES * module
    width = sum(w for _, w in runs) * module + 2 * quiet
    gap = text_size * 0.25
    height = bar_height + gap + text_size * 1.2
    rects = []
    x = quiet
    for is_bar, run in runs:
        if is_bar:
            rects.append(
                f'<rect x="{x:g}" y="0" width="{run * module:g}" height="{bar_height:g}"/>'
            )
        x += run * module
    # The text's baseline: its top (cap height ≈ 0.75 em) a gap below the bars.
    baseline = bar_height + gap + text_size * 0.8
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img">'
        f"<title>{escape(value)}</title>"
        f'<rect width="{width:g}" height="{height:g}" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g>'
        f'<text x="{width / 2:g}" y="{baseline:g}" font-family="monospace" '
        f'font-size="{text_size:g}" text-anchor="middle" fill="#000">{escape(value)}</text>'
        "</svg>"
    )
    return svg.encode("utf-8")


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
