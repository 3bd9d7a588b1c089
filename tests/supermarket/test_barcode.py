"""Code128 barcodes as PNG: the image decodes back to the listing number, has the documented
size, and follows the same visibility rule as the QR code (drafts are 404 to the public)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from reportlab.graphics.barcode.code128 import _patterns

from shuanglian.supermarket.codes import CODE128_QUIET_MODULES, code128_png, code128_runs
from tests.web.factories import login, make_institution, make_listing, make_user

START_A, START_B, START_C, CODE_B, CODE_C, STOP = 103, 104, 105, 100, 99, 106


def _runs_of_row(row: list[int]) -> list[tuple[bool, int]]:
    """Pixel row → runs of (dark, length) in pixels."""
    runs: list[tuple[bool, int]] = []
    for pixel in row:
        dark = pixel < 128
        if runs and runs[-1][0] == dark:
            runs[-1] = (dark, runs[-1][1] + 1)
        else:
            runs.append((dark, 1))
    return runs


def decode_code128(image: Image.Image, *, module_px: int, y: int) -> str:
    """Read one scan line of a Code128 image back to text (code sets B and C).

    Independent of the encoder: it only uses the symbology's pattern table and its
    checksum rule (weighted sum modulo 103), so wrong bars, widths or checksum fail it.
    """
    gray = image.convert("L")
    row = [gray.getpixel((x, y)) for x in range(gray.width)]
    runs = _runs_of_row(row)
    assert not runs[0][0] and not runs[-1][0], "quiet zones must be light"
    assert runs[0][1] >= CODE128_QUIET_MODULES * module_px
    assert runs[-1][1] >= CODE128_QUIET_MODULES * module_px
    widths = []
    for _, length in runs[1:-1]:
        assert length % module_px == 0, "every run is a whole number of modules"
        widths.append(length // module_px)
    lookup = {
        tuple(ord(c.lower()) - ord("a") + 1 for c in pattern): value
        for value, pattern in _patterns.items()
    }
    symbols = [lookup[tuple(widths[i : i + 6])] for i in range(0, len(widths) - 7, 6)]
    assert tuple(widths[-7:]) == (2, 3, 3, 1, 1, 1, 2), "stop pattern"
    *data, check = symbols
    assert check == (data[0] + sum(i * v for i, v in enumerate(data[1:], 1))) % 103
    assert data[0] in (START_B, START_C)
    code, text = ("B" if data[0] == START_B else "C"), ""
    for value in data[1:]:
        # The switch codes are set-specific: 99 is "code C" in set B but the pair "99" in C.
        if code == "B" and value == CODE_C:
            code = "C"
        elif code == "C" and value == CODE_B:
            code = "B"
        elif code == "B":
            text += chr(value + 32)
        else:
            text += f"{value:02d}"
    return text


@pytest.mark.parametrize("value", ["SL000001", "SL123457", "SL9999999", "AB-12x"])
def test_png_decodes_to_its_value_and_has_the_documented_size(value: str) -> None:
    image = Image.open(io.BytesIO(code128_png(value, module_px=3, bar_height_px=60, text_px=14)))
    assert image.format == "PNG"
    modules = sum(width for _, width in code128_runs(value)) + 2 * CODE128_QUIET_MODULES
    assert image.size == (modules * 3, 60 + 2 * 14)
    assert decode_code128(image, module_px=3, y=30) == value


def test_non_ascii_values_are_refused() -> None:
    with pytest.raises(ValueError):
        code128_runs("成果1")


def test_barcode_png_route(client: TestClient, db_session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    response = client.get(f"/market/{listing.id}/barcode.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert "max-age" in response.headers["cache-control"]
    image = Image.open(io.BytesIO(response.content))
    image.load()
    # Listing numbers are SL + six digits: start B, "S", "L", code C, three digit pairs,
    # checksum = 8 symbols of 11 modules, stop of 13, and two quiet zones of 10: 121 modules.
    assert image.size == (121 * 2, 80 + 2 * 16)
    assert decode_code128(image, module_px=2, y=40) == listing.number
    page = client.get(f"/market/{listing.id}")
    assert f'href="/market/{listing.id}/barcode.png"' in page.text
    assert client.get("/market/999999/barcode.png").status_code == 404


def test_draft_barcode_is_hidden_from_the_public_like_the_qr(
    client: TestClient, db_session
) -> None:
    inst = make_institution(db_session)
    draft = make_listing(db_session, inst, publish=False)
    for path in ("qr.png", "barcode.svg", "barcode.png"):
        assert client.get(f"/market/{draft.id}/{path}").status_code == 404, path
    login(client, make_user(db_session, "institution_staff", institution_id=inst.id))
    assert client.get(f"/market/{draft.id}").status_code == 200  # the page itself is theirs
