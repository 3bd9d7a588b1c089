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

import json
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.db import utcnow
from shuanglian.engine.bulk import SIGNAL_COLUMNS, RankedBlock
from shuanglian.engine.ipc import parse_ipc
from shuanglian.engine.records import Record
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError
from shuanglian.inventory.models import PoolEntry, Push, PushRound
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
INSERT_BATCH = 50_000  # rows per executemany on SQLite
MAX_TOP = 200


class BulkJobError(DomainError):
    """The job stopped (database lost, disk full, index changed); finished shards are kept."""

    code = "bulk_job_failed"
    status = 503


@dataclass(frozen=True)
class BulkOptions:
    """What a bulk job does and where it runs (stored with the job, except where it runs)."""

    top: int = 20
    per_enterprise_cap: int = 100
    overfetch: int = 3
    directions: str = "both"  # "both", "p2e" or "e2p"
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
        workers=given.workers,
        ray_address=given.ray_address,
        memory_budget_gb=given.memory_budget_gb,
        fail_shards=given.fail_shards,
    )


# --------------------------------------------------------------------------- memory
def _rollup_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB from /proc (PSS splits shared mmap pages among their
    users, so summed over processes it is the memory the machine really needs)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _descendants(pid: int) -> list[int]:
    """This process's children, grandchildren... (workers, Ray's raylet and workers)."""
    out: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            out.extend(kids)
            stack.extend(kids)
    return out


class MemoryWatch:
    """Samples this process and all its descendants (workers, Ray's processes) every
    `interval` seconds: peak summed RSS (counts each shared page once per process) and peak
    summed PSS (shares split: the real total the machine needs)."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        rss = pss = 0
        me = os.getpid()
        for pid in [me, *_descendants(me)]:
            r, p = _rollup_kib(pid)
            rss += r * 1024
            pss += p * 1024
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> MemoryWatch:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def report(self, budget_gb: float) -> dict[str, float]:
        mib = 1024 * 1024
        return {
            "peak_rss_mib": round(self.peak_rss / mib, 1),
            "peak_pss_mib": round(self.peak_pss / mib, 1),
            "budget_mib": round(budget_gb * 1024, 1),
            "within_budget": float(self.peak_pss <= budget_gb * 1024 * mib),
        }


# --------------------------------------------------------------------------- writing
def _sqlite_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy stores DateTime in SQLite (UTC, no offset)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_write_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Append rows in bulk: COPY on PostgreSQL, batched executemany on SQLite."""
    if not rows:
        return
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    cur = raw.cursor()
    try:
        for start in range(0, len(rows), INSERT_BATCH):
            cur.executemany(sql, rows[start : start + INSERT_BATCH])
    finally:
        cur.close()


def _compact(job_id: int, score: float, parts: np.ndarray) -> dict[str, Any]:
    """The stored explanation of a push: signal parts and shares; the rest on demand."""
    signals = {name: round(float(v), 6) for name, v in zip(SIGNAL_COLUMNS, parts, strict=True)}
    shares = {k: (round(v / score, 4) if score > 0 else 0.0) for k, v in signals.items() if v}
    return {"method": "engine", "compact": True, "bulk_job": job_id, "signals": signals,
            "shares": shares}  # fmt: skip


@dataclass
class _State:
    """What the parent keeps while a job runs: the cap's counts and the lookups."""

    load: Counter[int]
    cap: int
    pooled: np.ndarray  # sorted active pooled patent ids (e2p documents)
    enterprises: np.ndarray  # sorted enterprise ids (p2e documents still in the database)


def _state(conn: Connection, round_id: int, cap: int) -> _State:
    load = Counter(
        {
            int(e): int(n)
            for e, n in conn.execute(
                select(Push.enterprise_id, func.count())
                .where(Push.round_id == round_id)
                .group_by(Push.enterprise_id)
            )
        }
    )
    pooled = np.fromiter(
        conn.execute(select(PoolEntry.patent_id).where(PoolEntry.active.is_(True))).scalars(),
        dtype=np.int64,
    )
    ents = np.fromiter(conn.execute(select(Enterprise.id)).scalars(), dtype=np.int64)
    return _State(load=load, cap=cap, pooled=np.unique(pooled), enterprises=np.unique(ents))


