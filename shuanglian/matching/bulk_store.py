"""Writing the bulk job's shards: the push-round rules, bulk rows, one transaction a shard.

`commit_shard` applies the rules to a ranked shard (patent → enterprise: never a pair twice,
the per-enterprise cap, `top` per patent; enterprise → patent: pooled patents not pushed to it
in an earlier round), writes the rows in bulk (`bulk_write_rows`: COPY on PostgreSQL, batched
`executemany` on SQLite) and marks the shard finished, all in ONE transaction. Anything that
goes wrong in between (database gone, disk full) rolls the whole shard back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import DBAPIError

from shuanglian.db import utcnow
from shuanglian.engine.bulk import SIGNAL_COLUMNS, RankedBlock
from shuanglian.engine.calibrate import LEVELS, level
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError
from shuanglian.inventory.models import PoolEntry, Push, PushRound
from shuanglian.inventory.push import WEAK_PUSHES
from shuanglian.matching.models import BulkShard

INSERT_BATCH = 50_000  # rows per executemany on SQLite


class BulkJobError(DomainError):
    """The job stopped (database lost, disk full, index changed); finished shards are kept."""

    code = "bulk_job_failed"
    status = 503


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
    # A national push appends ~30M rows to tables with several indexes: a page cache of
    # 256 MiB (SQLite's default is 2 MiB) keeps their B-trees' inner pages in memory.
    raw.execute("PRAGMA cache_size = -262144")
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    cur = raw.cursor()
    try:
        for start in range(0, len(rows), INSERT_BATCH):
            cur.executemany(sql, rows[start : start + INSERT_BATCH])
    finally:
        cur.close()


def _compact(
    job_id: int, score: float, parts: np.ndarray, match: float | None = None
) -> dict[str, Any]:
    """The stored explanation of a push: signal parts and shares, and, where the job read the
    pair's level (`RankedBlock.match`), the calibrated match every page shows (匹配度 中 32%,
    and the push list's order); the rest on demand."""
    signals = {name: round(float(v), 6) for name, v in zip(SIGNAL_COLUMNS, parts, strict=True)}
    shares = {k: (round(v / score, 4) if score > 0 else 0.0) for k, v in signals.items() if v}
    out = {"method": "engine", "compact": True, "bulk_job": job_id, "signals": signals,
           "shares": shares}  # fmt: skip
    if match is not None:
        lvl = level(match)
        zh, en = LEVELS[lvl]
        out |= {"match": round(match, 4), "level": lvl, "level_label": zh, "level_label_en": en,
                "weak": lvl == "low"}  # fmt: skip
    return out


def _compact_json(job_id: int, score: float, parts: list[float], match: float | None = None) -> str:
    """`json.dumps(_compact(...), separators=(",", ":"))`, character for character, written
    directly: a national push stores ~19M of them, and the generic encoder was the largest
    cost of the writing process (floats are written by `repr`, as the encoder does). The
    three signals are spelled out (no per-signal loop): this runs once per push row."""
    b, i, p = round(parts[0], 6), round(parts[1], 6), round(parts[2], 6)
    shares = []
    if b:
        shares.append(f'"bm25":{(round(b / score, 4) if score > 0 else 0.0)!r}')
    if i:
        shares.append(f'"ipc":{(round(i / score, 4) if score > 0 else 0.0)!r}')
    if p:
        shares.append(f'"prior":{(round(p / score, 4) if score > 0 else 0.0)!r}')
    head = (
        f'{{"method":"engine","compact":true,"bulk_job":{job_id},'
        f'"signals":{{"bm25":{b!r},"ipc":{i!r},"prior":{p!r}}},"shares":{{{",".join(shares)}}}'
    )
    if match is None:
        return head + "}"
    return f'{head},"match":{round(match, 4)!r},{_LEVEL_JSON[level(match)]}}}'


# The level fields of `_compact` as `json.dumps` writes them (Chinese labels escaped).
_LEVEL_JSON = {
    lvl: f'"level":"{lvl}","level_label":{json.dumps(zh)},"level_label_en":"{en}",'
    f'"weak":{"true" if lvl == "low" else "false"}'
    for lvl, (zh, en) in LEVELS.items()
}


@dataclass
class State:
    """What the parent keeps while a job runs: the cap's counts and the lookups."""

    load: Counter[int]
    cap: int
    pooled: np.ndarray  # sorted active pooled patent ids (e2p documents)
    enterprises: np.ndarray  # sorted enterprise ids (p2e documents still in the database)


def load_state(conn: Connection, round_id: int, cap: int) -> State:
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
    return State(load=load, cap=cap, pooled=np.unique(pooled), enterprises=np.unique(ents))


