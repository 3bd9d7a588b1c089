"""Where the bulk job's shards are ranked: in this process, in worker processes, or on Ray.

All three run the same pure function, `rank_shard`, which opens the memory-mapped index once
per process (`engine.bulk.worker_matcher`) and returns flat arrays (`engine.bulk.RankedBlock`).
The job (`matching.bulk`) submits shards through a small window and takes the results back in
shard order, so what it writes never depends on which worker finished first.

Processes, not threads: ranking is numpy/scipy work interleaved with Python (a call per
query term, the selection of hits), which holds the GIL; two processes use both cores of a
small server. Each task also names the queries' own index (`query_index`): their terms are
read from it rather than tokenised again.
On Ray, every worker memory-maps the index files from a path all nodes see (the job passes
`settings.index_dir`); a task that raises is retried by Ray (`max_retries`), and one that
still fails reaches the job as an exception, which reports the shard and goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from shuanglian.engine.bulk import RankedBlock, rank_block, worker_matcher, worker_source
from shuanglian.engine.bulk_evidence import block_evidence
from shuanglian.engine.bulk_levels import block_match, weak_of
from shuanglian.engine.records import Record

ATTEMPTS = 3  # a shard is tried this many times before it is reported as failed


class ShardFailed(RuntimeError):
    """A shard could not be ranked after `ATTEMPTS` tries (the message says why)."""


@dataclass(frozen=True)
class ShardTask:
    """One shard's queries and where its index is (everything a remote worker needs)."""

    direction: str
    shard_no: int
    records: tuple[Record, ...]
    index_root: str
    index_name: str
    index_version: str
    top: int
    # The index the queries' records belong to (the other side's): their terms are read from
    # it instead of tokenising them again ("" : tokenise).
    query_index: str = ""
    query_version: str = ""
    # Patent → enterprise: mark the weak (低) hits, which the job skips past a few per patent
    # (every p2e hit's match level is read anyway: its push stores it).
    weak_limit: bool = False
    # Fault drill: the task raises instead of ranking (tests and failover rehearsals use it
    # to see a failing shard reported while the others finish).
    fail: bool = False


def rank_shard(task: ShardTask) -> RankedBlock:
    """Rank one shard's queries against its index (runs in whichever process gets it)."""
    from pathlib import Path

    from shuanglian.matching.service import industry_link

    if task.fail:
        raise RuntimeError(f"分片 {task.direction}:{task.shard_no} 故障演练 (fault drill)")
    matcher = worker_matcher(
        Path(task.index_root),
        name=task.index_name,
        version=task.index_version,
        link=industry_link(),
    )
    source = None
    if task.query_index:
        source = worker_source(
            Path(task.index_root), name=task.query_index, version=task.query_version
        )
    block = rank_block(matcher, task.records, top=task.top, source=source)
    if task.direction == "p2e":  # pushes skip pairs with nothing to check, as rounds do,
        block.evidence = block_evidence(matcher, task.records, block)
        block.match = block_match(matcher, task.records, block)  # and store their level
        if task.weak_limit:  # and keep only a few weak ones
            block.weak = weak_of(block.match)
    return block


class Executor(Protocol):
    """Runs `rank_shard` somewhere; `result` raises when the shard failed."""

    name: str
    workers: int
    retries_itself: bool

    def submit(self, task: ShardTask) -> Any: ...

    def result(self, handle: Any) -> RankedBlock: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Ranks in this process (one worker; tests and small runs)."""

    name = "inline"
    workers = 1
    retries_itself = False

    def submit(self, task: ShardTask) -> Callable[[], RankedBlock]:
        return lambda: rank_shard(task)

    def result(self, handle: Callable[[], RankedBlock]) -> RankedBlock:
        return handle()

    def close(self) -> None:
        return None


class ProcessExecutor:
    """A pool of worker processes on this machine, each with the index memory-mapped.

    `concurrent.futures` rather than `multiprocessing.Pool`: when a worker dies (killed, out
    of memory) the pool reports it instead of waiting forever; the pool is then rebuilt.
    """

    name = "process"
    retries_itself = False

    def __init__(self, workers: int, *, start_method: str = "spawn") -> None:
        self.workers = workers
        self._context = mp.get_context(start_method)
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)

    def submit(self, task: ShardTask) -> cf.Future[RankedBlock]:
        try:
            return self._pool.submit(rank_shard, task)
        except cf.process.BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(rank_shard, task)

    def result(self, handle: cf.Future[RankedBlock]) -> RankedBlock:
        return handle.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Shards as Ray tasks; Ray retries a failed task (`ATTEMPTS` tries in all).

    `address` is passed to `ray.init`: "auto" joins the cluster this machine belongs to,
    "HOST:PORT" a given head node, "local" starts a private local cluster of `workers` CPUs.
    """

    name = "ray"
    retries_itself = True

    def __init__(self, address: str, *, workers: int) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ImportError(
                "未安装 Ray：pip install 'shuanglian[ray]' (Ray is not installed)"
            ) from exc
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            if address == "local":
                ray.init(
                    num_cpus=workers,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    object_store_memory=256 * 1024 * 1024,
                )
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        self.workers = int(ray.cluster_resources().get("CPU", workers))
        self._remote = ray.remote(max_retries=ATTEMPTS - 1, retry_exceptions=True)(rank_shard)

    def submit(self, task: ShardTask) -> Any:
        return self._remote.remote(task)

    def result(self, handle: Any) -> RankedBlock:
        return self._ray.get(handle)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def make_executor(*, workers: int, ray_address: str | None) -> Executor:
    """Ray when an address is given, else worker processes (or this process for `workers` ≤ 1)."""
    if ray_address:
        return RayExecutor(ray_address, workers=max(workers, 1))
    if workers <= 1:
        return InlineExecutor()
    return ProcessExecutor(workers)
