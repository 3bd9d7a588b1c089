"""Push rounds (按产业细分领域推送): pooled patents → enterprises, each pair at most once.

A round walks the active pool best-graded first, asks a matcher for each patent's candidates,
drops enterprises that already received the patent in an earlier round and enterprises that
reached this round's cap, pushes only pairs with something to check and at most a few weak
(低) ones per patent, and records every push with its rank, score and explanation. The
matcher is a plain callable so the real engine (shuanglian.matching) and the industry-link
matcher below are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import require_admin, require_enterprise, require_institution
from shuanglian.audit import record_audit, snapshot
from shuanglian.config import Settings
from shuanglian.db import begin_writing, utcnow
from shuanglian.engine.reasons import WEAK_SHOWN
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.indicators import IndustryLink, division_of, divisions_for_codes
from shuanglian.inventory.models import PoolEntry, Push, PushRound
from shuanglian.patents.models import Institution, Patent

Matcher = Callable[[int, int], list[tuple[int, float, dict[str, Any]]]]
"""(patent_id, how_many) → [(enterprise_id, score, explanation)], best first."""

CHUNK = 1000  # patents per unit of work: bounds memory for the already-pushed lookup
OVERFETCH = 3  # candidates asked per slot, so dedup and caps still leave a full list
# Weak (低) pushes a patent may make in one round: the closest few, as a page lists them under
# 「暂无高度匹配的成果」 (engine.reasons.WEAK_SHOWN), never a whole list of them.
WEAK_PUSHES = WEAK_SHOWN


def industry_matcher(session: Session, *, industry_link: IndustryLink) -> Matcher:
    """A matcher from the IPC → industry link alone: enterprises of the linked 大类.

    Score is the share of the patent's IPC codes linked to the enterprise's 大类. Within one
    大类 every enterprise is equally fit, so the order rotates with the patent id — different
    patents reach different enterprises instead of all going to the lowest ids.
    """
    by_div: dict[str, list[int]] = {}
    for eid, code in session.execute(select(Enterprise.id, Enterprise.industry_code)):
        div = division_of(code)
        if div is not None:
            by_div.setdefault(div, []).append(eid)
    for ids in by_div.values():
        ids.sort()
    # The IPC codes of the whole active pool in one query: a round asks for every one of them.
    codes: dict[int, tuple[str | None, list[str]]] = {
        pid: (main, list(ipcs or []))
        for pid, main, ipcs in session.execute(
            select(Patent.id, Patent.main_ipc, Patent.ipc_codes)
            .join(PoolEntry, PoolEntry.patent_id == Patent.id)
            .where(PoolEntry.active.is_(True))
        )
    }

    def divisions(patent_id: int) -> dict[str, float]:
        if patent_id not in codes:
            row = session.execute(
                select(Patent.main_ipc, Patent.ipc_codes).where(Patent.id == patent_id)
            ).first()
            codes[patent_id] = (row[0], list(row[1] or [])) if row else (None, [])
        main, ipcs = codes[patent_id]
        return divisions_for_codes(main, ipcs, industry_link)

    def match(patent_id: int, top: int) -> list[tuple[int, float, dict[str, Any]]]:
        out: list[tuple[int, float, dict[str, Any]]] = []
        for div, weight in sorted(divisions(patent_id).items(), key=lambda x: (-x[1], x[0])):
            ids = by_div.get(div, [])
            if not ids:
                continue
            start = (patent_id * 7919) % len(ids)
            for k in range(min(top, len(ids))):
                eid = ids[(start + k) % len(ids)]
                out.append(
                    (
                        eid,
                        round(weight, 4),
                        {
                            "method": "industry_link",
                            "division": div,
                            "weight": round(weight, 4),
                            "reason": f"专利 IPC 关联国民经济行业大类 {div}（权重 {weight:.0%}），"
                            "企业登记行业属该大类",
                        },
                    )
                )
            if len(out) >= top:
                break
        return out[:top]

    return match


class EngineMatcher:
    """The matching engine as a push-round matcher (shuanglian.matching.service).

    `prefetch` ranks a whole chunk of patents in one batched engine call
    (`rank_patents_bulk`) without explanations; `explain_pushes` then explains only the pairs
    the round keeps after dedup and caps (about one candidate in seven at national scale —
    explaining all of them was half the round's time). A call for a patent not prefetched
    falls back to `match_patent`, explained at once.
    """

    def __init__(self, session: Session, *, settings: Settings) -> None:
        from shuanglian.matching import service as matching

        self._matching = matching
        self._session = session
        self._settings = settings
        self._ranking: Any = None
        self._cache: dict[int, list[tuple[int, float, dict[str, Any]]]] = {}
        self._cached_top = 0

    @staticmethod
    def _convert(match: Any) -> tuple[int, float, dict[str, Any]]:
        expl = match.explanation.model_dump(mode="json") if match.explanation else {}
        return int(match.id), float(match.score), {"method": "engine", **expl}

    def prefetch(self, patent_ids: list[int], top: int) -> None:
        """Rank a chunk of patents at once; replaces the previous chunk's results."""
        top = min(top, self._matching.MAX_TOP)
        ranking = self._matching.rank_patents_bulk(
            self._session, settings=self._settings, patent_ids=patent_ids, top=top
        )
        # Scores rounded as `Match.score` rounds them, so both paths store the same numbers;
        # the explanation is a stand-in until `explain_pushes` replaces it.
        self._cache = {
            pid: [
                (int(h.doc_id), round(h.score, 6), {"method": "engine", "pending": True})
                for h in hits
            ]
            for pid, hits in ranking.hits.items()
        }
        self._ranking = ranking
        self._cached_top = top

    def __call__(self, patent_id: int, top: int) -> list[tuple[int, float, dict[str, Any]]]:
        top = min(top, self._matching.MAX_TOP)
        if patent_id in self._cache and top <= self._cached_top:
            return self._cache[patent_id][:top]
        hits = self._matching.match_patent(
            self._session, settings=self._settings, patent_id=patent_id, top=top
        )
        return [self._convert(m) for m in hits]

    def explain_pushes(self, rows: list[dict[str, Any]]) -> None:
        """Replace the stand-in explanation of each push row (patent_id, enterprise_id,
        explanation) with the engine's explanation of that pair."""
        wanted: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            if row["explanation"].get("pending"):
                wanted.setdefault(row["patent_id"], []).append(row)
        texts = self._matching.enterprise_texts(
            self._session, (r["enterprise_id"] for pid_rows in wanted.values() for r in pid_rows)
        )
        for pid, pid_rows in wanted.items():
            found = self._matching.explain_ranked(
                self._ranking,
                patent_id=pid,
                enterprise_ids=[r["enterprise_id"] for r in pid_rows],
                doc_texts=texts,
            )
            for row in pid_rows:
                expl = found.get(row["enterprise_id"])
                body = expl.model_dump(mode="json") if expl is not None else {}
                row["explanation"] = {"method": "engine", **body}


def engine_matcher(session: Session, *, settings: Settings) -> EngineMatcher:
    """The matching engine as a matcher; a clear error when its index is not built yet."""
    from shuanglian.matching.service import ENTERPRISE_INDEX

    if not (settings.index_dir / ENTERPRISE_INDEX / "current").exists():
        raise DomainError(
            "匹配索引尚未建立：请先运行 `shuanglian index build`，或使用 --matcher industry "
            "(no matching index yet)"
        )
    return EngineMatcher(session, settings=settings)


def run_push_round(
    session: Session,
    *,
    actor: User | None,
    matcher: Matcher,
    per_patent: int = 10,
    per_enterprise_cap: int = 20,
    institution_id: int | None = None,
    matcher_name: str = "",
    rank_before_writing: bool = False,
) -> PushRound:
    """Run one push round over the active pool (optionally one institution's part).

    `rank_before_writing` (web requests): rank the whole round in a read transaction and take
    the write lock (`db.begin_writing`) only for the inserts. On SQLite a round that ranked
    while holding the single write lock made every other writer wait past the busy timeout
    ("database is locked"). The CLI keeps chunk-by-chunk writing, which bounds memory at
    national scale.
    """
    if actor is not None:
        if institution_id is None:
            require_admin(actor)
        else:
            require_institution(actor, institution_id)
    if institution_id is not None and session.get(Institution, institution_id) is None:
        # (Admins pass the permission check for any id; the round must not point nowhere.)
        raise NotFound("机构不存在 (no such institution)", field="institution_id")
    rnd = PushRound(
        per_patent=per_patent,
        per_enterprise_cap=per_enterprise_cap,
        institution_id=institution_id,
        matcher_name=matcher_name,
        patents_considered=0,
        pushes_made=0,
        skipped_already_pushed=0,
        skipped_cap=0,
        skipped_no_evidence=0,
        skipped_weak=0,
    )
    stmt = select(PoolEntry.patent_id).where(PoolEntry.active.is_(True))
    if institution_id is not None:
        stmt = stmt.where(PoolEntry.institution_id == institution_id)
    patent_ids = list(
        session.scalars(stmt.order_by(PoolEntry.score.desc().nulls_last(), PoolEntry.patent_id))
    )
    if not rank_before_writing:
        session.add(rnd)
        session.flush()
    load: dict[int, int] = {}
    planned: list[dict[str, Any]] = []
    for start in range(0, len(patent_ids), CHUNK):
        chunk = patent_ids[start : start + CHUNK]
        rows = _plan_chunk(session, rnd, matcher, chunk, per_patent, per_enterprise_cap, load)
        if rank_before_writing:
            planned += rows
        else:
            _insert_pushes(session, rnd, rows)
    if rank_before_writing:
        begin_writing(session)
        session.add(rnd)
        session.flush()
        for start in range(0, len(planned), CHUNK):
            _insert_pushes(session, rnd, planned[start : start + CHUNK])
    rnd.finished_at = utcnow()
    record_audit(
        session,
        actor=actor,
        action="push.round",
        subject=rnd,
        detail={"before": None, "after": snapshot(rnd)},
    )
    return rnd


def _plan_chunk(
    session: Session,
    rnd: PushRound,
    matcher: Matcher,
    chunk: list[int],
    per_patent: int,
    per_enterprise_cap: int,
    load: dict[int, int],
) -> list[dict[str, Any]]:
    """The pushes a chunk of patents gets (reads and ranks only); counts what was skipped.

    A candidate whose explanation shows nothing a person could check (only generic words or
    character pairs in common, no shared patent class, no industry link) is not pushed: its
    slot goes to the next candidate. Explanations are computed only for the pairs chosen
    (explaining every candidate of a short list at once took a 10,000-patent round from 17 s
    to 28 s), so the choice runs in passes until every patent's list is full or its
    candidates run out.

    A weak pair (level 低) is pushed only while its patent has fewer than `WEAK_PUSHES` of
    them: in the demo 82 % of pushes were 低, so an enterprise's list was mostly 「匹配较弱」.
    Past that the slot goes to the next candidate, but a patent whose refill brought only weak
    pairs asks no more (levels fall with the score, and each refill is explained), so a round
    explains at most about twice the pairs it did before this rule.
    """
    pushed = {
        (p, e)
        for p, e in session.execute(
            select(Push.patent_id, Push.enterprise_id).where(Push.patent_id.in_(chunk))
        )
    }
    prefetch = getattr(matcher, "prefetch", None)
    if prefetch is not None:  # batched matchers rank the whole chunk in one call
        prefetch(chunk, per_patent * OVERFETCH)
    explain = getattr(matcher, "explain_pushes", None)
    queue = {
        pid: sorted(matcher(pid, per_patent * OVERFETCH), key=lambda c: -c[1]) for pid in chunk
    }
    kept: dict[int, list[dict[str, Any]]] = {pid: [] for pid in chunk}
    weak: dict[int, int] = dict.fromkeys(chunk, 0)  # weak pushes kept per patent
    done: set[int] = set()  # patents whose last refill was all weak pairs past the limit
    blocked: set[tuple[int, int]] = set()  # (patent, enterprise) passed over at the cap
    now = utcnow()
    while True:
        fresh = [
            row
            for pid in chunk
            if pid not in done
            for row in _take(queue[pid], pid, per_patent - len(kept[pid]), pushed, load,
                             per_enterprise_cap, rnd, blocked, now)
        ]  # fmt: skip
        if not fresh:
            break
        if explain is not None:  # explained only once the round has chosen them
            explain(fresh)
        useful: set[int] = set()
        passed_weak: set[int] = set()
        for row in fresh:
            pid = row["patent_id"]
            explanation = row["explanation"]
            is_weak = explanation.get("level") == "low"
            if not explanation.get("evidence", True):
                rnd.skipped_no_evidence += 1
            elif is_weak and weak[pid] >= WEAK_PUSHES:
                rnd.skipped_weak += 1
                passed_weak.add(pid)
            else:
                kept[pid].append(row)
                weak[pid] += is_weak
                useful.add(pid)
                continue
            # Not pushed: the slot and the enterprise's share of the cap go back.
            load[row["enterprise_id"]] -= 1
        done |= passed_weak - useful
    rnd.skipped_cap += len(blocked - pushed)
    rows: list[dict[str, Any]] = []
    for pid in chunk:
        best_first = sorted(kept[pid], key=lambda r: -r["score"])
        rows += [{**row, "rank": rank} for rank, row in enumerate(best_first, start=1)]
    rnd.patents_considered += len(chunk)
    return rows


def _take(
    candidates: list[tuple[int, float, dict[str, Any]]],
    pid: int,
    wanted: int,
    pushed: set[tuple[int, int]],
    load: dict[int, int],
    per_enterprise_cap: int,
    rnd: PushRound,
    blocked: set[tuple[int, int]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Up to `wanted` rows from one patent's candidates, best first, removed from the list.

    A pair pushed before, or already explained and without evidence, is dropped; an
    enterprise at the cap is passed over but stays in the list, since a later pass may find
    its share given back by a pair without evidence.
    """
    rows: list[dict[str, Any]] = []
    k = 0
    while k < len(candidates) and len(rows) < wanted:
        eid, score, explanation = candidates[k]
        if (pid, eid) in pushed:
            del candidates[k]
            rnd.skipped_already_pushed += 1
            continue
        if not explanation.get("evidence", True):
            del candidates[k]
            rnd.skipped_no_evidence += 1
            continue
        if load.get(eid, 0) >= per_enterprise_cap:
            blocked.add((pid, eid))
            k += 1
            continue
        del candidates[k]
        load[eid] = load.get(eid, 0) + 1
        pushed.add((pid, eid))
        rows.append(
            {
                "patent_id": pid,
                "enterprise_id": eid,
                "score": float(score),
                "explanation": explanation,
                "created_at": now,
            }
        )
    return rows


def _insert_pushes(session: Session, rnd: PushRound, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    for row in rows:
        row["round_id"] = rnd.id
    # Core insert: no ORM objects for rows nobody reads back in this unit of work.
    session.connection().execute(insert(Push), rows)
    rnd.pushes_made += len(rows)


def push_list_for_enterprise(
    session: Session, *, actor: User | None, enterprise_id: int, round_id: int | None = None
) -> list[tuple[Push, Patent]]:
    """What was pushed to one enterprise: the latest round first, and within a round the best
    match first (the calibrated percent its explanation stored; a push's rank is its place in
    the patent's list, which says nothing across patents), then rank."""
    if actor is not None:
        require_enterprise(actor, enterprise_id)
    stmt = (
        select(Push, Patent)
        .join(Patent, Patent.id == Push.patent_id)
        .where(Push.enterprise_id == enterprise_id)
    )
    if round_id is not None:
        stmt = stmt.where(Push.round_id == round_id)
    rows = [(push, patent) for push, patent in session.execute(stmt)]
    rows.sort(key=lambda r: (-r[0].round_id, -_stored_match(r[0]), r[0].rank, r[0].id))
    return rows


def _stored_match(push: Push) -> float:
    """The calibrated match a push's explanation stored (0 for a push without one)."""
    value = (push.explanation or {}).get("match")
    return float(value) if isinstance(value, int | float) else 0.0


def pushes_for_patent(session: Session, *, actor: User | None, patent_id: int) -> list[Push]:
    """Every push of one patent, for its institution's staff."""
    patent = session.get(Patent, patent_id)
    if patent is None:
        raise NotFound(f"专利 {patent_id} 不存在 (patent not found)")
    if actor is not None and patent.institution_id is not None:
        require_institution(actor, patent.institution_id)
    elif actor is not None:
        require_admin(actor)
    stmt = select(Push).where(Push.patent_id == patent_id).order_by(Push.round_id, Push.rank)
    return list(session.scalars(stmt))


def rounds_pushed(session: Session, *, patent_ids: list[int]) -> dict[int, int]:
    """Number of distinct rounds each patent was pushed in."""
    out: dict[int, int] = {}
    for start in range(0, len(patent_ids), 5000):
        chunk = patent_ids[start : start + 5000]
        out.update(
            session.execute(
                select(Push.patent_id, func.count(func.distinct(Push.round_id)))
                .where(Push.patent_id.in_(chunk))
                .group_by(Push.patent_id)
            ).all()
        )
    return out
