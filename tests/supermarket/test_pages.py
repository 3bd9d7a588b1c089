"""Supermarket pages: catalogue, listing, QR/scan counting, codes, card sheets, big screen,
the listing editor and the contact form — driven over HTTP on both databases."""

from __future__ import annotations

import io
from decimal import Decimal

from fastapi.testclient import TestClient
from pypdf import PdfReader

from shuanglian.supermarket.models import Inquiry, Listing
from shuanglian.supermarket.visits import PER_ADDRESS_PER_DAY
from tests.web.factories import (
    csrf_of,
    login,
    make_institution,
    make_listing,
    make_patent,
    make_user,
    pool,
)


def test_catalogue_grid_list_filters_and_pagination(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    for i in range(3):
        make_listing(db_session, inst, title=f"智能传感器方案{i}", price=Decimal(10 + i))
    page = client.get("/market", params={"q": "智能传感器", "per_page": 2, "sort": "price_asc"})
    assert page.status_code == 200
    assert page.text.count('class="card listing"') == 2 and "智能传感器方案0" in page.text
    assert 'rel="next"' in page.text
    second = client.get(
        "/market", params={"q": "智能传感器", "per_page": 2, "page": 2, "sort": "price_asc"}
    )
    assert "智能传感器方案2" in second.text and "智能传感器方案0" not in second.text
    as_list = client.get("/market", params={"q": "智能传感器", "view": "list"})
    assert 'class="row listing"' in as_list.text
    assert client.get("/market", params={"trl_min": 12}).status_code == 400
    assert client.get("/market", params={"trl_min": "", "price_max": ""}).status_code == 200


def test_htmx_requests_get_only_the_results(client: TestClient, db_session) -> None:
    make_listing(db_session, make_institution(db_session), title="海水淡化膜组件")
    partial = client.get("/market", params={"q": "海水淡化"}, headers={"HX-Request": "true"})
    assert "海水淡化膜组件" in partial.text and "<html" not in partial.text


def test_listing_page_counts_views_and_qr_scans_separately(client: TestClient, db_session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    first = client.get(f"/market/{listing.id}")
    # The count is written after the response, and the page already shows this visit.
    assert '<span class="views">1</span> / <span class="scans">0</span>' in first.text
    page = client.get(f"/market/{listing.id}?src=qr")
    assert page.status_code == 200 and listing.number in page.text
    assert '<span class="scans">1</span>' in page.text
    db_session.refresh(listing)
    assert (listing.view_count, listing.scan_count) == (1, 1)
    assert f"/market/{listing.id}/qr.svg" in page.text


def test_qr_codes_and_barcode(client: TestClient, db_session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    svg = client.get(f"/market/{listing.id}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    png = client.get(f"/market/{listing.id}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(io.BytesIO(png.content))
    assert image.size[0] == image.size[1] and image.size[0] >= 100
    barcode = client.get(f"/market/{listing.id}/barcode.svg")
    assert listing.number.encode() in barcode.content
    assert client.get("/market/999999/qr.svg").status_code == 404


def test_card_sheet_pdf_has_every_card(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    listings = [make_listing(db_session, inst, title=f"可打印成果{i}") for i in range(9)]
    ids = ",".join(str(x.id) for x in listings)
    response = client.get("/market/cards.pdf", params={"ids": ids})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2  # eight cards per A4 page
    text = "".join(page.extract_text() for page in reader.pages)
    for listing in listings:
        assert listing.number in text
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    bad = client.get("/market/cards.pdf", params={"ids": "1,abc"})
    assert bad.status_code == 400 and "ids" in bad.text
    # Ids that name no published listing: a 404 that says so, not a blank sheet to print.
    missing = client.get("/market/cards.pdf", params={"ids": "9999999"})
    assert missing.status_code == 404 and "没有可打印的成果" in missing.text


def test_open_licence_listing_shows_one_price_everywhere(client: TestClient, db_session) -> None:
    """The declared fee is the price on the catalogue, the listing and the card: never 面议
    beside terms that name a sum."""
    listing = make_listing(
        db_session,
        make_institution(db_session),
        title="开放许可的储能技术",
        modes=["open_licence"],
        price=Decimal("2"),
        open_licence_terms="开放许可使用费：每年 2 万元",
    )
    db_session.commit()
    for page in (client.get(f"/market/{listing.id}"), client.get("/market?q=储能技术")):
        assert "开放许可使用费 2 万元" in page.text and "面议" not in page.text
    sheet = PdfReader(io.BytesIO(client.get(f"/market/cards.pdf?ids={listing.id}").content))
    assert "开放许可使用费 2 万元" in sheet.pages[0].extract_text()
    assert "Open-licence fee 2" in client.get(f"/market/{listing.id}?lang=en").text


def test_big_screen_renders_figures_and_cards(client: TestClient, db_session) -> None:
    make_listing(db_session, make_institution(db_session), title="大屏展示的成果")
    page = client.get("/screen")
    assert page.status_code == 200 and "大屏展示的成果" in page.text
    assert 'data-figure="listings"' in page.text and "data-rotate" in page.text
    # Figures still at zero (no scans today, nothing signed) stay off the screen until not zero.
    live = client.get("/screen/figures").text
    assert 'data-figure="listings"' in live and 'data-figure="amount"' not in live
    api = client.get("/api/v1/screen").json()
    assert api["listings"] >= 1 and api["featured"]


def test_contact_form_validates_and_stores(client: TestClient, db_session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    token = csrf_of(client, f"/market/{listing.id}")
    bad = client.post(
        f"/market/{listing.id}/contact",
        data={"csrf_token": token, "name": "李四", "message": "请联系我谈合作", "email": "bad"},
    )
    assert bad.status_code == 422 and 'id="err-email"' in bad.text and "李四" in bad.text
    ok = client.post(
        f"/market/{listing.id}/contact",
        data={
            "csrf_token": token,
            "name": "李四",
            "message": "请联系我谈许可",
            "email": "li@example.com",
        },
    )
    assert ok.status_code == 200 and "留言已发送" in ok.text
    stored = db_session.query(Inquiry).filter_by(listing_id=listing.id).all()
    assert [i.email for i in stored] == ["li@example.com"]
    assert (
        client.post(
            f"/market/{listing.id}/contact", data={"name": "x", "message": "no token here"}
        ).status_code
        == 403
    )


def test_institution_publishes_through_the_editor(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    patent = make_patent(db_session, inst, title="一种高强度铝合金")
    pool(db_session, patent)
    login(client, staff)
    form_page = client.get("/market/new", params={"patent_id": patent.id})
    assert form_page.status_code == 200 and "一种高强度铝合金" in form_page.text
    token = csrf_of(client, "/market/new")
    base = {
        "csrf_token": token,
        "patent_ids": str(patent.id),
        "title": "高强度铝合金技术",
        "summary": "适用于汽车轻量化的高强度铝合金制备工艺。",
        "trl": "6",
        "price": "80",
        "industries": "C32",
        "action": "publish",
    }
    missing_mode = client.post("/market/new", data=base)
    assert missing_mode.status_code == 422 and 'id="err-modes"' in missing_mode.text
    assert "高强度铝合金技术" in missing_mode.text  # the form keeps what was typed
    done = client.post(
        "/market/new", data={**base, "modes": ["licence", "equity"]}, follow_redirects=False
    )
    assert done.status_code == 303
    listing_id = int(done.headers["location"].rsplit("/", 1)[1])
    listing = db_session.get(Listing, listing_id)
    assert listing.status == "published" and listing.modes == ",licence,equity,"
    edit = client.post(
        f"/market/{listing_id}/edit",
        data={**base, "modes": "licence", "title": "高强度铝合金（更新）", "status": "withdrawn"},
        follow_redirects=False,
    )
    assert edit.status_code == 303
    db_session.refresh(listing)
    assert listing.title == "高强度铝合金（更新）" and listing.status == "withdrawn"
    workspace = client.get("/workspace/institution")
    assert "高强度铝合金（更新）" in workspace.text


def test_api_lists_filters_and_creates_with_a_token(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    make_listing(
        db_session,
        inst,
        title="膜分离技术",
        modes=["open_licence"],
        open_licence_terms="年费 5 万元，许可期 3 年",
    )
    data = client.get(
        "/api/v1/listings", params={"mode": "open_licence", "institution_id": inst.id}
    ).json()
    assert data["total"] == 1 and data["items"][0]["modes"] == ["open_licence"]
    assert client.get("/api/v1/listings", params={"mode": "gift"}).status_code == 422
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    patent = make_patent(db_session, inst, title="一种催化剂")
    pool(db_session, patent)
    from shuanglian.accounts.service import create_api_token

    _, plain = create_api_token(db_session, user=staff, name="script")
    body = {
        "patent_ids": [patent.id],
        "title": "新型催化剂",
        "summary": "用于石化行业的高效催化剂制备技术。",
        "modes": ["transfer"],
        "publish": True,
    }
    created = client.post(
        "/api/v1/listings", json=body, headers={"Authorization": f"Bearer {plain}"}
    )
    assert created.status_code == 201 and created.json()["status"] == "published"
    anonymous = client.post("/api/v1/listings", json=body)
    assert anonymous.status_code == 403


def test_one_client_reloading_a_qr_url_counts_once(client: TestClient, db_session) -> None:
    """300 GETs of ?src=qr from one client are one scan (issue 10: they made a listing #1)."""
    listing = make_listing(db_session, make_institution(db_session))
    for _ in range(300):
        assert client.get(f"/market/{listing.id}?src=qr").status_code == 200
    db_session.refresh(listing)
    assert listing.scan_count == 1
    # Another user agent from the same address is another visitor, up to the address's cap.
    for i in range(100):
        client.get(f"/market/{listing.id}?src=qr", headers={"User-Agent": f"Mozilla/5.0 #{i}"})
    db_session.refresh(listing)
    assert listing.scan_count == PER_ADDRESS_PER_DAY
    # Crawlers and link previews are not visitors.
    other = make_listing(db_session, make_institution(db_session))
    for agent in ("Googlebot/2.1", "curl/8.0", "facebookexternalhit/1.1", ""):
        client.get(f"/market/{other.id}", headers={"User-Agent": agent})
    client.get(f"/market/{other.id}", headers={"Sec-Purpose": "prefetch"})
    db_session.refresh(other)
    assert other.view_count == 0
