"""Anonymous catalogue pages kept a few seconds: never another visitor's, never after our writes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.supermarket import catalogue_cache
from tests.web.factories import login, make_institution, make_listing, make_user


def _rename_elsewhere(db_session: Session, listing_id: int, title: str) -> None:
    """A change made by another process: nothing in this one hears of it."""
    db_session.connection().exec_driver_sql(
        f"UPDATE market_listings SET title = '{title}' WHERE id = {listing_id}"
    )
    db_session.expire_all()


def test_an_anonymous_page_is_served_again_and_a_member_sees_the_database(
    client: TestClient, db_session: Session
) -> None:
    inst = make_institution(db_session)
    listing = make_listing(db_session, inst, title="钠离子电池正极材料")
    for _ in range(2):  # the first request commits the listing: what it rendered is not kept
        assert "钠离子电池正极材料" in client.get("/market").text
    _rename_elsewhere(db_session, listing.id, "钠离子电池负极材料")
    assert "钠离子电池正极材料" in client.get("/market").text  # kept
    assert "钠离子电池负极材料" in client.get("/market?q=钠离子").text  # another URL
    api = client.get("/api/v1/listings").json()
    assert api["items"][0]["title"] == "钠离子电池负极材料"
    # Signed in, the page is never a kept one.
    user = make_user(db_session, "institution_staff", institution_id=inst.id)
    login(client, user)
    assert "钠离子电池负极材料" in client.get("/market").text


def test_a_listing_written_here_shows_at_once(client: TestClient, db_session: Session) -> None:
    inst = make_institution(db_session)
    make_listing(db_session, inst, title="氢燃料电池双极板")
    assert "氢燃料电池双极板" in client.get("/market").text
    make_listing(db_session, inst, title="固态电池电解质膜")
    assert "固态电池电解质膜" in client.get("/market").text


def test_languages_and_htmx_fragments_are_kept_apart(
    client: TestClient, db_session: Session
) -> None:
    make_listing(db_session, make_institution(db_session), title="光伏逆变器")
    chinese = client.get("/market")
    english = client.get("/market?lang=en")
    assert chinese.text != english.text and 'lang="en"' in english.text
    assert 'lang="en"' in client.get("/market").text  # the cookie ?lang=en set
    fragment = client.get("/market", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "<html" in client.get("/market").text


def test_kept_responses_are_per_database_and_expire() -> None:
    cache = catalogue_cache.ExpiringCache(ttl_s=0.0)
    cache.put("k", ({}, b""), counted_at=cache.generation)
    assert cache.get("k") is None
    assert catalogue_cache.RESPONSE_TTL_S <= catalogue_cache.PAGE_TTL_S <= catalogue_cache.TTL_S
