"""Card sheets cost CPU (about 1 s for 200 cards): capped, cached, rate-limited per client."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.supermarket.cards import sheet_key
from tests.web.factories import make_institution, make_listing
from tests.web.upload_helpers import client_with


def test_sheets_are_capped_cached_and_rate_limited(
    db_session: Session, db_settings: Settings
) -> None:
    inst = make_institution(db_session)
    listings = [make_listing(db_session, inst, title=f"限量打印成果{i}") for i in range(3)]
    db_session.commit()
    client = client_with(db_settings, db_session, cards_pdf_per_minute=1, cards_pdf_max_ids=60)
    too_many = client.get("/market/cards.pdf", params={"ids": ",".join(["1"] * 61)})
    assert too_many.status_code == 400 and "60" in too_many.text

    ids = ",".join(str(x.id) for x in listings)
    first = client.get("/market/cards.pdf", params={"ids": ids})
    assert first.status_code == 200
    # The same sheet again is served from the cache: no render, so no limit applies.
    again = client.get("/market/cards.pdf", params={"ids": ids})
    assert again.status_code == 200 and again.content == first.content
    other = client.get("/market/cards.pdf", params={"ids": str(listings[0].id)})
    assert other.status_code == 429 and int(other.headers["Retry-After"]) > 0


def test_a_changed_listing_changes_the_sheet_but_a_view_does_not(db_session: Session) -> None:
    listing = make_listing(db_session, make_institution(db_session), title="会变的成果")
    before = sheet_key([listing], base_url="http://x")
    listing.view_count += 5
    listing.scan_count += 1
    assert sheet_key([listing], base_url="http://x") == before
    listing.title = "改过名字的成果"
    assert sheet_key([listing], base_url="http://x") != before
    assert sheet_key([listing], base_url="http://y") != sheet_key([listing], base_url="http://x")
