"""Push rounds, enterprise feedback and tiered promotion on real sample patents and enterprises."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from shuanglian.errors import NotFound, PermissionDenied
from shuanglian.inventory.feedback import PUSH_NOT_FOUND, submit_feedback
from shuanglian.inventory.indicators import assess_pool
from shuanglian.inventory.models import PoolEntry, Push
from shuanglian.inventory.push import (
    industry_matcher,
    push_list_for_enterprise,
    pushes_for_patent,
    run_push_round,
)
from shuanglian.inventory.schemas import FeedbackIn
from shuanglian.inventory.tiers import maintenance_candidates, recompute_tiers

from .conftest import hand_link
from .helpers import enterprise_user, pool


def _round(db_session, world, **kw):
    matcher = industry_matcher(db_session, industry_link=hand_link)
    return run_push_round(
        db_session, actor=world.admin, matcher=matcher, matcher_name="industry_link", **kw
    )


def test_round_respects_cap_and_never_repeats_a_pair(db_session, world, enterprises):
    ids = pool(db_session, world, range(7))  # the granted/utility ones: drones, camera, sensors
    first = _round(db_session, world, per_patent=5, per_enterprise_cap=2)
    assert first.patents_considered == 7
    pushes = list(db_session.scalars(select(Push).where(Push.round_id == first.id)))
    assert len(pushes) == first.pushes_made > 0
    assert max(Counter(p.enterprise_id for p in pushes).values()) <= 2
    for pid in ids:
        ranks = sorted(p.rank for p in pushes if p.patent_id == pid)
        assert ranks == list(range(1, len(ranks) + 1))
        assert len(ranks) <= 5
    assert all(p.explanation["method"] == "industry_link" for p in pushes)
    second = _round(db_session, world, per_patent=5, per_enterprise_cap=2)
    pairs = db_session.execute(select(Push.patent_id, Push.enterprise_id)).all()
    assert len(pairs) == len(set(pairs)) == first.pushes_made + second.pushes_made
    assert second.skipped_already_pushed > 0


def test_round_needs_admin_or_own_institution(db_session, world, enterprises):
    pool(db_session, world, [0])
    matcher = industry_matcher(db_session, industry_link=hand_link)
    with pytest.raises(PermissionDenied):
        run_push_round(db_session, actor=world.staff, matcher=matcher)
    with pytest.raises(PermissionDenied):
        run_push_round(
            db_session,
            actor=world.other_staff,
            matcher=matcher,
            institution_id=world.institution.id,
        )
    rnd = run_push_round(
        db_session, actor=world.staff, matcher=matcher, institution_id=world.institution.id
    )
    assert rnd.patents_considered == 1


def test_feedback_only_on_what_was_pushed(db_session, world, enterprises):
    [pid] = pool(db_session, world, [0])
    _round(db_session, world, per_patent=3, per_enterprise_cap=5)
    push = db_session.scalars(select(Push).where(Push.patent_id == pid)).first()
    pushed_to = enterprise_user(db_session, push.enterprise_id, "pushed")
    others = {p.enterprise_id for p in db_session.scalars(select(Push))}
    stranger_ent = next(e for e in enterprises if e.id not in others)
    stranger = enterprise_user(db_session, stranger_ent.id, "stranger")
    data = FeedbackIn(prospect=4, improvement_needs="续航需提升到 60 分钟", intent="洽谈")
    # Never pushed to you, pushed to someone else, or no such push: one refusal, no oracle.
    refusals = []
    for kw in (
        {"patent_id": pid},
        {"push_id": push.id},
        {"push_id": 2_000_000_000},
        {"patent_id": pid, "enterprise_id": push.enterprise_id},
        {"push_id": push.id, "enterprise_id": push.enterprise_id},
    ):
        with pytest.raises(NotFound) as refused:
            submit_feedback(db_session, actor=stranger, data=data, **kw)
        refusals.append(refused.value.message)
    assert set(refusals) == {PUSH_NOT_FOUND}
    with pytest.raises(PermissionDenied):
        push_list_for_enterprise(db_session, actor=stranger, enterprise_id=push.enterprise_id)
    fb = submit_feedback(db_session, actor=pushed_to, data=data, patent_id=pid)
    assert (fb.enterprise_id, fb.intent, fb.source) == (push.enterprise_id, "洽谈", "api")
    # A second submission updates the same feedback instead of adding one.
    submit_feedback(
        db_session,
        actor=pushed_to,
        data=data.model_copy(update={"prospect": 5}),
        push_id=push.id,
        source="web",
    )
    assert fb.prospect == 5 and fb.source == "web"
    listed = push_list_for_enterprise(db_session, actor=pushed_to, enterprise_id=push.enterprise_id)
    assert [p.patent_id for p, _ in listed] == [pid]
    with pytest.raises(PermissionDenied):
        pushes_for_patent(db_session, actor=world.other_staff, patent_id=pid)
    assert len(pushes_for_patent(db_session, actor=world.staff, patent_id=pid)) == 3


def test_feedback_validation():
    with pytest.raises(ValueError, match="产业化前景须为 1–5"):
        FeedbackIn(prospect=6, intent="无")
    with pytest.raises(ValueError, match="合作意向须为"):
        FeedbackIn(prospect=3, intent="随便看看")


def test_tiers_and_maintenance_suggestions(db_session, world, enterprises):
    ids = pool(db_session, world, range(7))
    assess_pool(db_session, industry_link=hand_link)
    for _ in range(2):
        _round(db_session, world, per_patent=2, per_enterprise_cap=10)
    pushes = {
        pid: list(db_session.scalars(select(Push).where(Push.patent_id == pid))) for pid in ids
    }
    users = {}

    def fb(pid, intent, prospect, k=0):
        push = pushes[pid][k]
        user = users.get(push.enterprise_id) or enterprise_user(
            db_session, push.enterprise_id, f"e{push.enterprise_id}"
        )
        users[push.enterprise_id] = user
        submit_feedback(
            db_session,
            actor=user,
            push_id=push.id,
            data=FeedbackIn(prospect=prospect, intent=intent),
        )

    fb(ids[0], "洽谈", 5)  # tier 1
    fb(ids[1], "了解更多", 3)  # tier 2: interest
    fb(ids[2], "无", 1)  # no interest
    result = recompute_tiers(db_session, actor=world.staff, institution_id=world.institution.id)
    entries = {e.patent_id: e for e in db_session.scalars(select(PoolEntry))}
    assert entries[ids[0]].tier == 1 and "洽谈" in entries[ids[0]].tier_reasons[0]
    assert entries[ids[1]].tier == 2
    assert entries[ids[2]].tier in (2, 3)
    assert result["deal_suggestions"] == [
        {
            "patent_id": ids[0],
            "enterprise_id": pushes[ids[0]][0].enterprise_id,
            "enterprise_name": next(
                e.name for e in enterprises if e.id == pushes[ids[0]][0].enterprise_id
            ),
            "intent": "洽谈",
        }
    ]
    assert sum(result["tiers"].values()) == 7
    # Force a low grade on the patent without interest: it becomes a maintenance suggestion.
    entries[ids[2]].grade, entries[ids[2]].score = "D", 20.0
    entries[ids[1]].grade, entries[ids[1]].score = "D", 21.0
    db_session.flush()
    cands = maintenance_candidates(
        db_session, actor=world.staff, institution_id=world.institution.id, min_rounds=2
    )
    by_id = {c["patent_id"]: c for c in cands}
    assert ids[2] in by_id and ids[1] not in by_id  # interest protects a patent
    assert by_id[ids[2]]["suggestion"] == "放弃" and by_id[ids[2]]["rounds_pushed"] == 2
    assert entries[ids[2]].active  # a suggestion only: nothing was changed
    assert (
        maintenance_candidates(
            db_session, actor=world.staff, institution_id=world.institution.id, min_rounds=3
        )
        == []
    )
    with pytest.raises(PermissionDenied):
        maintenance_candidates(
            db_session, actor=world.other_staff, institution_id=world.institution.id
        )


def test_assess_pool_stores_grade_and_explanations(db_session, world, enterprises):
    pool(db_session, world, range(10))
    counts = assess_pool(db_session, industry_link=hand_link)
    assert sum(counts.values()) == 10
    stored = db_session.scalar(
        select(func.count()).select_from(PoolEntry).where(PoolEntry.grade.is_not(None))
    )
    assert stored == 10
    entry = db_session.scalars(select(PoolEntry)).first()
    assert len(entry.indicators["indicators"]) == 9


def test_stored_indicators_get_their_sources_back(db_session, world):
    from shuanglian.inventory.indicators import explain, load_config

    pool(db_session, world, [0])
    assess_pool(db_session, industry_link=hand_link)
    entry = db_session.scalars(select(PoolEntry)).one()
    assert all("source" not in i for i in entry.indicators["indicators"])
    shown = explain(entry.indicators)
    assert [i["source"] for i in shown["indicators"]] == [
        load_config()["sources"][i["key"]] for i in shown["indicators"]
    ]


def test_engine_matcher_pushes_with_the_real_engine(
    db_session, db_settings, world, enterprises, tmp_path
):
    from shuanglian.errors import DomainError as _DomainError
    from shuanglian.inventory.push import engine_matcher
    from shuanglian.matching.service import build_index

    settings = db_settings.model_copy(update={"home": tmp_path / "engine-home"})
    with pytest.raises(_DomainError, match="index build"):
        engine_matcher(db_session, settings=settings)
    ids = pool(db_session, world, range(10))
    build_index(db_session, settings=settings)
    matcher = engine_matcher(db_session, settings=settings)
    rnd = run_push_round(
        db_session,
        actor=world.admin,
        matcher=matcher,
        per_patent=3,
        per_enterprise_cap=5,
        matcher_name="engine",
    )
    pushes = list(db_session.scalars(select(Push).where(Push.round_id == rnd.id)))
    assert rnd.patents_considered == 10 and pushes
    assert {p.patent_id for p in pushes} <= set(ids)
    assert all(p.explanation["method"] == "engine" and "summary" in p.explanation for p in pushes)
    # Explained after dedup and caps: no stand-in is left in a stored push.
    assert not any("pending" in p.explanation for p in pushes)
    # The single-patent path gives the same ranking as the batched one.
    first = pushes[0].patent_id
    single = matcher.__class__(db_session, settings=settings)(first, 9)
    assert [e for e, _, _ in single][:1] == [e for e, _, _ in matcher(first, 9)][:1]


def _engine_round(db_session, db_settings, world, tmp_path, firm):  # type: ignore[no-untyped-def]
    """`firm` added beside the sample enterprises, 7 patents pooled, the engine's index built
    and one round run (3 per patent, cap 10): (round, pooled ids, settings)."""
    from shuanglian.inventory.push import engine_matcher
    from shuanglian.matching.service import build_index

    db_session.add(firm)
    db_session.flush()
    ids = pool(db_session, world, range(7))
    settings = db_settings.model_copy(update={"home": tmp_path / "engine-home"})
    build_index(db_session, settings=settings)
    rnd = run_push_round(
        db_session,
        actor=world.admin,
        matcher=engine_matcher(db_session, settings=settings),
        per_patent=3,
        per_enterprise_cap=10,
        matcher_name="engine",
    )
    return rnd, ids, settings


def test_a_pushed_cross_language_match_names_its_words(
    db_session, db_settings, world, enterprises, tmp_path
):
    """A drone patent pushed to a firm described in English: the stored push says which words
    matched across the languages (无人机 ↔ drone), as the patent's own match list does, and its
    level and percent agree. Before, the push was explained without the firm's text, showed no
    word and read 「匹配度 低」 beside a medium percent."""
    from shuanglian.enterprises.models import Enterprise
    from shuanglian.matching.service import match_patent

    drone_maker = Enterprise(
        name="Skyward Drone Systems Ltd",
        business_scope="Design and manufacture of drones and unmanned aerial vehicles; "
        "drone inspection services.",
    )
    rnd, ids, settings = _engine_round(db_session, db_settings, world, tmp_path, drone_maker)
    pushes = list(
        db_session.scalars(
            select(Push).where(Push.round_id == rnd.id, Push.enterprise_id == drone_maker.id)
        )
    )
    assert pushes
    for push in pushes:
        words = push.explanation["words"]
        assert any(w["cross_lingual"] for w in words), push.explanation
        assert any("↔" in r for r in push.explanation["reasons"])
        single = {
            m.id: m.explanation
            for m in match_patent(db_session, settings=settings, patent_id=push.patent_id, top=10)
        }[drone_maker.id]
        assert words == [w.model_dump(mode="json") for w in single.words]
        assert push.explanation["level"] == single.level
    assert {p.patent_id for p in pushes} <= set(ids)


class _ScriptedMatcher:
    """Candidates and their explanations as given; explains on demand like the engine's."""

    def __init__(
        self,
        candidates: dict[int, list[int]],
        without_evidence: set[tuple[int, int]],
        levels: dict[tuple[int, int], str] | None = None,
    ):
        self.candidates = candidates
        self.without_evidence = without_evidence
        self.levels = levels or {}
        self.explained: list[tuple[int, int]] = []

    def __call__(self, patent_id: int, top: int):
        ids = self.candidates.get(patent_id, [])[:top]
        return [(eid, 1.0 - k / 100, {"method": "scripted", "pending": True}) for k, eid in
                enumerate(ids)]  # fmt: skip

    def explain_pushes(self, rows):
        for row in rows:
            pair = (row["patent_id"], row["enterprise_id"])
            self.explained.append(pair)
            row["explanation"] = {
                "method": "scripted",
                "evidence": pair not in self.without_evidence,
                "level": self.levels.get(pair, "medium"),
            }


