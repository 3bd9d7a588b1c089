"""The bulk push job on real records, SQLite and PostgreSQL: rules, resume, faults, workers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text, update

from shuanglian.config import Settings
from shuanglian.db import make_engine
from shuanglian.engine.calibrate import level
from shuanglian.engine.index import load_index
from shuanglian.engine.records import Hit
from shuanglian.inventory.models import Push, PushRound
from shuanglian.matching.bulk import BulkJobError, BulkOptions, render_explanation, run_bulk_job
from shuanglian.matching.models import BulkJob, BulkMatch, BulkShard
from shuanglian.matching.service import (
    ENTERPRISE_INDEX,
    PATENT_INDEX,
    industry_link,
    patent_records,
)
from shuanglian.patents.models import Patent
from shuanglian.text.tokenize import is_specific
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.matching.bulk_world import build_world

N_PATENTS = 120
N_ENTERPRISES = 300


def _settings(backend: str, home: Path) -> tuple[Settings, str | None]:
    if backend == "postgresql":
        name, url = _create_pg_database()
        return Settings(home=home, database_url=url), name
    return Settings(home=home, database_url=None), None


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    """A fresh database of each backend with the small real world and its indexes."""
    settings, pg_name = _settings(request.param, tmp_path / "home")
    build_world(settings, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    engine = make_engine(settings)
    yield settings, engine
    engine.dispose()
    if pg_name:
        _drop_pg_database(pg_name)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    settings = Settings(home=tmp_path / "home", database_url=None)
    build_world(settings, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    engine = make_engine(settings)
    yield settings, engine
    engine.dispose()


def results(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored push and recommendation, in a canonical order (ids of rows excluded)."""
    with engine.connect() as conn:
        pushes = [
            (r.patent_id, r.enterprise_id, r.rank, r.score, json.dumps(r.explanation["signals"]))
            for r in conn.execute(select(Push).order_by(Push.patent_id, Push.rank))
        ]
        recs = [
            tuple(r)
            for r in conn.execute(
                select(BulkMatch.query_id, BulkMatch.rank, BulkMatch.doc_id, BulkMatch.score,
                       BulkMatch.bm25, BulkMatch.ipc, BulkMatch.prior)
                .order_by(BulkMatch.query_id, BulkMatch.rank)
            )
        ]  # fmt: skip
    return pushes, recs


def _checkable(hit: Hit) -> bool:
    """The push rule written out over an explained hit (engine.reasons): a specific shared
    word (across languages, specific on both sides), a shared patent class or an industry
    link."""
    exp = hit.explanation
    assert exp is not None
    words = any(is_specific(t.term) and all(is_specific(s) for s in t.source) for t in exp.terms)
    return words or bool(exp.ipc_shared) or bool(exp.industry_links)


def _pushable(hits: list[Hit], top: int) -> list[Hit]:
    """A patent's first `top` hits a push round would push, with no cap in the way: those with
    something to check, weak (低) ones only while fewer than WEAK_PUSHES are taken."""
    from shuanglian.engine.calibrate import MEDIUM
    from shuanglian.inventory.push import WEAK_PUSHES

    out: list[Hit] = []
    weak = 0
    for hit in hits:
        assert hit.explanation is not None
        is_weak = hit.explanation.match < MEDIUM
        if _checkable(hit) and not (is_weak and weak >= WEAK_PUSHES):
            out.append(hit)
            weak += is_weak
    return out[:top]


def _opts(**kw: Any) -> BulkOptions:
    base: dict[str, Any] = {"top": 5, "per_enterprise_cap": 1000, "shard_size": 40, "workers": 1}
    return BulkOptions(**{**base, **kw})