def _member(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(sorted_ids) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return sorted_ids[at] == values  # type: ignore[no-any-return]


@dataclass
class _ShardOut:
    rows: list[tuple]
    already: int = 0
    capped: int = 0


def _select_p2e(
    conn: Connection, job_id: int, round_id: int, block: RankedBlock, top: int, state: _State
) -> _ShardOut:
    """The push-round rules over one shard's candidates, in shard order: skip pairs pushed in
    any round, skip enterprises at the cap, keep `top` per patent."""
    patents = [int(q) for q in block.query_ids]
    pushed: set[tuple[int, int]] = set()
    for start in range(0, len(patents), 5000):
        part = patents[start : start + 5000]
        pushed.update(
            (int(p), int(e))
            for p, e in conn.execute(
                select(Push.patent_id, Push.enterprise_id).where(Push.patent_id.in_(part))
            )
        )
    now = utcnow()
    stamp: Any = _sqlite_time(now) if conn.dialect.name == "sqlite" else now
    out = _ShardOut(rows=[])
    for i, pid in enumerate(patents):
        ids, scores, parts = block.hits_of(i)
        docs = np.asarray([int(d) for d in ids], dtype=np.int64)
        live = _member(state.enterprises, docs)
        rank = 0
        for k in np.flatnonzero(live).tolist():
            eid = int(docs[k])
            if (pid, eid) in pushed:
                out.already += 1
                continue
            if state.load[eid] >= state.cap:
                out.capped += 1
                continue
            rank += 1
            state.load[eid] += 1
            score = round(float(scores[k]), 6)
            expl = json.dumps(_compact(job_id, score, parts[k]), separators=(",", ":"))
            out.rows.append((round_id, pid, eid, rank, score, expl, stamp))
            if rank >= top:
                break
    return out


def _select_e2p(
    conn: Connection, job_id: int, round_id: int, block: RankedBlock, top: int, state: _State
) -> _ShardOut:
    """Each enterprise's top pooled patents, leaving out those pushed to it in an earlier
    round (this job's own pushes are the same pairs seen from the other side)."""
    ents = [int(q) for q in block.query_ids]
    earlier: set[tuple[int, int]] = set()
    for start in range(0, len(ents), 5000):
        part = ents[start : start + 5000]
        earlier.update(
            (int(e), int(p))
            for e, p in conn.execute(
                select(Push.enterprise_id, Push.patent_id).where(
                    Push.enterprise_id.in_(part), Push.round_id < round_id
                )
            )
        )
    out = _ShardOut(rows=[])
    for i, eid in enumerate(ents):
        ids, scores, parts = block.hits_of(i)
        docs = np.asarray([int(d) for d in ids], dtype=np.int64)
        keep = np.flatnonzero(_member(state.pooled, docs)).tolist()
        rank = 0
        for k in keep:
            pid = int(docs[k])
            if (eid, pid) in earlier:
                out.already += 1
                continue
            rank += 1
            p = parts[k]
            out.rows.append(
                (job_id, "e2p", eid, rank, pid, round(float(scores[k]), 6),
                 round(float(p[0]), 6), round(float(p[1]), 6), round(float(p[2]), 6))
            )  # fmt: skip
            if rank >= top:
                break
    return out


_PUSH_COLUMNS = ("round_id", "patent_id", "enterprise_id", "rank", "score", "explanation",
                 "created_at")  # fmt: skip
_MATCH_COLUMNS = ("job_id", "direction", "query_id", "rank", "doc_id", "score", "bm25", "ipc",
                  "prior")  # fmt: skip


def _commit_shard(
    engine: Engine,
    *,
    job_id: int,
    round_id: int,
    shard: Any,
    block: RankedBlock | None,
    skipped: Counter[str],
    top: int,
    state: _State,
    after_write: Callable[[Connection, str, int], None] | None,
) -> tuple[_ShardOut, Counter[int]]:
    """Write one shard's results and mark it finished, in one transaction.

    On any database error the transaction is rolled back (nothing of the shard is kept), the
    cap's counts are restored, and BulkJobError says which shard and how to resume.
    """
    load_before = Counter(state.load)
    try:
        with engine.begin() as conn:
            if block is None:
                out = _ShardOut(rows=[])
            elif shard.direction == "p2e":
                out = _select_p2e(conn, job_id, round_id, block, top, state)
                bulk_write_rows(conn, "inventory_pushes", _PUSH_COLUMNS, out.rows)
                conn.execute(
                    update(PushRound)
                    .where(PushRound.id == round_id)
                    .values(
                        patents_considered=PushRound.patents_considered + len(shard.query_ids),
                        pushes_made=PushRound.pushes_made + len(out.rows),
                        skipped_already_pushed=PushRound.skipped_already_pushed + out.already,
                        skipped_cap=PushRound.skipped_cap + out.capped,
                        updated_at=utcnow(),
                    )
                )
            else:
                out = _select_e2p(conn, job_id, round_id, block, top, state)
                bulk_write_rows(conn, "match_bulk_matches", _MATCH_COLUMNS, out.rows)
            if block is not None and block.failed:
                skipped["engine_error"] += len(block.failed)
            if after_write is not None:
                after_write(conn, shard.direction, shard.shard_no)
            conn.execute(
                update(BulkShard)
                .where(BulkShard.id == shard.id)
                .values(finished_at=utcnow(), rows=len(out.rows), skipped=dict(skipped))
            )
    except (DBAPIError, OSError) as exc:
        state.load = load_before
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise BulkJobError(
            f"数据库写入失败，分片 {shard.direction}:{shard.shard_no} 未写入任何结果；"
            f"已完成的分片保留，重新运行同一命令即从此处继续 "
            f"(database write failed in shard {shard.direction}:{shard.shard_no}, nothing of it "
            f"was kept; rerun the same command to resume): {detail}"
        ) from exc
    return out, Counter(state.load) - load_before


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
        state = _state(conn, round_id, opts.per_enterprise_cap)
    fail = set(opts.fail_shards)
    executor: Executor = make_executor(workers=opts.workers, ray_address=opts.ray_address)
    report = BulkReport(
        job_id=job_id, round_id=round_id, resumed=resumed, status="running",
        executor=executor.name, workers=executor.workers, shards_total=0, shards_done_before=0,
        shards_done_now=0, queries_ranked=0, pushes=0, recommendations=0, skipped={},
        skipped_already_pushed=0, skipped_cap=0, failed_shards=[], wall_s=0.0, memory={},
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
                    top=opts.top * opts.overfetch,
                    fail=fail,
                ):
                    if error is not None:
                        report.failed_shards.append(
                            FailedShard(direction, shard.shard_no, shard.query_ids[0],
                                        shard.query_ids[-1], shard.query_ids, error)
                        )  # fmt: skip
                        continue
                    out, _ = _commit_shard(
                        engine, job_id=job_id, round_id=round_id, shard=shard, block=block,
                        skipped=skipped, top=opts.top, state=state, after_write=after_write,
                    )  # fmt: skip
                    skipped_all.update(skipped)
                    report.shards_done_now += 1
                    report.queries_ranked += len(block.query_ids) if block else 0
                    if direction == "p2e":
                        report.pushes += len(out.rows)
                        report.skipped_cap += out.capped
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
    top: int,
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
    computed now from the current index: what `match_patent` / `match_enterprise` show."""
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
    return service._explanation_out(hits[0].explanation)


def default_workers() -> int:
    """Worker processes by default: every core of this machine."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
