"""The bulk matching job: a full push of the pool to every enterprise, and back, resumably.

Both directions of a national push (精准对接, 按产业细分领域推送 at national scale):

    p2e   every active pooled patent (best-graded first, as push rounds walk it) → its top-k
          enterprises, after the push-round rules: a pair already pushed in any round is
          skipped, and an enterprise that reached the per-enterprise cap receives no more.
          Stored as pushes (`inventory_pushes`) of one push round, so push lists, feedback
          and "never the same pair twice" work on them unchanged.
    e2p   every enterprise → its top-k pooled patents (not pushed to it in an earlier round);
          stored in `match_bulk_matches`.

Explanations are stored compactly: each hit's signal parts (BM25, IPC, industry prior) and
their shares of the score; `render_explanation` computes the full one (shared terms, IPC,
industry links) on demand from the index, the same one a single match shows.

Why the shape:
- Shards, fixed when the job starts (their query ids are stored), each written in ONE
  transaction with the row that marks it finished. A crash (SIGKILL, power, a lost database)
  leaves whole shards or nothing; the rerun resumes at the first unfinished shard. The cap's
  running counts are read back from the committed pushes, and shards are written in order,
  so a resumed job writes exactly what an uninterrupted one would have.
- Ranking runs in workers (`bulk_workers`: processes sharing the memory-mapped index, or Ray
  tasks); this process reads the queries, applies the rules and writes — COPY on PostgreSQL,
  `executemany` in large batches on SQLite. No ORM objects for result rows.
- A bad record (no text at all, an IPC code that does not parse, deleted since the job
  started) is skipped and counted per reason; it never stops the job.

A job is not a web request: it commits once per shard by design (that is what makes it
resumable), so it takes an Engine rather than a request's session.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.db import utcnow
from shuanglian.engine.bulk import RankedBlock
from shuanglian.engine.ipc import parse_ipc
from shuanglian.engine.records import Record
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError
from shuanglian.inventory.models import PoolEntry, PushRound
from shuanglian.matching.bulk_memory import MemoryWatch
from shuanglian.matching.bulk_store import (
    BulkJobError,
    commit_shard,
    load_state,
)
from shuanglian.matching.bulk_workers import (
    ATTEMPTS,
    Executor,
    ShardTask,
    make_executor,
)
from shuanglian.matching.models import BulkJob, BulkShard
from shuanglian.matching.schemas import ExplanationOut
from shuanglian.patents.models import Patent

DIRECTION_ORDER = ("p2e", "e2p")
MAX_TOP = 200


@dataclass(frozen=True)
class BulkOptions:
    """What a bulk job does and where it runs (stored with the job, except where it runs)."""

    top: int = 20
    per_enterprise_cap: int = 100
    overfetch: int = 3
    directions: str = "both"  # "both", "p2e" or "e2p"
    # Push a patent's weak (低) pairs only while it has fewer than WEAK_PUSHES, as a push
    # round does (each hit's level read as arrays, `engine.bulk_levels`).
    weak_limit: bool = True
    shard_size: int = 2000
    workers: int = 2
    ray_address: str | None = None
    memory_budget_gb: float = 16.0
    restart: bool = False
    # Fault drill: shards named "p2e:3" raise in their worker (see bulk_workers.ShardTask).
    fail_shards: tuple[str, ...] = ()

    def check(self) -> None:
        """Refuse options that cannot work, naming the field."""
        if not 1 <= self.top <= MAX_TOP:
            raise DomainError(
                f"top 应在 1 到 {MAX_TOP} 之间 (top must be 1..{MAX_TOP})", field="top"
            )
        if self.per_enterprise_cap < 1:
            raise DomainError("每企业上限须大于 0 (cap must be > 0)", field="cap")
        if self.overfetch < 1:
            raise DomainError("候选倍数须大于 0 (overfetch must be > 0)", field="overfetch")
        if self.directions not in ("both", *DIRECTION_ORDER):
            raise DomainError(
                "方向应为 both、p2e 或 e2p (directions must be both, p2e or e2p)",
                field="directions",
            )
        if self.shard_size < 1:
            raise DomainError("分片大小须大于 0 (shard size must be > 0)", field="shard_size")
        if self.memory_budget_gb <= 0:
            raise DomainError("内存预算须大于 0 (memory budget must be > 0)", field="memory")


@dataclass
class FailedShard:
    """A shard that failed `ATTEMPTS` times: it stays unfinished; a rerun tries it again."""

    direction: str
    shard_no: int
    first_id: int
    last_id: int
    query_ids: list[int]
    error: str


@dataclass
class BulkReport:
    """What a run of the job did (this run only for counts of work; totals in `job_counts`)."""

    job_id: int
    round_id: int | None
    resumed: bool
    status: str
    executor: str
    workers: int
    shards_total: int
    shards_done_before: int
    shards_done_now: int
    queries_ranked: int
    pushes: int
    recommendations: int
    skipped: dict[str, int]
    skipped_already_pushed: int
    skipped_cap: int
    # Patent → enterprise pairs with nothing a person could check (only generic words).
    skipped_no_evidence: int
    # Weak (低) pairs past a patent's first few (`inventory.push.WEAK_PUSHES`).
    skipped_weak: int
    failed_shards: list[FailedShard]
    wall_s: float
    memory: dict[str, float]
    job_counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str, int, int], None]
"""(direction, queries done, queries in that direction) — called after every shard."""


# --------------------------------------------------------------------------- records
def _bad_reason(record: Record) -> str | None:
    """Why a record cannot be matched, or None: no text at all, or an unparseable IPC code."""
    if not (record.title or "").strip() and not (record.text or "").strip():
        return "empty_text"
    if any(parse_ipc(code) is None for code in record.ipc):
        return "bad_ipc"
    return None


def _queries(
    session: Session, direction: str, ids: Sequence[int]
) -> tuple[list[Record], Counter[str]]:
    """The shard's query records in shard order, and the skipped ones counted by reason."""
    from shuanglian.matching.service import enterprise_records, patent_records

    reader = patent_records if direction == "p2e" else enterprise_records
    found = {int(r.id): r for r in reader(session, ids=ids)}
    skipped: Counter[str] = Counter()
    out: list[Record] = []
    for qid in ids:
        rec = found.get(int(qid))
        reason = "missing" if rec is None else _bad_reason(rec)
        if reason:
            skipped[reason] += 1
            continue
        out.append(rec)  # type: ignore[arg-type]
    return out, skipped