def test_a_pair_with_nothing_to_show_is_not_pushed_and_its_slot_goes_to_the_next(
    db_session, world, enterprises
):
    """Only generic words in common (信息、服务): the pair is not pushed, the patent's list is
    filled from its next candidates, and the enterprise's share of the cap is given back."""
    first, second = pool(db_session, world, range(2))
    e = [ent.id for ent in enterprises[:4]]
    matcher = _ScriptedMatcher(
        {first: [e[0], e[1], e[2], e[3]], second: [e[0], e[3]]},
        without_evidence={(first, e[0])},
    )
    rnd = run_push_round(
        db_session, actor=world.admin, matcher=matcher, per_patent=2, per_enterprise_cap=1
    )
    pushes = db_session.execute(
        select(Push.patent_id, Push.enterprise_id, Push.rank).where(Push.round_id == rnd.id)
    ).all()
    assert sorted(pushes) == sorted(
        [(first, e[1], 1), (first, e[2], 2), (second, e[0], 1), (second, e[3], 1 + 1)]
    )
    assert (rnd.pushes_made, rnd.skipped_no_evidence) == (4, 1)
    # Only what the round chose was explained, the refill included, each pair once; e[3] was
    # never needed for the first patent.
    assert len(matcher.explained) == len(set(matcher.explained))
    assert (first, e[3]) not in matcher.explained and (first, e[2]) in matcher.explained


