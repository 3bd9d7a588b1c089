"""Listings: who may publish what, validation, catalogue search, visits and figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.supermarket import service
from shuanglian.supermarket.service import ListingInput, parse_price
from tests.web.factories import (
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
    pool,
)

GOOD = dict(
    title="高效电池回收", summary="从废旧电池中回收钴镍锂，回收率超过九成。", modes=["licence"]
)


def test_staff_publish_a_pooled_patent_of_their_own_institution(db_session) -> None:
    inst = make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    patent = make_patent(db_session, inst)
    pool(db_session, patent)
    listing = service.create_listing(
        db_session, actor=staff, patent_ids=[patent.id], data=ListingInput(**GOOD), publish=True
    )
    assert listing.status == "published" and listing.published_at is not None
    assert listing.number == f"SL{listing.id:06d}"
    assert [m.patent_id for m in listing.members] == [patent.id]


def test_unpooled_patents_cannot_be_listed(db_session) -> None:
    inst = make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    patent = make_patent(db_session, inst)
    with pytest.raises(DomainError) as err:
        service.create_listing(
            db_session, actor=staff, patent_ids=[patent.id], data=ListingInput(**GOOD)
        )
    assert err.value.field == "patent_ids"


def test_other_institutions_staff_and_enterprises_are_refused(db_session) -> None:
    mine, theirs = make_institution(db_session), make_institution(db_session)
    patent = make_patent(db_session, theirs)
    pool(db_session, patent)
    staff = make_user(db_session, "institution_staff", institution_id=mine.id)
    for actor in (staff, make_user(db_session, "tech_manager"), None):
        with pytest.raises(PermissionDenied):
            service.create_listing(
                db_session, actor=actor, patent_ids=[patent.id], data=ListingInput(**GOOD)
            )


def test_a_package_must_come_from_one_institution(db_session) -> None:
    a, b = make_institution(db_session), make_institution(db_session)
    admin = make_user(db_session, "admin")
    p1, p2 = make_patent(db_session, a), make_patent(db_session, b)
    pool(db_session, p1)
    pool(db_session, p2)
    with pytest.raises(DomainError) as err:
        service.create_listing(
            db_session, actor=admin, patent_ids=[p1.id, p2.id], data=ListingInput(**GOOD)
        )
    assert err.value.field == "patent_ids"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "x"}, "title"),
        ({"summary": "短"}, "summary"),
        ({"modes": []}, "modes"),
        ({"modes": ["gift"]}, "modes"),
        ({"trl": 10}, "trl"),
        ({"industries": ["C34", "not a code"]}, "industries"),
        ({"modes": ["open_licence"]}, "open_licence_terms"),
    ],
)
def test_validation_names_the_field(change: dict, field: str) -> None:
    with pytest.raises(DomainError) as err:
        service.validate_listing_input(ListingInput(**{**GOOD, **change}))
    assert err.value.field == field


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_prices_round_trip_through_the_form(value: Decimal) -> None:
    assert parse_price(str(value)) == value


@given(st.sampled_from(["abc", "-1", "NaN", "Infinity", "1e20", "１２"]))
def test_bad_prices_are_field_errors(raw: str) -> None:
    try:
        parsed = parse_price(raw)
    except DomainError as exc:
        assert exc.field == "price"
    else:  # full-width digits are valid Decimal input in Python; they must still be sane
        assert parsed is not None and 0 <= parsed <= 10**9


def test_catalogue_search_and_filters(db_session) -> None:
    inst = make_institution(db_session)
    battery = make_listing(
        db_session,
        inst,
        title="废旧锂电池回收技术",
        title_en="Battery recycling",
        industries=["C3841"],
        modes=["licence"],
        price=Decimal("30"),
        trl=7,
        region="辽宁",
    )
    drone = make_listing(
        db_session,
        inst,
        title="无人机集群控制",
        modes=["transfer", "equity"],
        price=Decimal("300"),
        trl=4,
        industries=["C37"],
        region="江苏",
    )
    make_listing(db_session, inst, title="未上架的草稿成果", publish=False)

    def ids(**kw) -> list[int]:
        return [
            x.id for x in service.search_listings(db_session, institution_id=inst.id, **kw).items
        ]

    assert set(ids()) == {battery.id, drone.id}  # drafts stay out of the catalogue
    assert ids(q="锂电池") == [battery.id]
    assert ids(q="鋰電池") == [battery.id]  # Traditional finds Simplified
    assert ids(q="battery RECYCLING") == [battery.id]
    assert ids(industry="C38") == [battery.id]  # a 大类 finds its 小类
    assert ids(mode="equity") == [drone.id]
    assert ids(trl_min=5) == [battery.id]
    assert ids(price_max=Decimal("100")) == [battery.id]
    assert ids(region="江苏") == [drone.id]
    assert ids(sort="price_desc") == [drone.id, battery.id]
    assert ids(sort="price_asc") == [battery.id, drone.id]
    page = service.search_listings(
        db_session, institution_id=inst.id, limit=1, offset=1, sort="price_asc"
    )
    assert page.total == 2 and [x.id for x in page.items] == [drone.id]
    # Totals agree whether the first page is full (counted) or short (taken from the page).
    full = service.search_listings(db_session, institution_id=inst.id, limit=1)
    short = service.search_listings(db_session, institution_id=inst.id, limit=5)
    assert (full.total, short.total) == (2, 2) and not short.total_capped
    assert service.search_listings(db_session, institution_id=inst.id, q="无此词").total == 0
    with pytest.raises(DomainError):
        service.search_listings(db_session, sort="random")


def test_views_and_scans_are_counted_apart(db_session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    before = service.screen_figures(db_session)["scans_today"]
    service.record_visit(db_session, listing_id=listing.id, source=None)
    service.record_visit(db_session, listing_id=listing.id, source="qr")
    service.record_visit(db_session, listing_id=listing.id, source="qr")
    db_session.refresh(listing)
    assert (listing.view_count, listing.scan_count) == (1, 2)
    assert service.screen_figures(db_session)["scans_today"] == before + 2


def test_drafts_are_hidden_from_everyone_but_their_institution(db_session) -> None:
    inst = make_institution(db_session)
    draft = make_listing(db_session, inst, publish=False)
    owner = make_user(db_session, "institution_staff", institution_id=inst.id)
    other = make_user(
        db_session, "institution_staff", institution_id=make_institution(db_session).id
    )
    assert service.get_listing(db_session, listing_id=draft.id, actor=owner).id == draft.id
    for actor in (None, other, make_user(db_session, "tech_manager")):
        with pytest.raises(NotFound):
            service.get_listing(db_session, listing_id=draft.id, actor=actor)


def test_signed_contracts_feed_the_listing_and_the_big_screen(db_session) -> None:
    from shuanglian.deals.contracts import create_contract

    inst = make_institution(db_session)
    listing = make_listing(db_session, inst)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    before = service.screen_figures(db_session)
    create_contract(
        db_session,
        actor=staff,
        data={
            "kind": "transfer",
            "subtype": "patent_right",
            "title": "专利权转让",
            "institution_id": inst.id,
            "enterprise_id": make_enterprise(db_session).id,
            "patent_id": listing.patent_id,
            "listing_id": listing.id,
            "signed_on": "2025-03-01",
            "amount": "120.5",
        },
    )
    after = service.screen_figures(db_session)
    assert after["contracts"] == before["contracts"] + 1
    assert after["amount"] == before["amount"] + Decimal("120.50")
    db_session.expire(listing)
    assert listing.deals_signed == 1 and listing.signed_amount == Decimal("120.5")


def test_inquiry_validation(db_session) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    with pytest.raises(DomainError) as err:
        service.submit_inquiry(
            db_session, listing_id=listing.id, name="张三", message="想了解许可条件"
        )
    assert err.value.field == "email"
    with pytest.raises(DomainError) as err:
        service.submit_inquiry(
            db_session,
            listing_id=listing.id,
            name="张三",
            message="想了解许可条件",
            email="not-an-email",
        )
    assert err.value.field == "email"
    inquiry = service.submit_inquiry(
        db_session,
        listing_id=listing.id,
        name="张三",
        message="想了解许可条件",
        phone="024-1234 5678",
    )
    assert inquiry.id is not None