def test_both_directions_equal_the_engine_ranking(world):
    settings, engine = world
    report = run_bulk_job(engine, settings=settings, options=_opts(weak_limit=True))
    assert report.status == "finished" and not report.failed_shards
    assert report.queries_ranked == N_PATENTS + N_ENTERPRISES
    pushes, recs = results(engine)
    assert report.pushes == len(pushes) > 0 and report.recommendations == len(recs) > 0
    # Patent → enterprise: with no cap in the way, the pushes are the first 5 of the engine's
    # top 15 (top × overfetch) that have something to check, at most WEAK_PUSHES of them weak,
    # as a push round takes them.
    ents = load_index(settings.index_dir, name=ENTERPRISE_INDEX, link=industry_link())
    with engine.connect() as conn:
        from sqlalchemy.orm import Session

        queries = list(patent_records(Session(bind=conn), ids=[1, 2, 3]))
    for query, hits in zip(queries, ents.search_many(queries, top=15, explain=True), strict=True):
        stored = [(e, round(s, 6)) for p, e, _, s, _ in pushes if p == int(query.id)]
        assert stored == [(int(h.doc_id), round(h.score, 6)) for h in _pushable(hits, 5)]
        # Each push stores the calibrated match its explanation shows, and its level, so the
        # push list reads 匹配度 中 32% as a push round's does.
        with engine.connect() as conn:
            explained = dict(
                conn.execute(
                    select(Push.enterprise_id, Push.explanation).where(
                        Push.patent_id == int(query.id)
                    )
                ).all()
            )
        for h in _pushable(hits, 5):
            ex = explained[int(h.doc_id)]
            assert ex["match"] == pytest.approx(h.explanation.match, abs=1e-4)
            assert ex["weak"] == (level(h.explanation.match) == "low") == (ex["level"] == "low")
    # Enterprise → patent: every patent is pooled, so the lists are the engine's top 5.
    pats = load_index(settings.index_dir, name=PATENT_INDEX, link=industry_link())
    from shuanglian.matching.service import enterprise_records

    with engine.connect() as conn:
        from sqlalchemy.orm import Session

        equeries = list(enterprise_records(Session(bind=conn), ids=[1, 2, 3]))
    for query, hits in zip(equeries, pats.search_many(equeries, top=15), strict=True):
        stored = [(d, s) for q, _, d, s, *_ in recs if q == int(query.id)]
        assert stored == [(int(h.doc_id), round(h.score, 6)) for h in hits][:5]
    with engine.connect() as conn:
        job = conn.execute(select(BulkJob)).one()
        assert job.status == "finished" and job.counts["p2e_rows"] == len(pushes)
        assert job.weak_limit
        rnd = conn.execute(select(PushRound).where(PushRound.id == job.round_id)).one()
        assert rnd.pushes_made == len(pushes) and rnd.patents_considered == N_PATENTS
        assert rnd.skipped_no_evidence == report.skipped_no_evidence > 0
        assert rnd.skipped_weak == report.skipped_weak > 0
        assert rnd.finished_at is not None
    # A rerun of a finished job starts a new one, which never pushes the same pair again.
    again = run_bulk_job(engine, settings=settings, options=_opts(directions="p2e"))
    assert again.job_id != report.job_id and again.skipped_already_pushed > 0
    with engine.connect() as conn:
        pairs = conn.execute(select(Push.patent_id, Push.enterprise_id)).all()
    assert len(pairs) == len(set(pairs))


def test_cap_and_explanation_on_demand(sqlite_world):
    settings, engine = sqlite_world
    report = run_bulk_job(
        engine, settings=settings, options=_opts(per_enterprise_cap=2, directions="p2e")
    )
    assert report.skipped_cap > 0
    with engine.connect() as conn:
        loads = conn.execute(
            select(Push.enterprise_id, func.count()).group_by(Push.enterprise_id)
        ).all()
        first = conn.execute(select(Push).order_by(Push.id)).first()
    assert max(n for _, n in loads) == 2
    assert first.explanation["compact"] and set(first.explanation["signals"]) == {
        "bm25", "ipc", "prior"
    }  # fmt: skip
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        full = render_explanation(
            session, settings=settings, direction="p2e",
            query_id=first.patent_id, doc_id=first.enterprise_id,
        )  # fmt: skip
    assert full.summary and (full.terms or full.industry_links or full.ipc_shared)
    # The same words, reasons and level as the patent's own match list shows for the pair
    # (before, the on-demand one was explained without either text).
    from shuanglian.matching.service import match_patent

    with Session(engine) as session:
        listed = {
            m.id: m.explanation
            for m in match_patent(session, settings=settings, patent_id=first.patent_id, top=50)
        }
    shown = listed[first.enterprise_id]
    assert (full.words, full.reasons, full.level) == (shown.words, shown.reasons, shown.level)