# --------------------------------------------------------------------------- job lifecycle
def _index_versions(settings: Settings) -> dict[str, str]:
    from shuanglian.matching.service import ENTERPRISE_INDEX, PATENT_INDEX, IndexNotReady

    out = {}
    for name in (ENTERPRISE_INDEX, PATENT_INDEX):
        pointer = settings.index_dir / name / "current"
        if not pointer.exists():
            raise IndexNotReady(
                f"匹配索引尚未建立，请先运行 `shuanglian index build` "
                f"(matching index {name!r} not built yet)"
            )
        out[name] = pointer.read_text(encoding="utf-8").strip()
    return out


def _directions(value: str) -> tuple[str, ...]:
    return DIRECTION_ORDER if value == "both" else (value,)


def _create_job(conn: Connection, options: BulkOptions, versions: dict[str, str]) -> int:
    """A new job: its push round, and its shards with their query ids (one transaction)."""
    round_id = conn.execute(
        insert(PushRound)
        .values(
            per_patent=options.top,
            per_enterprise_cap=options.per_enterprise_cap,
            matcher_name="engine-bulk",
            started_at=utcnow(),
            patents_considered=0,
            pushes_made=0,
            skipped_already_pushed=0,
            skipped_cap=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .returning(PushRound.id)
    ).scalar_one()
    job_id = conn.execute(
        insert(BulkJob)
        .values(
            round_id=round_id,
            status="running",
            directions=options.directions,
            top=options.top,
            per_enterprise_cap=options.per_enterprise_cap,
            overfetch=options.overfetch,
            shard_size=options.shard_size,
            weak_limit=options.weak_limit,
            index_versions=versions,
            counts={},
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .returning(BulkJob.id)
    ).scalar_one()
    for direction in _directions(options.directions):
        if direction == "p2e":
            # The order push rounds walk the pool in: best-graded first.
            stmt = (
                select(PoolEntry.patent_id)
                .where(PoolEntry.active.is_(True))
                .order_by(PoolEntry.score.desc().nulls_last(), PoolEntry.patent_id)
            )
        else:
            stmt = select(Enterprise.id).order_by(Enterprise.id)
        ids = [int(i) for i in conn.execute(stmt).scalars()]
        rows = [
            {
                "job_id": job_id,
                "direction": direction,
                "shard_no": n,
                "query_ids": ids[start : start + options.shard_size],
                "rows": 0,
                "skipped": {},
            }
            for n, start in enumerate(range(0, len(ids), options.shard_size))
        ]
        for start in range(0, len(rows), 500):
            conn.execute(insert(BulkShard), rows[start : start + 500])
    return int(job_id)


def _open_job(engine: Engine, options: BulkOptions, versions: dict[str, str]) -> tuple[int, bool]:
    """(job id, resumed): the unfinished job if there is one, else a new job."""
    with engine.begin() as conn:
        running = conn.execute(
            select(BulkJob.id, BulkJob.index_versions)
            .where(BulkJob.status == "running")
            .order_by(BulkJob.id.desc())
        ).first()
        if running is not None and options.restart:
            conn.execute(
                update(BulkJob)
                .where(BulkJob.status == "running")
                .values(status="abandoned", updated_at=utcnow())
            )
            running = None
        if running is not None:
            if running.index_versions != versions:
                raise BulkJobError(
                    f"匹配索引在任务 {running.id} 开始后已重建，继续运行会混用两个索引；"
                    f"请加 --restart 重新开始 (the index changed since job {running.id} "
                    "started; rerun with --restart)"
                )
            return int(running.id), True
        return _create_job(conn, options, versions), False


def _job_options(engine: Engine, job_id: int, given: BulkOptions) -> BulkOptions:
    """The stored options of a job (a resumed job keeps its own), with this run's placement."""
    with engine.connect() as conn:
        job = conn.execute(select(BulkJob).where(BulkJob.id == job_id)).one()
    return BulkOptions(
        top=job.top,
        per_enterprise_cap=job.per_enterprise_cap,
        overfetch=job.overfetch,
        directions=job.directions,
        shard_size=job.shard_size,
        weak_limit=job.weak_limit,
        workers=given.workers,
        ray_address=given.ray_address,
        memory_budget_gb=given.memory_budget_gb,
        fail_shards=given.fail_shards,
    )


# --------------------------------------------------------------------------- the job
def _pending(engine: Engine, job_id: int, direction: str) -> tuple[list[Any], int, int]:
    """(unfinished shards in order, shards in the direction, queries in the direction)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(BulkShard.id, BulkShard.shard_no, BulkShard.query_ids, BulkShard.finished_at)
            .where(BulkShard.job_id == job_id, BulkShard.direction == direction)
            .order_by(BulkShard.shard_no)
        ).all()
    total_queries = sum(len(r.query_ids) for r in rows)
    pending = [
        _Shard(id=r.id, direction=direction, shard_no=r.shard_no, query_ids=list(r.query_ids))
        for r in rows
        if r.finished_at is None
    ]
    return pending, len(rows), total_queries


@dataclass
class _Shard:
    id: int
    direction: str
    shard_no: int
    query_ids: list[int]


def run_bulk_job(
    engine: Engine,
    *,
    settings: Settings,
    options: BulkOptions,
    progress: Progress | None = None,
    after_write: Callable[[Connection, str, int], None] | None = None,
) -> BulkReport:
    """Run (or resume) the bulk push; returns what this run did.

    `after_write(conn, direction, shard_no)` runs inside each shard's transaction after its
    rows are written and before it commits (operational hooks: drills, extra bookkeeping).
    """
    from shuanglian.matching.service import ENTERPRISE_INDEX, PATENT_INDEX

    options.check()
    started = time.perf_counter()
    versions = _index_versions(settings)
    try:
        job_id, resumed = _open_job(engine, options, versions)
    except DBAPIError as exc:
        raise BulkJobError(f"无法打开数据库 (database unavailable): {exc.orig}") from exc
    opts = _job_options(engine, job_id, options)
    with engine.connect() as conn:
        round_id = int(
            conn.execute(select(BulkJob.round_id).where(BulkJob.id == job_id)).scalar_one() or 0
        )
        state = load_state(conn, round_id, opts.per_enterprise_cap)
    fail = set(opts.fail_shards)
    executor: Executor = make_executor(workers=opts.workers, ray_address=opts.ray_address)
    report = BulkReport(
        job_id=job_id, round_id=round_id, resumed=resumed, status="running",
        executor=executor.name, workers=executor.workers, shards_total=0, shards_done_before=0,
        shards_done_now=0, queries_ranked=0, pushes=0, recommendations=0, skipped={},
        skipped_already_pushed=0, skipped_cap=0, skipped_no_evidence=0, skipped_weak=0,
        failed_shards=[], wall_s=0.0, memory={},
    )  # fmt: skip
    skipped_all: Counter[str] = Counter()
    watch = MemoryWatch()
    try:
        with watch:
            for direction in _directions(opts.directions):
                pending, n_shards, n_queries = _pending(engine, job_id, direction)
                report.shards_total += n_shards
                report.shards_done_before += n_shards - len(pending)
                index = ENTERPRISE_INDEX if direction == "p2e" else PATENT_INDEX
                source = PATENT_INDEX if direction == "p2e" else ENTERPRISE_INDEX
                done_queries = n_queries - sum(len(s.query_ids) for s in pending)
                if progress:
                    progress(direction, done_queries, n_queries)
                for shard, block, skipped, error in _ranked(
                    engine,
                    executor,
                    pending,
                    index_root=str(settings.index_dir),
                    index_name=index,
                    version=versions[index],
                    query_index=source,
                    query_version=versions[source],
                    top=opts.top * opts.overfetch,
                    weak_limit=opts.weak_limit,
                    fail=fail,
                ):
                    if error is not None:
                        report.failed_shards.append(
                            FailedShard(direction, shard.shard_no, shard.query_ids[0],
                                        shard.query_ids[-1], shard.query_ids, error)
                        )  # fmt: skip
                        continue
                    out, _ = commit_shard(
                        engine, job_id=job_id, round_id=round_id, shard=shard, block=block,
                        skipped=skipped, top=opts.top, state=state, after_write=after_write,
                    )  # fmt: skip
                    skipped_all.update(skipped)
                    report.shards_done_now += 1
                    report.queries_ranked += len(block.query_ids) if block else 0
                    if direction == "p2e":
                        report.pushes += len(out.rows)
                        report.skipped_cap += out.capped
                        report.skipped_no_evidence += out.no_evidence
                        report.skipped_weak += out.weak
                    else:
                        report.recommendations += len(out.rows)
                    report.skipped_already_pushed += out.already
                    done_queries += len(shard.query_ids)
                    if progress:
                        progress(direction, done_queries, n_queries)
    finally:
        executor.close()
    report.skipped = dict(skipped_all)
    report.memory = watch.report(opts.memory_budget_gb)
    report.status = _finish(engine, job_id, round_id)
    with engine.connect() as conn:
        report.job_counts = conn.execute(
            select(BulkJob.counts).where(BulkJob.id == job_id)
        ).scalar_one()
    report.wall_s = round(time.perf_counter() - started, 2)
    return report


def _ranked(
    engine: Engine,
    executor: Executor,
    shards: list[_Shard],
    *,
    index_root: str,
    index_name: str,
    version: str,
    query_index: str,
    query_version: str,
    top: int,
    weak_limit: bool,
    fail: set[str],
) -> Iterator[tuple[_Shard, RankedBlock | None, Counter[str], str | None]]:
    """Shards ranked by the executor, yielded in shard order: (shard, block, skipped, error).

    A window of 2 × workers shards is in flight, so this process reads the next queries while
    the workers rank; a shard whose every query was skipped is not sent at all.
    """
    window = max(2, 2 * executor.workers)
    queue: deque[tuple[_Shard, ShardTask | None, Any, Counter[str], int]] = deque()
    todo = iter(shards)

    def submit_next() -> bool:
        shard = next(todo, None)
        if shard is None:
            return False
        with Session(engine) as session:
            records, skipped = _queries(session, shard.direction, shard.query_ids)
        task = None
        handle = None
        if records:
            task = ShardTask(
                direction=shard.direction, shard_no=shard.shard_no, records=tuple(records),
                index_root=index_root, index_name=index_name, index_version=version, top=top,
                query_index=query_index, query_version=query_version,
                weak_limit=weak_limit,
                fail=f"{shard.direction}:{shard.shard_no}" in fail,
            )  # fmt: skip
            handle = executor.submit(task)
        queue.append((shard, task, handle, skipped, 1))
        return True

    while len(queue) < window and submit_next():
        pass
    while queue:
        shard, task, handle, skipped, attempt = queue.popleft()
        if task is None:
            yield shard, None, skipped, None
        else:
            try:
                block = executor.result(handle)
            except Exception as exc:  # noqa: BLE001 — reported with the shard's ids
                if not executor.retries_itself and attempt < ATTEMPTS:
                    queue.appendleft((shard, task, executor.submit(task), skipped, attempt + 1))
                    continue
                yield shard, None, skipped, f"{type(exc).__name__}: {exc}"[:500]
            else:
                yield shard, block, skipped, None
        while len(queue) < window and submit_next():
            pass


def _finish(engine: Engine, job_id: int, round_id: int) -> str:
    """Mark the job finished when no shard is left (totals, round end, audit); else running."""
    from shuanglian.audit import record_audit, snapshot

    with Session(engine) as session, session.begin():
        left = session.scalar(
            select(func.count())
            .select_from(BulkShard)
            .where(BulkShard.job_id == job_id, BulkShard.finished_at.is_(None))
        )
        job = session.get(BulkJob, job_id)
        assert job is not None
        counts: Counter[str] = Counter()
        for direction, rows, skipped in session.execute(
            select(BulkShard.direction, BulkShard.rows, BulkShard.skipped).where(
                BulkShard.job_id == job_id, BulkShard.finished_at.is_not(None)
            )
        ):
            counts[f"{direction}_rows"] += rows
            counts[f"{direction}_shards_done"] += 1
            for reason, n in (skipped or {}).items():
                counts[f"skipped_{reason}"] += int(n)
        job.counts = dict(counts)
        if left == 0 and job.status == "running":
            job.status = "finished"
            job.finished_at = utcnow()
            rnd = session.get(PushRound, round_id)
            if rnd is not None:
                rnd.finished_at = job.finished_at
                record_audit(
                    session,
                    actor=None,
                    action="push.bulk",
                    subject=rnd,
                    detail={"before": None, "after": snapshot(rnd), "bulk_job": job_id},
                )
        return job.status


# --------------------------------------------------------------------------- on demand
def render_explanation(
    session: Session, *, settings: Settings, direction: str, query_id: int, doc_id: int
) -> ExplanationOut:
    """The full explanation of one stored bulk result (shared terms, IPC, industry links),
    computed now from the current index: what `match_patent` / `match_enterprise` show (their
    reasons, 「…曾对同类专利表示有意向」 included)."""
    from shuanglian.engine.records import Hit
    from shuanglian.matching import service

    model: Any
    cols: Any
    if direction == "p2e":
        index, model, cols, to_record = (
            service.ENTERPRISE_INDEX, Patent, service._PATENT_COLS, service._patent_record
        )  # fmt: skip
    elif direction == "e2p":
        index, model, cols, to_record = (
            service.PATENT_INDEX, Enterprise, service._ENTERPRISE_COLS, service._enterprise_record
        )  # fmt: skip
    else:
        raise DomainError("方向应为 p2e 或 e2p (direction must be p2e or e2p)", field="direction")
    row = session.execute(select(*cols).where(model.id == query_id)).first()
    if row is None:
        raise DomainError(f"记录不存在 (record not found): {query_id}", field="query_id")
    matcher = service._matcher(settings, index)
    query = to_record(row)
    hits = [h for h in matcher.search_many([query], top=MAX_TOP)[0] if h.doc_id == str(doc_id)]
    if not hits:  # ranked lower now (or gone): explain the pair anyway
        hits = [Hit(doc_id=str(doc_id), score=0.0)]
    matcher.explain(query, hits)
    # Through the same page step as match_patent / match_enterprise: the shared words are read
    # from both texts (a word reached by translation, 3D ↔ 三维, cannot be shown from one),
    # and 「同一地区」 from both regions.
    if direction == "p2e":  # the query is the patent: its codes are at hand
        interested = service._interested(
            session, codes={query_id: query.ipc}, enterprise_ids=[doc_id]
        )
    else:
        interested = service._interested(session, patent_ids=[doc_id], enterprise_ids=[query_id])
    matches = service._to_matches(
        session,
        hits,
        kind="enterprise" if direction == "p2e" else "patent",
        query_text=service._record_text(query),
        query_region=service._regions(session, model, [query_id]).get(query_id),
        interested={doc_id} if interested else set(),
    )
    if not matches:  # the document was deleted since: explain it from the index alone
        return service._explanation_out(hits[0].explanation)
    return matches[0].explanation


def default_workers() -> int:
    """Worker processes by default: every core of this machine."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def explain_compact_pushes(
    session: Session, *, settings: Settings, pushes: Sequence[Any]
) -> dict[int, dict[str, Any]]:
    """Push id → the full explanation (reasons in plain words, shared words) of the bulk
    pushes among `pushes` that were stored compact, computed now from the index for showing.

    A bulk job stores each push's signal parts and its calibrated match, not its reasons (19M
    explanations would cost the national job an hour). A page showing an enterprise's pushes
    explains only those, each pair directly (no search), grouped by patent; the stored match
    and level stay the ones shown. Empty when the index is not built."""
    from shuanglian.engine.records import Hit
    from shuanglian.matching import service

    compact = [p for p in pushes if (p.explanation or {}).get("compact")]
    if not compact:
        return {}
    try:
        matcher = service._matcher(settings, service.ENTERPRISE_INDEX)
    except service.IndexNotReady:
        return {}
    by_patent: dict[int, list[Any]] = {}
    for push in compact:
        by_patent.setdefault(int(push.patent_id), []).append(push)
    rows = session.execute(
        select(*service._PATENT_COLS).where(Patent.id.in_(list(by_patent)))
    ).all()
    queries = [service._patent_record(row) for row in rows]
    regions = service._regions(session, Patent, list(by_patent))
    # Shown interest for every (patent, enterprise) pair at once, not one read per patent.
    interested = service._interested(
        session,
        codes={int(q.id): q.ipc for q in queries},
        enterprise_ids=sorted({int(p.enterprise_id) for p in compact}),
    )
    out: dict[int, dict[str, Any]] = {}
    for query in queries:
        pid = int(query.id)
        known = [p for p in by_patent[pid] if str(p.enterprise_id) in matcher]
        if not known:
            continue
        hits = [Hit(doc_id=str(p.enterprise_id), score=float(p.score)) for p in known]
        matcher.explain(query, hits)
        matches = service._to_matches(
            session, hits, kind="enterprise", query_text=service._record_text(query),
            query_region=regions.get(pid), interested={e for p, e in interested if p == pid},
        )  # fmt: skip
        by_enterprise = {int(m.id): m for m in matches}
        for push in known:
            m = by_enterprise.get(int(push.enterprise_id))
            if m is not None and m.explanation is not None:
                stored = push.explanation or {}
                full = {"method": "engine", **m.explanation.model_dump(mode="json")}
                # The level the job stored is the one every list shows.
                for key in ("match", "level", "level_label", "level_label_en", "weak"):
                    if key in stored:
                        full[key] = stored[key]
                out[int(push.id)] = full
    return out