def _member(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(sorted_ids) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return sorted_ids[at] == values  # type: ignore[no-any-return]


def _block_keys(block: RankedBlock) -> np.ndarray:
    """Every hit's doc id as int64, in block order."""
    if block.doc_keys is not None:
        return block.doc_keys
    return np.asarray([int(d) for d in block.doc_ids], dtype=np.int64)


@dataclass
class _ShardOut:
    rows: list[tuple]
    already: int = 0
    capped: int = 0
    no_evidence: int = 0
    weak: int = 0


def _select_p2e(
    conn: Connection, job_id: int, round_id: int, block: RankedBlock, top: int, state: State
) -> _ShardOut:
    """The push-round rules over one shard's candidates, in shard order: skip pairs pushed in
    any round, pairs with nothing a person could check (`RankedBlock.evidence`) and weak pairs
    past a patent's first `WEAK_PUSHES` (`RankedBlock.weak`), skip enterprises at the cap,
    keep `top` per patent."""
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
    # Whole-shard arrays as Python lists once (per-element numpy access costs more); the
    # scores and signal parts only of the hits kept (a third of them), after the rules.
    keys = _block_keys(block)
    live_all = _member(state.enterprises, keys).tolist()
    keys_all = keys.tolist()
    bounds = block.offsets.tolist()
    load, cap = state.load, state.cap
    evidence = block.evidence.tolist() if block.evidence is not None else None
    weak = block.weak.tolist() if block.weak is not None else None
    kept: list[int] = []
    ranks: list[int] = []
    owners: list[int] = []
    for i, pid in enumerate(patents):
        rank = 0
        n_weak = 0
        for k in range(bounds[i], bounds[i + 1]):
            if not live_all[k]:
                continue
            eid = keys_all[k]
            if pushed and (pid, eid) in pushed:
                out.already += 1
                continue
            if evidence is not None and not evidence[k]:
                out.no_evidence += 1
                continue
            is_weak = weak is not None and weak[k]
            if is_weak and n_weak >= WEAK_PUSHES:
                out.weak += 1
                continue
            if load[eid] >= cap:
                out.capped += 1
                continue
            n_weak += is_weak
            rank += 1
            load[eid] += 1
            kept.append(k)
            ranks.append(rank)
            owners.append(pid)
            if rank >= top:
                break
    at = np.asarray(kept, dtype=np.int64)
    scores = [round(v, 6) for v in block.scores[at].tolist()]
    parts = block.signals[at].astype(np.float64).tolist()
    matches: list[float | None] = [None] * len(kept)
    if block.match is not None:  # every kept pair has evidence, so a level
        matches = [None if v != v else v for v in block.match[at].tolist()]  # NaN: none
    out.rows = [
        (round_id, pid, eid, rank, score, _compact_json(job_id, score, part, match), stamp)
        for pid, eid, rank, score, part, match in zip(
            owners, keys[at].tolist(), ranks, scores, parts, matches, strict=True
        )
    ]
    return out


def _select_e2p(
    conn: Connection, job_id: int, round_id: int, block: RankedBlock, top: int, state: State
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
    keys = _block_keys(block)
    offsets = block.offsets
    query_of = np.repeat(np.arange(len(ents), dtype=np.int64), np.diff(offsets))
    keep = _member(state.pooled, keys)
    if earlier:
        owners = np.asarray(ents, dtype=np.int64)[query_of]
        hit = [(e, p) in earlier for e, p in zip(owners.tolist(), keys.tolist(), strict=True)]
        gone = keep & np.asarray(hit, dtype=bool)
        keep &= ~gone
    else:
        gone = np.zeros(len(keys), dtype=bool)
    # Rank among the kept hits of the same query: kept so far in the query, this one included.
    seen = np.cumsum(keep)
    before = np.concatenate([[0], seen])[offsets[:-1]][query_of]
    rank = seen - before
    chosen = keep & (rank <= top)
    # A pair pushed earlier is counted while its query still had room (as a loop would).
    out.already = int(np.count_nonzero(gone & (rank < top)))
    at = np.flatnonzero(chosen)
    parts = block.signals[at].astype(np.float64)
    cols = [
        [round(v, 6) for v in column.tolist()]
        for column in (block.scores[at], parts[:, 0], parts[:, 1], parts[:, 2])
    ]
    eids = np.asarray(ents, dtype=np.int64)[query_of[at]].tolist()
    out.rows = list(
        zip(
            repeat(job_id),
            repeat("e2p"),
            eids,
            rank[at].tolist(),
            keys[at].tolist(),
            *cols,
        )
    )
    return out


_PUSH_COLUMNS = ("round_id", "patent_id", "enterprise_id", "rank", "score", "explanation",
                 "created_at")  # fmt: skip
_MATCH_COLUMNS = ("job_id", "direction", "query_id", "rank", "doc_id", "score", "bm25", "ipc",
                  "prior")  # fmt: skip


def commit_shard(
    engine: Engine,
    *,
    job_id: int,
    round_id: int,
    shard: Any,
    block: RankedBlock | None,
    skipped: Counter[str],
    top: int,
    state: State,
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
                        skipped_no_evidence=PushRound.skipped_no_evidence + out.no_evidence,
                        skipped_weak=PushRound.skipped_weak + out.weak,
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