def test_bad_records_are_skipped_and_counted(sqlite_world):
    settings, engine = sqlite_world
    with engine.begin() as conn:
        conn.execute(update(Patent).where(Patent.id == 2).values(title="", abstract=""))
        conn.execute(
            update(Patent).where(Patent.id == 3).values(ipc_codes=["不是IPC"], main_ipc="??")
        )
    report = run_bulk_job(engine, settings=settings, options=_opts(directions="p2e"))
    assert report.status == "finished"
    assert report.skipped == {"empty_text": 1, "bad_ipc": 1}
    pushed = {p for p, *_ in results(engine)[0]}
    assert 2 not in pushed and 3 not in pushed and 1 in pushed


def test_worker_processes_give_identical_results(tmp_path: Path):
    import shutil

    one = Settings(home=tmp_path / "one", database_url=None)
    build_world(one, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    two = Settings(home=tmp_path / "two", database_url=None)
    shutil.copytree(one.home, two.home)
    e1, e2 = make_engine(one), make_engine(two)
    try:
        r1 = run_bulk_job(e1, settings=one, options=_opts(workers=1))
        r2 = run_bulk_job(e2, settings=two, options=_opts(workers=2))
        assert (r1.executor, r2.executor) == ("inline", "process")
        assert results(e1) == results(e2)
        assert r2.memory["peak_pss_mib"] > 0
    finally:
        e1.dispose()
        e2.dispose()


def test_database_gone_mid_shard_keeps_no_half_shard(tmp_path: Path):
    settings, pg_name = _settings("postgresql", tmp_path / "home")
    assert pg_name is not None
    build_world(settings, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    reference = Settings(home=tmp_path / "ref", database_url=None)
    build_world(reference, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    engine, ref_engine = make_engine(settings), make_engine(reference)
    admin = make_engine(Settings(home=tmp_path, database_url=settings.database_url))

    def cut(conn, direction: str, shard_no: int) -> None:  # type: ignore[no-untyped-def]
        if (direction, shard_no) == ("p2e", 1):
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})

    try:
        with pytest.raises(BulkJobError, match="p2e:1.*nothing of it was kept"):
            run_bulk_job(engine, settings=settings, options=_opts(), after_write=cut)
        engine.dispose()
        with engine.connect() as conn:
            done = conn.execute(
                select(BulkShard.direction, BulkShard.shard_no).where(
                    BulkShard.finished_at.is_not(None)
                )
            ).all()
            assert done == [("p2e", 0)]
            shard0 = conn.execute(
                select(BulkShard.query_ids).where(BulkShard.shard_no == 0,
                                                  BulkShard.direction == "p2e")
            ).scalar_one()  # fmt: skip
            stored = set(conn.execute(select(Push.patent_id)).scalars())
            assert stored <= set(shard0)  # nothing of shard 1
        resumed = run_bulk_job(engine, settings=settings, options=_opts())
        assert resumed.resumed and resumed.status == "finished"
        run_bulk_job(ref_engine, settings=reference, options=_opts())
        assert results(engine) == results(ref_engine)
    finally:
        engine.dispose()
        ref_engine.dispose()
        admin.dispose()
        _drop_pg_database(pg_name)


def test_sigkill_at_several_points_then_rerun_gives_identical_results(tmp_path: Path):
    """The job runs as the real command in its own process group, is SIGKILLed after a few
    shards (three kill points, each later than the last), and is rerun to the end."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    base = Settings(home=tmp_path / "base", database_url=None)
    build_world(base, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    killed = Settings(home=tmp_path / "killed", database_url=None)
    shutil.copytree(base.home, killed.home)
    args = ["--top", "5", "--cap", "3", "--shard-size", "20", "--workers", "1", "--json"]
    env = {**os.environ, "SHUANGLIAN_HOME": str(killed.home), "PYTHONPATH": os.getcwd()}
    env.pop("SHUANGLIAN_DATABASE_URL", None)
    cmd = [sys.executable, "-c", "from shuanglian.cli.main import app; app()", "inventory", "push",
           "bulk", *args]  # fmt: skip
    engine = make_engine(killed)

    def finished() -> int:
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        select(func.count())
                        .select_from(BulkShard)
                        .where(BulkShard.finished_at.is_not(None))
                    ).scalar()
                    or 0
                )
        except Exception:  # noqa: BLE001 — the tables may not exist yet
            return 0

    kills = []
    for target in (1, 4, 9):
        proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while finished() < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills.append(finished())
    assert kills[0] >= 1 and kills[-1] < 21  # killed part-way (21 shards in all)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["resumed"] and report["status"] == "finished"
    ref_engine = make_engine(base)
    try:
        run_bulk_job(
            ref_engine, settings=base,
            options=BulkOptions(top=5, per_enterprise_cap=3, shard_size=20, workers=1),
        )  # fmt: skip
        assert results(engine) == results(ref_engine)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(BulkJob)).scalar() == 1
    finally:
        engine.dispose()
        ref_engine.dispose()


def test_index_rebuilt_mid_job_refuses_to_mix(sqlite_world):
    settings, engine = sqlite_world

    def stop(conn, direction: str, shard_no: int) -> None:  # type: ignore[no-untyped-def]
        if shard_no == 1:
            raise OSError("磁盘已满 (disk full)")

    with pytest.raises(BulkJobError, match="disk full"):
        run_bulk_job(engine, settings=settings, options=_opts(), after_write=stop)
    from shuanglian.db import make_session_factory, session_scope
    from shuanglian.matching.service import build_index

    with session_scope(make_session_factory(engine)) as session:
        build_index(session, settings=settings)
    with pytest.raises(BulkJobError, match="--restart"):
        run_bulk_job(engine, settings=settings, options=_opts())
    fresh = run_bulk_job(engine, settings=settings, options=_opts(restart=True))
    assert fresh.status == "finished" and not fresh.resumed
    with engine.connect() as conn:
        statuses = Counter(conn.execute(select(BulkJob.status)).scalars())
    assert statuses == {"abandoned": 1, "finished": 1}


def test_without_the_weak_limit_a_job_pushes_weak_pairs_and_a_resumed_job_keeps_its_choice(
    sqlite_world,
):
    """The weak limit is the job's own option (on by default): without it a patent's pushes
    are its first five with something to check, weak or not, each still storing its level
    (the enterprise's list orders and marks them by it); a job started with it and resumed
    with `--no-weak-limit` still applies it."""
    settings, engine = sqlite_world
    assert BulkOptions().weak_limit
    report = run_bulk_job(
        engine, settings=settings, options=_opts(directions="p2e", weak_limit=False)
    )
    assert report.skipped_weak == 0
    with engine.connect() as conn:
        stored = conn.execute(select(Push.explanation)).scalars().all()
    assert stored and all(ex["level"] in ("high", "medium", "low") for ex in stored)
    assert any(ex["weak"] for ex in stored)  # weak pairs pushed, and marked
    ents = load_index(settings.index_dir, name=ENTERPRISE_INDEX, link=industry_link())
    pushes, _recs = results(engine)
    with engine.connect() as conn:
        from sqlalchemy.orm import Session

        queries = list(patent_records(Session(bind=conn), ids=[1, 2, 3]))
    for query, hits in zip(queries, ents.search_many(queries, top=15, explain=True), strict=True):
        stored = [e for p, e, *_ in pushes if p == int(query.id)]
        assert stored == [int(h.doc_id) for h in hits if _checkable(h)][:5]
    # A job with the limit stops after its first shard (a drill), and is resumed without it.
    first = run_bulk_job(
        engine,
        settings=settings,
        options=_opts(directions="p2e", weak_limit=True, restart=True, fail_shards=("p2e:1",)),
    )
    assert first.failed_shards and first.skipped_weak > 0
    resumed = run_bulk_job(
        engine, settings=settings, options=_opts(directions="p2e", weak_limit=False)
    )
    assert resumed.resumed and resumed.job_id == first.job_id and resumed.status == "finished"
    assert resumed.skipped_weak > 0


def test_rerun_skips_pairs_from_an_earlier_round(sqlite_world):
    settings, engine = sqlite_world
    with engine.begin() as conn:
        rid = conn.execute(
            insert(PushRound).values(per_patent=1, per_enterprise_cap=1).returning(PushRound.id)
        ).scalar_one()
    first = run_bulk_job(engine, settings=settings, options=_opts(directions="p2e"))
    with engine.begin() as conn:
        # Move the job's pushes of patent 1 into the earlier round: the e2p lists of their
        # enterprises must then leave patent 1 out.
        conn.execute(
            update(Push).where(Push.patent_id == 1, Push.round_id == first.round_id)
            .values(round_id=rid)
        )  # fmt: skip
        moved = set(conn.execute(select(Push.enterprise_id).where(Push.round_id == rid)).scalars())
    run_bulk_job(engine, settings=settings, options=_opts(directions="e2p"))
    _, recs = results(engine)
    assert moved and not [r for r in recs if r[0] in moved and r[2] == 1]


def test_ray_two_workers_identical_and_a_failing_shard_is_reported(tmp_path: Path):
    """A local Ray cluster of two workers gives the one-process results; a shard that fails
    three times (a fault drill) is reported with its ids while the others finish, and the
    rerun (without the fault) completes the job with the same results."""
    pytest.importorskip("ray", reason="Ray 未安装 (pip install 'shuanglian[ray]')")
    import shutil

    one = Settings(home=tmp_path / "one", database_url=None)
    build_world(one, patents=N_PATENTS, enterprises=N_ENTERPRISES)
    two = Settings(home=tmp_path / "two", database_url=None)
    shutil.copytree(one.home, two.home)
    e1, e2 = make_engine(one), make_engine(two)
    try:
        run_bulk_job(e1, settings=one, options=_opts(workers=1))
        drill = run_bulk_job(
            e2,
            settings=two,
            options=_opts(workers=2, ray_address="local", fail_shards=("e2p:2",)),
        )
        assert drill.executor == "ray" and drill.workers == 2
        assert drill.status == "running"
        [failed] = drill.failed_shards
        with e2.connect() as conn:
            ids = conn.execute(
                select(BulkShard.query_ids).where(
                    BulkShard.direction == "e2p", BulkShard.shard_no == 2
                )
            ).scalar_one()
        assert (failed.direction, failed.shard_no, failed.query_ids) == ("e2p", 2, ids)
        assert "fault drill" in failed.error
        assert drill.shards_done_now == drill.shards_total - 1
        rerun = run_bulk_job(e2, settings=two, options=_opts(workers=2, ray_address="local"))
        assert rerun.resumed and rerun.status == "finished" and rerun.shards_done_now == 1
        assert results(e1) == results(e2)
    finally:
        e1.dispose()
        e2.dispose()


def test_the_job_is_the_push_rules_over_matcher_search(world):
    """Both directions against the rules written out plainly over `Matcher.search`: the pool
    walked best-graded first, a pair pushed in an earlier round skipped, a pair with nothing
    to check skipped, weak (低) pairs past a patent's first WEAK_PUSHES skipped (the level read
    off the hit's explanation, as a page reads it), the per-enterprise cap, `top` per patent;
    enterprise lists leave out patents pushed to them earlier."""
    from sqlalchemy.orm import Session

    from shuanglian.engine.calibrate import MEDIUM
    from shuanglian.inventory.models import PoolEntry
    from shuanglian.inventory.push import WEAK_PUSHES
    from shuanglian.matching.bulk import _bad_reason
    from shuanglian.matching.service import enterprise_records

    settings, engine = world
    top, cap, depth = 4, 3, 12  # depth: top × the job's default overfetch
    ents = load_index(settings.index_dir, name=ENTERPRISE_INDEX, link=industry_link())
    pats = load_index(settings.index_dir, name=PATENT_INDEX, link=industry_link())
    with Session(engine) as session:
        patents = {int(r.id): r for r in patent_records(session)}
        enterprises = {int(r.id): r for r in enterprise_records(session)}
        order = list(
            session.scalars(
                select(PoolEntry.patent_id).order_by(
                    PoolEntry.score.desc().nulls_last(), PoolEntry.patent_id
                )
            )
        )
    # An earlier round pushed each of the first ten patents to its best enterprise.
    earlier = {
        (p, int(ents.search(patents[p], top=1, explain=False)[0].doc_id)) for p in order[:10]
    }
    with engine.begin() as conn:
        rid = conn.execute(
            insert(PushRound).values(per_patent=1, per_enterprise_cap=1).returning(PushRound.id)
        ).scalar_one()
        conn.execute(
            insert(Push),
            [{"round_id": rid, "patent_id": p, "enterprise_id": e, "rank": 1, "score": 1.0,
              "explanation": {}} for p, e in sorted(earlier)],
        )  # fmt: skip
    report = run_bulk_job(
        engine,
        settings=settings,
        options=_opts(top=top, per_enterprise_cap=cap, workers=2, weak_limit=True),
    )
    assert report.status == "finished" and report.skipped_cap > 0
    assert report.skipped_already_pushed >= len(earlier)

    load: Counter[int] = Counter()
    expected_pushes = []
    no_evidence = 0
    weak_left_out = 0
    for pid in order:
        query = patents[pid]
        if _bad_reason(query):
            continue
        rank = 0
        weak = 0
        for hit in ents.search(query, top=depth):
            eid = int(hit.doc_id)
            if (pid, eid) in earlier:
                continue
            if not _checkable(hit):
                no_evidence += 1
                continue
            assert hit.explanation is not None
            is_weak = hit.explanation.match < MEDIUM
            if is_weak and weak >= WEAK_PUSHES:
                weak_left_out += 1
                continue
            if load[eid] >= cap:
                continue
            weak += is_weak
            rank += 1
            load[eid] += 1
            expected_pushes.append((pid, eid, rank, round(hit.score, 6)))
            if rank == top:
                break
    expected_recs = []
    for eid in sorted(enterprises):
        query = enterprises[eid]
        if _bad_reason(query):
            continue
        rank = 0
        for hit in pats.search(query, top=depth, explain=False):
            pid = int(hit.doc_id)
            if (pid, eid) in earlier:
                continue
            rank += 1
            expected_recs.append((eid, rank, pid, round(hit.score, 6)))
            if rank == top:
                break
    with engine.connect() as conn:
        pushes = [
            tuple(r)
            for r in conn.execute(
                select(Push.patent_id, Push.enterprise_id, Push.rank, Push.score)
                .where(Push.round_id == report.round_id)
                .order_by(Push.patent_id, Push.rank)
            )
        ]
        recs = [
            tuple(r)
            for r in conn.execute(
                select(
                    BulkMatch.query_id, BulkMatch.rank, BulkMatch.doc_id, BulkMatch.score
                ).order_by(BulkMatch.query_id, BulkMatch.rank)
            )
        ]
    assert pushes == sorted(expected_pushes, key=lambda r: (r[0], r[2]))
    assert report.skipped_no_evidence == no_evidence > 0
    assert report.skipped_weak == weak_left_out > 0
    assert len(pushes) > N_PATENTS
    assert recs == expected_recs and len(recs) > N_ENTERPRISES


def test_the_cli_limits_weak_pushes_unless_told_not_to(sqlite_world):
    """`shuanglian inventory push bulk` limits weak pushes by default, as a push round does;
    `--no-weak-limit` pushes them, and each job records its choice."""
    from typer.testing import CliRunner

    from shuanglian.cli.main import app

    settings, engine = sqlite_world
    env = {"SHUANGLIAN_HOME": str(settings.home), "SHUANGLIAN_DATABASE_URL": ""}
    common = ["inventory", "push", "bulk", "--directions", "p2e", "--top", "5", "--workers", "1",
              "--shard-size", "40", "--cap", "1000", "--json"]  # fmt: skip
    reports = {}
    for flag in ("--no-weak-limit", None):
        args = [*common, "--restart"] + ([flag] if flag else [])
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        reports[flag] = json.loads(
            [ln for ln in result.stdout.splitlines() if ln.startswith("{")][-1]
        )
    assert reports["--no-weak-limit"]["skipped_weak"] == 0
    assert reports[None]["skipped_weak"] > 0
    with engine.connect() as conn:
        choices = conn.execute(select(BulkJob.weak_limit).order_by(BulkJob.id)).scalars().all()
    assert choices == [False, True]


def test_a_bulk_push_is_shown_with_its_reasons_in_plain_words(sqlite_world):
    """A bulk push stores signals and its level, not its reasons; the enterprise's page reads
    them now (`explain_compact_pushes`): shared words and 同一地区-style sentences, not
    「得分构成：文本 100%」, with the stored level kept."""
    from sqlalchemy.orm import Session

    from shuanglian.matching.bulk import explain_compact_pushes

    settings, engine = sqlite_world
    run_bulk_job(engine, settings=settings, options=_opts(directions="p2e"))
    with Session(engine) as session:
        pushes = session.scalars(select(Push).order_by(Push.id).limit(40)).all()
        assert pushes and all(p.explanation.get("compact") for p in pushes)
        full = explain_compact_pushes(session, settings=settings, pushes=pushes)
    assert set(full) == {p.id for p in pushes}
    for push in pushes:
        ex = full[push.id]
        assert ex["reasons"] and not any("得分构成" in r for r in ex["reasons"])
        assert ex["reasons_en"]
        assert ex["match"] == push.explanation["match"]
        assert ex["level_label"] == push.explanation["level_label"]
    # Most share words a person can check (the others a patent class ↔ industry link).
    assert sum(bool(full[p.id]["words"]) for p in pushes) > len(pushes) / 2
