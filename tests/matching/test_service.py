"""Glue from the database to the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.matching import service
from shuanglian.patents.models import Institution, Patent


def _patent(session: Session, key: str, title: str, abstract: str, ipc: list[str]) -> Patent:
    row = Patent(
        application_key=key,
        application_number=key,
        title=title,
        abstract=abstract,
        main_ipc=ipc[0] if ipc else None,
        ipc_codes=ipc,
    )
    session.add(row)
    return row


def _seed(session: Session) -> dict[str, int]:
    green = Enterprise(
        name="河北绿源新型建材科技有限公司",
        industry_code="C3024",
        business_scope="新型墙体材料、石膏板、防火板材、保温材料的生产、销售；"
        "脱硫石膏、磷石膏综合利用。",
    )
    battery = Enterprise(
        name="江西赣锋动力电池有限公司",
        industry_code="C3841",
        business_scope="锂离子电池、动力电池、正极材料、电解液的研发、生产、销售。",
    )
    session.add_all([green, battery])
    gypsum = _patent(
        session,
        "CN201910000001",
        "利用工业副产石膏制备高强度防火憎水板材",
        "以脱硫石膏为原料制备防火憎水石膏板材。",
        ["C04B28/14"],
    )
    cathode = _patent(
        session,
        "CN201910000002",
        "一种高镍三元锂离子电池正极材料及其制备方法",
        "提高锂离子电池正极材料的循环稳定性。",
        ["H01M4/525"],
    )
    session.flush()
    demand = Demand(
        enterprise_id=green.id,
        title="磷石膏资源化利用",
        description="寻求利用磷石膏、脱硫石膏生产防火石膏板的技术",
    )
    session.add(demand)
    session.flush()
    return {
        "green": green.id,
        "battery": battery.id,
        "gypsum": gypsum.id,
        "cathode": cathode.id,
        "demand": demand.id,
    }


@pytest.fixture
def index_settings(db_settings: Settings, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return db_settings.model_copy(update={"home": tmp_path / "home"})


def test_match_before_build_says_to_build(db_session: Session, index_settings: Settings) -> None:
    ids = _seed(db_session)
    with pytest.raises(service.IndexNotReady, match="shuanglian index build"):
        service.match_patent(db_session, settings=index_settings, patent_id=ids["gypsum"])


def test_build_and_match_both_directions(db_session: Session, index_settings: Settings) -> None:
    ids = _seed(db_session)
    report = service.build_index(db_session, settings=index_settings)
    assert report["patents"]["documents"] == 2 and report["enterprises"]["documents"] == 2

    matches = service.match_patent(db_session, settings=index_settings, patent_id=ids["gypsum"])
    assert matches[0].id == ids["green"] and matches[0].kind == "enterprise"
    assert matches[0].name.startswith("河北绿源")
    exp = matches[0].explanation
    assert any(t.term == "石膏" for t in exp.terms)
    assert exp.summary.startswith("双方都涉及：")
    assert "石膏" in exp.summary and "_" not in exp.summary
    assert 0 <= exp.match <= 1 and exp.level in ("high", "medium", "low")
    assert sum(exp.shares.values()) == pytest.approx(1.0, abs=1e-3)

    cathode = service.match_patent(db_session, settings=index_settings, patent_id=ids["cathode"])
    assert cathode[0].id == ids["battery"]
    # The industry link (H01M → 38 电气机械和器材制造业) is named for the reader.
    links = cathode[0].explanation.industry_links
    assert links and links[0].ipc == "H01M" and links[0].industry.startswith("38")
    assert links[0].industry_name
    # Chinese reasons name the IPC subclass in Chinese, English ones in English.
    assert any("H01M 电池" in r for r in cathode[0].explanation.reasons)
    assert not any("H01M 电池" in r for r in cathode[0].explanation.reasons_en)

    patents = service.match_enterprise(
        db_session, settings=index_settings, enterprise_id=ids["battery"], top=5
    )
    assert patents[0].id == ids["cathode"] and patents[0].kind == "patent"

    demand = service.match_demand(db_session, settings=index_settings, demand_id=ids["demand"])
    assert demand[0].id == ids["gypsum"]
    assert [m.rank for m in demand] == list(range(1, len(demand) + 1))


def test_refresh_adds_changes_and_removes(db_session: Session, index_settings: Settings) -> None:
    ids = _seed(db_session)
    service.build_index(db_session, settings=index_settings)
    newcomer = Enterprise(
        name="山东泰和石膏制品有限公司", business_scope="脱硫石膏、防火石膏板、憎水板材加工"
    )
    db_session.add(newcomer)
    db_session.delete(db_session.get(Demand, ids["demand"]))
    db_session.flush()
    db_session.delete(db_session.get(Enterprise, ids["green"]))
    db_session.flush()
    report = service.refresh_index(db_session, settings=index_settings)
    assert report["enterprises"]["removed"] == 1
    assert report["enterprises"]["added_or_updated"] >= 1
    assert report["enterprises"]["documents"] == 2
    matches = service.match_patent(db_session, settings=index_settings, patent_id=ids["gypsum"])
    assert matches[0].id == newcomer.id
    assert ids["green"] not in [m.id for m in matches]


def test_refresh_without_index_builds_it(db_session: Session, index_settings: Settings) -> None:
    _seed(db_session)
    report = service.refresh_index(db_session, settings=index_settings)
    assert report["patents"]["built"] is True


def test_unknown_ids_and_bad_top(db_session: Session, index_settings: Settings) -> None:
    ids = _seed(db_session)
    service.build_index(db_session, settings=index_settings)
    with pytest.raises(NotFound):
        service.match_patent(db_session, settings=index_settings, patent_id=999_999)
    with pytest.raises(NotFound):
        service.match_enterprise(db_session, settings=index_settings, enterprise_id=999_999)
    with pytest.raises(NotFound):
        service.match_demand(db_session, settings=index_settings, demand_id=999_999)
    with pytest.raises(DomainError, match="top"):
        service.match_patent(db_session, settings=index_settings, patent_id=ids["gypsum"], top=0)


def test_free_text_search(db_session: Session, index_settings: Settings) -> None:
    ids = _seed(db_session)
    service.build_index(db_session, settings=index_settings)
    hits = service.match_text(db_session, settings=index_settings, text="锂电池正极")
    assert hits[0].id == ids["cathode"]
    assert service.match_text(db_session, settings=index_settings, text="😀 的") == []


def test_a_search_term_of_two_words_is_held_as_one(
    db_session: Session, index_settings: Settings
) -> None:
    """`cathode material`: an OLED patent with a cathode in one clause and a material in
    another has both words, yet it is no cathode-material patent; it read 高 99% and came
    first. It now reads 中 at most, after the 正极材料 patent."""
    ids = _seed(db_session)
    oled = _patent(
        db_session,
        "US20090000001",
        "Material for organic electroluminescence device",
        "An organic EL device has an emitting layer between a cathode and an anode, and a "
        "material for the device in one of its organic layers; the material emits blue light.",
        ["H10K85/60"],
    )
    db_session.flush()
    service.build_index(db_session, settings=index_settings)
    hits = service.match_text(db_session, settings=index_settings, text="cathode material")
    by_id = {h.id: h for h in hits}
    assert hits[0].id == ids["cathode"] and by_id[ids["cathode"]].explanation.level == "high"
    assert by_id[oled.id].explanation.level != "high"
    assert [h.id for h in hits].index(oled.id) > 0


def test_bulk_matches_equal_single_matches(db_session: Session, index_settings: Settings) -> None:
    ids = _seed(db_session)
    service.build_index(db_session, settings=index_settings)
    bulk = service.match_patents_bulk(
        db_session, settings=index_settings, patent_ids=[ids["gypsum"], ids["cathode"], 999_999]
    )
    assert set(bulk) == {ids["gypsum"], ids["cathode"]}
    for pid, matches in bulk.items():
        single = service.match_patent(db_session, settings=index_settings, patent_id=pid)
        assert [(m.id, m.score) for m in matches] == [(m.id, m.score) for m in single]
        assert matches[0].explanation.terms


def test_ranked_bulk_explained_later_equals_bulk_matches(
    db_session: Session, index_settings: Settings
) -> None:
    ids = _seed(db_session)
    service.build_index(db_session, settings=index_settings)
    wanted = [ids["cathode"], ids["gypsum"], 999_999]
    ranking = service.rank_patents_bulk(
        db_session, settings=index_settings, patent_ids=wanted, top=5
    )
    assert list(ranking.hits) == [ids["cathode"], ids["gypsum"]]  # input order, unknown dropped
    assert all(h.explanation is None for hits in ranking.hits.values() for h in hits)
    bulk = service.match_patents_bulk(db_session, settings=index_settings, patent_ids=wanted, top=5)
    for pid, matches in bulk.items():
        hits = ranking.hits[pid]
        assert [(int(h.doc_id), round(h.score, 6)) for h in hits] == [
            (m.id, m.score) for m in matches
        ]
        later = service.explain_ranked(
            ranking, patent_id=pid, enterprise_ids=[m.id for m in matches]
        )
        assert [later[m.id] for m in matches] == [m.explanation for m in matches]
    assert service.explain_ranked(ranking, patent_id=999_999, enterprise_ids=[1]) == {}


def test_ranked_bulk_leaves_out_deleted_enterprises(
    db_session: Session, index_settings: Settings
) -> None:
    ids = _seed(db_session)
    service.build_index(db_session, settings=index_settings)
    first = service.rank_patents_bulk(
        db_session, settings=index_settings, patent_ids=[ids["cathode"]], top=5
    )
    gone = int(first.hits[ids["cathode"]][0].doc_id)
    db_session.delete(db_session.get(Enterprise, gone))
    db_session.flush()
    again = service.rank_patents_bulk(
        db_session, settings=index_settings, patent_ids=[ids["cathode"]], top=5
    )
    assert gone not in {int(h.doc_id) for h in again.hits[ids["cathode"]]}


def test_same_region_comes_from_the_institution_and_the_enterprise(
    db_session: Session, index_settings: Settings
) -> None:
    ids = _seed(db_session)
    inst = Institution(name="河北工业大学", region="河北省石家庄市")
    db_session.add(inst)
    db_session.flush()
    db_session.get(Patent, ids["gypsum"]).institution_id = inst.id  # type: ignore[union-attr]
    db_session.get(Enterprise, ids["green"]).province = "河北"  # type: ignore[union-attr]
    db_session.get(Enterprise, ids["battery"]).province = "江西省"  # type: ignore[union-attr]
    db_session.flush()
    service.build_index(db_session, settings=index_settings)

    def region_said(matches: list, wanted: int) -> bool:
        m = next(m for m in matches if m.id == wanted)
        return "同一地区" in m.explanation.reasons and "Same region" in m.explanation.reasons_en

    found = service.match_patent(db_session, settings=index_settings, patent_id=ids["gypsum"])
    assert region_said(found, ids["green"])
    assert not region_said(found, ids["battery"])  # 江西 is not 河北
    back = service.match_enterprise(
        db_session, settings=index_settings, enterprise_id=ids["green"], top=5
    )
    assert region_said(back, ids["gypsum"]) and not region_said(back, ids["cathode"])
    demand = service.match_demand(db_session, settings=index_settings, demand_id=ids["demand"])
    assert region_said(demand, ids["gypsum"])  # the demand's enterprise is in 河北
    bulk = service.match_patents_bulk(
        db_session, settings=index_settings, patent_ids=[ids["gypsum"]]
    )
    assert region_said(bulk[ids["gypsum"]], ids["green"])
    ranking = service.rank_patents_bulk(
        db_session, settings=index_settings, patent_ids=[ids["gypsum"]]
    )
    later = service.explain_ranked(ranking, patent_id=ids["gypsum"], enterprise_ids=[ids["green"]])
    assert "同一地区" in later[ids["green"]].reasons
    # A patent without an institution has no region: never 「同一地区」.
    plain = service.match_patent(db_session, settings=index_settings, patent_id=ids["cathode"])
    assert not any("同一地区" in m.explanation.reasons for m in plain)


def test_an_enterprise_reads_its_patents_high_then_medium_then_low(
    db_session: Session, index_settings: Settings
) -> None:
    """A patent that shares only 研发、生产、销售 with a battery maker outranked, by score, a
    flow-battery patent that shares 电池 and 电解液: the page read 低 above 中. An
    enterprise's list now runs 高, 中, 低, in the engine's order within a level."""
    maker = Enterprise(
        name="江西赣锋动力电池有限公司",
        business_scope="锂离子电池、动力电池、正极材料、电解液、隔膜、储能系统的研发、生产、销售；"
        "电池回收。",
    )
    db_session.add(maker)
    texts = {
        "separator": ("一种陶瓷涂覆隔膜", "用于锂离子电池的陶瓷涂覆隔膜，提高隔膜的耐热性。"),
        "cathode": ("一种高镍三元正极材料及其制备方法", "提高正极材料的循环稳定性。"),
        "generic": (
            "一种生产线的研发管理系统",
            "企业的研发、生产、销售、管理、服务一体化的信息系统，提高生产效率，降低生产成本，"
            "提升产品质量与销售服务。",
        ),
        "zinc": (
            "一种负极电极可移动的锌基液流电池及制造方法",
            "锌基液流电池包括电堆、储罐、循环泵、管路、电极框、双极板、密封件、集流板和端板；"
            "电池组装后在线更换负极，降低储能电站的运维成本。",
        ),
        "gypsum": (
            "利用工业副产石膏制备高强度防火憎水板材",
            "以脱硫石膏为原料制备防火憎水石膏板材。",
        ),
    }
    rows = {
        k: _patent(db_session, f"CN2020100000{i:02d}", t, a, [])
        for i, (k, (t, a)) in enumerate(texts.items())
    }
    db_session.flush()
    service.build_index(db_session, settings=index_settings)
    key = {row.id: k for k, row in rows.items()}
    order = {"high": 0, "medium": 1, "low": 2}

    shown = service.match_enterprise(db_session, settings=index_settings, enterprise_id=maker.id)
    levels = [order[m.explanation.level] for m in shown]
    assert levels == sorted(levels)
    assert [key[m.id] for m in shown].index("zinc") < [key[m.id] for m in shown].index("generic")
    # By score the generic patent comes first: the list is reordered, not re-scored.
    by_score = sorted(shown, key=lambda m: -m.score)
    assert [key[m.id] for m in by_score].index("generic") < [key[m.id] for m in by_score].index(
        "zinc"
    )
    assert [m.rank for m in shown] == list(range(1, len(shown) + 1))
    # An API call for fewer shows the head of the same list.
    two = service.match_enterprise(
        db_session, settings=index_settings, enterprise_id=maker.id, top=2
    )
    assert [m.id for m in two] == [m.id for m in shown[:2]]


def _feedback(session: Session, patent_id: int, enterprise_id: int, intent: str) -> None:
    from shuanglian.inventory.models import Feedback, Push, PushRound

    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    session.add(rnd)
    session.flush()
    push = Push(round_id=rnd.id, patent_id=patent_id, enterprise_id=enterprise_id, rank=1, score=1)
    session.add(push)
    session.flush()
    session.add(
        Feedback(
            push_id=push.id,
            patent_id=patent_id,
            enterprise_id=enterprise_id,
            prospect=4,
            intent=intent,
        )
    )
    session.flush()


def test_a_firm_that_asked_about_a_patent_of_the_class_reads_so(
    db_session: Session, index_settings: Settings
) -> None:
    """「贵企业曾对同类专利表示有意向」: the battery maker asked to talk about one H01M patent;
    another H01M patent says so on its list, and on the patent's list of firms; the gypsum
    patent (C04B) and a firm that only rated a patent do not."""
    ids = _seed(db_session)
    separator = _patent(
        db_session,
        "CN201910000003",
        "一种锂离子电池隔膜",
        "用于锂离子电池的陶瓷涂覆隔膜，提高耐热性。",
        ["H01M50/449"],
    )
    db_session.flush()
    _feedback(db_session, ids["cathode"], ids["battery"], "洽谈")
    _feedback(db_session, ids["cathode"], ids["green"], "暂无")  # no interest shown
    service.build_index(db_session, settings=index_settings)
    zh, en = "贵企业曾对同类专利表示有意向", "Your company has shown interest in similar patents"

    shown = service.match_enterprise(
        db_session, settings=index_settings, enterprise_id=ids["battery"]
    )
    reasons = {m.id: m.explanation for m in shown}
    assert zh in reasons[separator.id].reasons and en in reasons[separator.id].reasons_en
    # The patent it asked about is not "a similar patent" of itself.
    assert zh not in reasons[ids["cathode"]].reasons
    assert all(zh not in m.explanation.reasons for m in shown if m.id == ids["gypsum"])

    firms = service.match_patent(db_session, settings=index_settings, patent_id=separator.id)
    by_firm = {m.id: m.explanation.reasons for m in firms}
    assert "该企业曾对同类专利表示有意向" in by_firm[ids["battery"]]
    assert all("曾对同类专利" not in r for r in by_firm.get(ids["green"], []))
    # The bulk path (push rounds, `match_patents_bulk`) says the same.
    bulk = service.match_patents_bulk(
        db_session, settings=index_settings, patent_ids=[separator.id]
    )
    assert [m.explanation.reasons for m in bulk[separator.id]] == [
        m.explanation.reasons for m in firms
    ]
    ranking = service.rank_patents_bulk(
        db_session, settings=index_settings, patent_ids=[separator.id]
    )
    explained = service.explain_ranked(
        ranking, patent_id=separator.id, enterprise_ids=[ids["battery"]]
    )
    assert "该企业曾对同类专利表示有意向" in explained[ids["battery"]].reasons
    # A stored bulk result explained on demand, both ways round.
    from shuanglian.matching.bulk import render_explanation

    for direction, query_id, doc_id, reason in (
        ("p2e", separator.id, ids["battery"], "该企业曾对同类专利表示有意向"),
        ("e2p", ids["battery"], separator.id, zh),
    ):
        found = render_explanation(
            db_session,
            settings=index_settings,
            direction=direction,
            query_id=query_id,
            doc_id=doc_id,
        )
        assert reason in found.reasons, direction