def test_a_patent_pushes_only_its_closest_few_weak_matches(db_session, world, enterprises):
    """An enterprise's push list was mostly 「匹配较弱，仅供参考」 (82 % of the demo's pushes were
    低). A patent now pushes at most WEAK_PUSHES weak pairs in a round: past them a weak pair's
    slot goes to the next candidate, and a patent whose refill brings only weak pairs stops
    there instead of explaining its whole candidate list."""
    from shuanglian.inventory.push import WEAK_PUSHES

    assert WEAK_PUSHES == 3
    mixed, all_weak = pool(db_session, world, range(2))
    e = [ent.id for ent in enterprises[:10]]
    assert len(e) == 10
    levels = {(mixed, x): "low" for x in e} | {(all_weak, x): "low" for x in e}
    levels[(mixed, e[1])] = "medium"
    levels[(mixed, e[5])] = "high"
    matcher = _ScriptedMatcher({mixed: e, all_weak: e}, without_evidence=set(), levels=levels)
    rnd = run_push_round(
        db_session, actor=world.admin, matcher=matcher, per_patent=5, per_enterprise_cap=10
    )
    pushed = {
        pid: [eid for eid, in db_session.execute(
            select(Push.enterprise_id).where(Push.round_id == rnd.id, Push.patent_id == pid)
            .order_by(Push.rank)
        )]
        for pid in (mixed, all_weak)
    }  # fmt: skip
    # e[4] is a fourth weak pair: passed over, and the refill reached the 高 e[5].
    assert pushed[mixed] == [e[0], e[1], e[2], e[3], e[5]]
    # Three weak pushes, then one refill of two more weak pairs, then no more asking.
    assert pushed[all_weak] == [e[0], e[1], e[2]]
    assert [x for p, x in matcher.explained if p == all_weak] == e[:7]
    assert (rnd.pushes_made, rnd.skipped_weak, rnd.skipped_no_evidence) == (8, 1 + 4, 0)


