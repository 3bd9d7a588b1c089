"""Catalogue search through the term index: what is found, and that both query plans agree."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from shuanglian.supermarket import search_terms, service
from shuanglian.supermarket.models import ListingTerm
from shuanglian.supermarket.service import ListingInput
from tests.web.factories import make_institution, make_listing, make_user


def _ids(session, inst, **kw) -> list[int]:
    page = service.search_listings(session, institution_id=inst.id, **kw)
    return [x.id for x in page.items]


def _terms(session, listing_id: int) -> set[str]:
    rows = session.scalars(select(ListingTerm.term).where(ListingTerm.listing_id == listing_id))
    return set(rows)


def test_listing_terms_cover_words_subwords_stems_and_filters() -> None:
    terms = search_terms.listing_terms(
        search_text="锂离子电池回收 recycling batteries",
        industries=["C3841"],
        modes=["licence"],
        tech_field="Electrical machinery, apparatus, energy",
        region="江苏",
    )
    assert {"锂离", "离子", "子电", "电池", "池回", "回收", "recycl", "batteri"} <= terms
    assert {"ind:C", "ind:C3", "ind:C38", "ind:C384", "ind:C3841"} <= terms
    assert "mode:licence" in terms and "field:Electrical machinery, apparatus, energy" in terms
    assert "reg:江苏" in terms and "reg:江" not in terms
    assert all(len(t) <= search_terms.MAX_TERM_LENGTH for t in terms)


def test_english_search_matches_other_word_forms(db_session) -> None:
    inst = make_institution(db_session)
    listing = make_listing(db_session, inst, title="电池回收", title_en="Recycling of batteries")
    assert _ids(db_session, inst, q="battery recycled") == [listing.id]
    assert _ids(db_session, inst, q="BATTERIES") == [listing.id]


def test_every_word_must_match(db_session) -> None:
    inst = make_institution(db_session)
    battery = make_listing(db_session, inst, title="锂电池回收")
    make_listing(db_session, inst, title="无人机集群控制")
    assert _ids(db_session, inst, q="电池 回收") == [battery.id]
    assert _ids(db_session, inst, q="电池 无人机") == []


def test_chinese_finds_a_word_inside_a_longer_one(db_session) -> None:
    inst = make_institution(db_session)
    battery = make_listing(db_session, inst, title="锂离子电池回收")
    drone = make_listing(db_session, inst, title="无人机集群控制")
    assert _ids(db_session, inst, q="电池") == [battery.id]
    assert _ids(db_session, inst, q="离子电池") == [battery.id]
    assert _ids(db_session, inst, q="回收电池") == [battery.id]  # its words, in any order
    assert _ids(db_session, inst, q="电池无人机") == []
    assert _ids(db_session, inst, q="锂") == [battery.id]  # one character: a substring
    assert _ids(db_session, inst, q="群 机") == [drone.id]


def test_a_stopword_only_query_matches_the_text_as_typed(db_session) -> None:
    inst = make_institution(db_session)
    wherein = make_listing(db_session, inst, title="储能集成 wherein 调峰")
    make_listing(db_session, inst, title="无人机集群控制")
    assert search_terms.parse_query("wherein").terms == []  # claim boilerplate, not a term
    assert _ids(db_session, inst, q="wherein") == [wherein.id]


def test_editing_a_listing_moves_it_to_its_new_terms(db_session) -> None:
    inst = make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    listing = make_listing(db_session, inst, title="锂电池回收", industries=["C38"])
    service.update_listing(
        db_session,
        actor=staff,
        listing_id=listing.id,
        data=ListingInput(
            title="氢燃料电池电堆",
            summary="新一代氢燃料电池电堆，功率密度高，寿命长。",
            modes=["equity"],
            industries=["C34"],
        ),
    )
    terms = _terms(db_session, listing.id)
    assert {"氢燃", "燃料", "电堆", "mode:equity", "ind:C34"} <= terms
    assert "mode:licence" not in terms and "ind:C38" not in terms
    assert _ids(db_session, inst, q="燃料电池") == [listing.id]
    assert _ids(db_session, inst, mode="licence") == []
    assert _ids(db_session, inst, industry="C3") == [listing.id]


@pytest.mark.parametrize("driving_max", [0, 10_000])
def test_both_query_plans_give_the_same_pages(db_session, monkeypatch, driving_max) -> None:
    """Rare terms drive the query from their posting list, common ones probe the sorted index;
    the plan must never change which listings a visitor sees, nor their order."""
    inst = make_institution(db_session)
    made = []
    for i in range(7):
        made.append(
            make_listing(
                db_session,
                inst,
                title=f"电池管理系统 第{i}代" if i % 2 == 0 else f"无人机电池 第{i}代",
                modes=["licence"] if i % 3 else ["transfer"],
                price=Decimal(10 * (7 - i)),
                trl=1 + i,
                industries=["C38"] if i < 4 else ["C37"],
            )
        )
    monkeypatch.setattr(service, "DRIVING_POSTINGS_MAX", driving_max)
    by_id = {x.id: x for x in made}
    newest_first = sorted(by_id, reverse=True)
    assert _ids(db_session, inst, q="电池") == newest_first
    expected = [
        i for i in newest_first if "licence" in by_id[i].modes and "C38" in by_id[i].industries
    ]
    assert _ids(db_session, inst, q="电池", mode="licence", industry="C38") == expected
    # A full first page is counted: by a query of its own, over the same terms.
    counted = service.search_listings(
        db_session, institution_id=inst.id, q="电池 第", mode="licence", industry="C38", limit=1
    )
    assert counted.total == len(expected) >= 2
    assert _ids(db_session, inst, q="电池", sort="price_asc") == sorted(
        by_id, key=lambda i: by_id[i].price
    )
    page = service.search_listings(
        db_session, institution_id=inst.id, q="电池", limit=2, offset=2, sort="trl"
    )
    assert page.total == 7 and [x.id for x in page.items] == sorted(by_id, reverse=True)[2:4]


def test_an_unknown_term_or_filter_finds_nothing(db_session) -> None:
    inst = make_institution(db_session)
    make_listing(db_session, inst, title="锂电池回收")
    assert _ids(db_session, inst, q="电池 zzyzxq") == []
    assert _ids(db_session, inst, tech_field="No such field") == []


def test_a_chinese_query_looks_up_just_enough_bigrams_to_cover_it() -> None:
    assert search_terms.parse_query("无人机").groups[0].own == ("无人", "人机")
    assert search_terms.parse_query("离子电池").groups[0].own == ("离子", "电池")
    assert search_terms.parse_query("锂离子电池").groups[0].own == ("锂离", "子电", "电池")
    # A word without a dictionary reading stays a plain term list (the fast plan).
    assert search_terms.parse_query("石膏板").terms == ["石膏", "膏板"]
    # The listing side keeps every bigram, so any covering subset can be found.
    assert search_terms.keyword_terms("锂离子电池") == ["锂离", "离子", "子电", "电池"]


def test_filter_menus_list_the_values_of_published_listings(db_session) -> None:
    inst = make_institution(db_session)
    make_listing(db_session, inst, title="锂电池回收", region="江苏", tech_field="Transport")
    make_listing(db_session, inst, title="无人机控制", region="北京", tech_field="Transport")
    make_listing(
        db_session, inst, title="草稿成果", region="西藏", tech_field="Optics", publish=False
    )
    service._facet_cache.clear()
    facets = service.facet_values(db_session)
    assert {"北京", "江苏"} <= set(facets["regions"]) and "西藏" not in facets["regions"]
    assert "Transport" in facets["tech_fields"] and "Optics" not in facets["tech_fields"]
    assert facets["regions"] == sorted(facets["regions"])
    assert len(facets["regions"]) == len(set(facets["regions"]))


def test_a_region_filter_finds_regions_starting_with_it_or_else_containing_it(db_session) -> None:
    inst = make_institution(db_session)
    nanjing = make_listing(db_session, inst, title="锂电池回收", region="江苏省南京市")
    jiangsu = make_listing(db_session, inst, title="无人机控制", region="江苏")
    make_listing(db_session, inst, title="激光雷达", region="北京")
    assert _ids(db_session, inst, region="江苏") == [jiangsu.id, nanjing.id]
    assert _ids(db_session, inst, region="南京") == [nanjing.id]  # from the middle: substring
    assert _ids(db_session, inst, region="江苏省南京市", q="电池") == [nanjing.id]
    assert _ids(db_session, inst, region="上海") == []


def test_a_word_is_read_in_the_other_language_only_as_a_whole() -> None:
    group = search_terms.parse_query("锂电池").groups[0]
    assert group.own == ("锂电", "电池")
    assert ("lithium", "batteri") in group.readings
    assert ("batteri",) not in group.readings  # 锂电池 is not any battery
    english = search_terms.parse_query("battery").groups[0]
    assert english.own == ("batteri",) and ("电池",) in english.readings
    # "lithium battery" is one dictionary entry: one group, read as 锂电池.
    pair = search_terms.parse_query("lithium battery").groups
    assert len(pair) == 1 and ("锂电", "电池") in pair[0].readings


def test_chinese_finds_english_listings_and_the_reverse(db_session) -> None:
    inst = make_institution(db_session)
    english = make_listing(db_session, inst, title="Lithium battery cathode recycling")
    chinese = make_listing(db_session, inst, title="电池管理系统")
    drone = make_listing(db_session, inst, title="无人机集群控制")
    other = make_listing(db_session, inst, title="Battery charger for power tools")
    assert _ids(db_session, inst, q="锂电池") == [english.id]  # not the plain battery charger
    assert set(_ids(db_session, inst, q="battery")) == {english.id, chinese.id, other.id}
    assert _ids(db_session, inst, q="锂电池 回收") == [english.id]
    assert _ids(db_session, inst, q="lithium battery") == [english.id]
    assert _ids(db_session, inst, q="drone") == [drone.id]
    assert _ids(db_session, inst, q="电池 无人机") == []  # every word must still match
    # Traditional input reaches the same readings.
    assert _ids(db_session, inst, q="鋰電池") == [english.id]


def test_an_english_element_name_finds_the_chinese_compounds_that_hold_it(
    db_session, monkeypatch
) -> None:
    # 锂 is written inside 锂离子电池 and 钠 inside 钠离子: `lithium` found nothing before.
    inst = make_institution(db_session)
    lithium = make_listing(db_session, inst, title="锂离子电池正极材料")
    sodium = make_listing(db_session, inst, title="钠离子电池负极材料")
    funds = make_listing(db_session, inst, title="科技金融服务平台")  # 金 of 金融 is no gold
    assert "锂" in _terms(db_session, lithium.id) and "金" not in _terms(db_session, funds.id)
    assert _ids(db_session, inst, q="lithium") == [lithium.id]
    assert _ids(db_session, inst, q="sodium battery") == [sodium.id]
    assert _ids(db_session, inst, q="gold") == []
    # And the reverse: 锂 finds the English listing that says lithium.
    english = make_listing(db_session, inst, title="Lithium metal anodes")
    assert sorted(_ids(db_session, inst, q="锂")) == sorted([lithium.id, english.id])
    # Posting lists too long to drive: the element reading filters a walk of the index.
    monkeypatch.setattr(service, "DRIVING_POSTINGS_MAX", 0)
    assert sorted(_ids(db_session, inst, q="lithium")) == sorted([lithium.id, english.id])


def test_cross_lingual_groups_agree_on_both_plans(db_session, monkeypatch) -> None:
    inst = make_institution(db_session)
    found = [make_listing(db_session, inst, title=f"Lithium battery pack {i}") for i in range(3)]
    found.append(make_listing(db_session, inst, title="锂电池组"))
    make_listing(db_session, inst, title="Solar panel")
    expected = sorted(x.id for x in found)
    assert sorted(_ids(db_session, inst, q="锂电池")) == expected
    # Posting lists too long to drive: the group filters a walk of the index instead.
    monkeypatch.setattr(service, "DRIVING_POSTINGS_MAX", 0)
    assert sorted(_ids(db_session, inst, q="锂电池")) == expected
    assert sorted(_ids(db_session, inst, q="lithium battery pack")) == expected[:3]


@pytest.mark.parametrize("sort", ["newest", "price_asc"])
def test_a_group_is_counted_and_paged_alike_by_every_plan(db_session, monkeypatch, sort) -> None:
    """Readings in two languages: listed ids, rarest posting lists, or a walk of the index."""
    from shuanglian.supermarket import catalogue_cache

    inst = make_institution(db_session)
    for i in range(9):
        title = f"Lithium battery pack {i}" if i % 3 else f"锂电池组 {i}"
        make_listing(db_session, inst, title=title, price=Decimal(5 + (i * 7) % 11))
    make_listing(db_session, inst, title="Solar panel")
    db_session.commit()
    seen = []
    for driving, counting in [(10_000, 10_000), (0, 10_000), (0, 0)]:
        monkeypatch.setattr(service, "DRIVING_POSTINGS_MAX", driving)
        monkeypatch.setattr(service, "COUNT_FROM_POSTINGS_MAX", counting)
        catalogue_cache.clear()
        pages = [
            service.search_listings(
                db_session, institution_id=inst.id, q="锂电池", sort=sort, limit=4, offset=o
            )
            for o in (0, 4, 8)
        ]
        seen.append([([x.id for x in p.items], p.total) for p in pages])
    assert seen[0] == seen[1] == seen[2]
    assert [total for _, total in seen[0]] == [9, 9, 9]
    assert sum(len(ids) for ids, _ in seen[0]) == 9