def test_an_engine_round_never_pushes_a_firm_sharing_only_generic_words(
    db_session, db_settings, world, enterprises, tmp_path
):
    """A firm whose scope is all generic words (信息、服务、系统、数据…) is among a patent's
    candidates, but no push goes to it: its explanation has nothing a person could check."""
    from shuanglian.enterprises.models import Enterprise
    from shuanglian.matching.service import match_patent

    generic = Enterprise(
        name="恒通信息服务有限公司",
        business_scope="信息技术服务；信息系统集成服务；数据处理服务；技术服务、技术开发、"
        "技术咨询、技术转让；系统设计；设备销售",
    )
    rnd, ids, settings = _engine_round(db_session, db_settings, world, tmp_path, generic)
    listed = [
        m
        for pid in ids
        for m in match_patent(db_session, settings=settings, patent_id=pid, top=9)
        if m.id == generic.id
    ]
    assert listed and not any(m.explanation.evidence for m in listed)
    pushes = list(db_session.scalars(select(Push).where(Push.round_id == rnd.id)))
    assert pushes and rnd.skipped_no_evidence >= 1
    assert generic.id not in {p.enterprise_id for p in pushes}
    assert all(p.explanation["evidence"] for p in pushes)
    assert all(len([p for p in pushes if p.patent_id == pid]) <= 3 for pid in ids)


def test_an_enterprise_reads_its_best_pushes_first(db_session, world, enterprises):
    """A push's rank is its place in its patent's list: an enterprise pushed three patents in
    a round saw them by that rank, 低 before 高. Within a round the best match comes first."""
    ids = pool(db_session, world, range(3))
    _round(db_session, world, per_patent=5, per_enterprise_cap=5)
    firm = next(
        e
        for e in enterprises
        if db_session.scalar(select(func.count()).where(Push.enterprise_id == e.id)) >= 2
    )
    pushes = list(db_session.scalars(select(Push).where(Push.enterprise_id == firm.id)))
    # Give the push with the best rank the weakest match.
    pushes.sort(key=lambda p: (p.rank, p.id))
    for n, push in enumerate(pushes):
        push.explanation = {**(push.explanation or {}), "match": 0.1 + 0.2 * n}
    db_session.flush()
    reader = enterprise_user(db_session, firm.id, "reader")
    listed = push_list_for_enterprise(db_session, actor=reader, enterprise_id=firm.id)
    matches = [p.explanation["match"] for p, _ in listed]
    assert matches == sorted(matches, reverse=True) and len(matches) == len(pushes)
    assert {p.patent_id for p, _ in listed} <= set(ids)
