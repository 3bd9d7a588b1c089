"""A kept figure brought up to date with the rows appended since equals the SQL afresh.

A push or a feedback form adds a row to a table of a million; the dashboards add what the new
rows add to what they kept (`dashboard.appends`) instead of counting the million again. After
every kind of write — appends, an append dated before the patent's first push, several rows in
one statement, an update, a delete, a row given an id below the others — each page's figures
and tables for every scope must equal a fresh computation; and on PostgreSQL a transaction
that was still running when a page was kept, committing afterwards, must still be counted.
Each write and each page is its own transaction, as on the site."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.dashboard import refresh, service, summary
from shuanglian.db import Base, make_engine
from shuanglian.figures import Scope
from shuanglian.inventory.models import Feedback, PoolEntry, Push, PushRound
from shuanglian.patents.models import Institution, Patent
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.dashboard.test_summaries import TODAY, _fresh, _scopes
from tests.dashboard.world import World, at, build
from tests.web.factories import make_enterprise, make_patent


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    name = url = None
    if request.param == "postgresql":
        name, url = _create_pg_database()
    made = make_engine(Settings(home=tmp_path, database_url=url))
    Base.metadata.create_all(made)
    summary.forget_memory()
    try:
        yield made
    finally:
        made.dispose()
        summary.forget_memory()
        if name:
            _drop_pg_database(name)


class Setup:
    """The hand-worked world plus a pooled patent a4 never pushed and an enterprise E3."""

    def __init__(self, engine: Engine) -> None:
        with Session(engine) as s:
            self.w: World = build(s)
            inst = s.get(Institution, self.w.a)
            assert inst is not None
            a4 = make_patent(s, inst, main_ipc="H01M 10/54")
            e3 = make_enterprise(s, "南京丙企业", province="江苏", city="南京",
                                 industry_code="2614")  # fmt: skip
            s.flush()
            s.add(PoolEntry(patent_id=a4.id, institution_id=inst.id, active=True,
                            entered_at=at(10, 20), grade="B"))  # fmt: skip
            s.commit()
            self.a4, self.e3 = a4.id, e3.id
            self.round = s.scalar(select(PushRound.id))
            by_title = {p.id: p for p in s.scalars(select(Patent))}
            self.patents = sorted(by_title)


def _page(engine: Engine, scope: Scope) -> tuple[Any, Any, summary.Pieces]:
    with Session(engine) as s:
        pieces = summary.Pieces(s)
        board = service.build_dashboard(s, scope=scope, today=TODAY, pieces=pieces)
        return board.cards, {k: (t.rows, t.rows_en) for k, t in board.tables.items()}, pieces


def _fresh_page(engine: Engine, scope: Scope) -> tuple[Any, Any]:
    with Session(engine) as s:
        return _fresh(s, scope)


def _steady(s: Session) -> Session:
    """On PostgreSQL the token trigger also folds old change rows, at random one call in a
    hundred, and a page kept before a fold is recomputed rather than added to (correct, and
    checked by the equality). Seeding the session's random() makes these writes never fold, so
    the asserts that appends were added to cannot fail by chance."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT setseed(0.25)"))
    return s


def _write(engine: Engine, change: Callable[[Session], Any]) -> None:
    with Session(engine) as s:
        _steady(s)
        change(s)
        s.commit()


def _push(setup: Setup, patent: int, enterprise: int, month: int, day: int) -> Push:
    return Push(round_id=setup.round, patent_id=patent, enterprise_id=enterprise, rank=1,
                score=0.5, created_at=at(month, day))  # fmt: skip


def _feedback_on(s: Session, patent: int, enterprise: int, intent: str, month: int, day: int):  # type: ignore[no-untyped-def]
    push = s.scalar(select(Push).where(Push.patent_id == patent, Push.enterprise_id == enterprise))
    assert push is not None
    s.add(Feedback(push_id=push.id, patent_id=patent, enterprise_id=enterprise, prospect=4,
                   intent=intent, created_at=at(month, day)))  # fmt: skip


def _check(engine: Engine, scopes: list[Scope], label: str) -> int:
    """Every scope's page equals the fresh SQL; returns how many pieces were folded."""
    folded = 0
    for scope in scopes:
        cards, tables, pieces = _page(engine, scope)
        assert (cards, tables) == _fresh_page(engine, scope), (label, scope)
        folded += pieces.folded
    return folded


def test_pages_after_appends_updates_and_deletes_equal_fresh_sql(engine: Engine) -> None:
    setup = Setup(engine)
    w = setup.w
    pats = setup.patents  # a1, a2, a3, b1, a4
    a1, a2, a3, b1, a4 = pats
    scopes = [*_scopes(w), Scope.parse(period="2026-11"), Scope(institution_id=w.b)]
    _check(engine, scopes, "cold")
    appends: dict[str, Callable[[Session], Any]] = {
        "push": lambda s: s.add(_push(setup, a2, w.e2, 11, 20)),
        "feedback with an intent": lambda s: _feedback_on(s, a2, w.e1, "转让", 11, 25),
        "a patent's first push": lambda s: s.add(_push(setup, a4, setup.e3, 12, 3)),
        "a push before the patent's first": lambda s: s.add(_push(setup, b1, w.e1, 10, 25)),
        "two pushes in one statement": lambda s: s.execute(
            insert(Push),
            [
                {
                    "round_id": setup.round,
                    "patent_id": a3,
                    "enterprise_id": w.e1,
                    "rank": 1,
                    "score": 0.1,
                    "created_at": at(11, 28),
                },
                {
                    "round_id": setup.round,
                    "patent_id": a3,
                    "enterprise_id": setup.e3,
                    "rank": 2,
                    "score": 0.1,
                    "created_at": at(12, 1),
                },
            ],  # fmt: skip
        ),
        "feedback without an intent": lambda s: _feedback_on(s, a3, w.e1, "无", 12, 2),
    }
    for label, change in appends.items():
        _write(engine, change)
        assert _check(engine, scopes, label) > 0, label  # added to, not recomputed
    others: dict[str, Callable[[Session], Any]] = {
        "a push moved": lambda s: s.execute(
            update(Push).where(Push.patent_id == a4).values(created_at=at(10, 22))
        ),
        "a feedback deleted": lambda s: s.execute(delete(Feedback).where(Feedback.patent_id == a3)),
        "a push deleted": lambda s: s.execute(
            delete(Push).where(Push.patent_id == a3, Push.enterprise_id == w.e1)
        ),
    }
    for label, change in others.items():
        _write(engine, change)
        _check(engine, scopes, label)
    # A row given an id below the highest (an import keeping its ids): not an append.
    with Session(engine) as s:
        low = s.scalar(select(Push.id).where(Push.patent_id == a3).order_by(Push.id)) or 0
        free = next(i for i in range(low - 1, 0, -1) if s.get(Push, i) is None)
        s.execute(insert(Push).values(id=free, **{
            "round_id": setup.round, "patent_id": a3, "enterprise_id": w.e2, "rank": 1,
            "score": 0.1, "created_at": at(11, 2)}))  # fmt: skip
        s.commit()
    _check(engine, scopes, "a push below the highest id")
    _write(engine, lambda s: s.add(_push(setup, a4, w.e1, 12, 4)))
    assert _check(engine, scopes, "an append after all that") > 0


def test_a_page_kept_inside_an_uncommitted_write_is_never_added_to(engine: Engine) -> None:
    setup = Setup(engine)
    w = setup.w
    a1, a2, a3, b1, a4 = setup.patents
    scopes = [Scope(), Scope(institution_id=w.a)]
    _check(engine, scopes, "cold")
    with Session(engine) as s:  # a page computed by a transaction that pushed, then undone
        s.add(_push(setup, a4, w.e1, 12, 5))
        s.flush()
        for scope in scopes:
            pieces = summary.Pieces(s)
            service.build_dashboard(s, scope=scope, today=TODAY, pieces=pieces)
        s.rollback()
    # Another push, likely given the same id, committed.
    _write(engine, lambda s: s.add(_push(setup, a3, w.e2, 10, 3)))
    _check(engine, scopes, "after the rollback")


def _pg_session(engine: Engine) -> Session:
    s = _steady(Session(engine))
    s.execute(text("SET lock_timeout = '2s'"))
    return s


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # concurrent writers
def test_postgresql_a_push_committed_after_a_page_was_kept_is_counted(engine: Engine) -> None:
    setup = Setup(engine)
    w = setup.w
    a1, a2, a3, b1, a4 = setup.patents
    scopes = [Scope(), Scope(institution_id=w.a), Scope.parse(period="2026Q4")]
    _check(engine, scopes, "cold")
    early, late = _pg_session(engine), _pg_session(engine)
    try:
        early.add(_push(setup, a4, w.e1, 12, 6))  # takes the lower id, commits last
        early.flush()
        late.add(_push(setup, a3, w.e2, 12, 7))  # never waits for `early`
        late.flush()
        late.commit()
        _check(engine, scopes, "late committed")  # kept while `early` is still open
        early.commit()
    finally:
        early.close()
        late.close()
    _check(engine, scopes, "early committed")
    with Session(engine) as s:
        assert s.scalar(select(Push.id).where(Push.patent_id == a4)) is not None
    # Many appenders at once: none waits for another, none is lost.
    sessions = [_pg_session(engine) for _ in range(4)]
    try:
        for i, s in enumerate(sessions):
            s.add(_push(setup, [a1, a2, a3, b1][i], setup.e3, 12, 8))
            s.flush()
        for s in sessions:
            s.commit()
    finally:
        for s in sessions:
            s.close()
    assert _check(engine, scopes, "four appenders") > 0
    with Session(engine) as s:
        assert s.scalar(select(Push.id).where(Push.enterprise_id == setup.e3).limit(1))


def test_pieces_stored_by_refresh_are_added_to_by_another_process(engine: Engine) -> None:
    setup = Setup(engine)
    w = setup.w
    a1, a2, a3, b1, a4 = setup.patents
    _write(engine, lambda s: s.add(_push(setup, a3, w.e1, 11, 9)))  # two change rows to fold
    with Session(engine) as s:
        assert refresh.refresh(s, today=TODAY)["computed"] > 0
        s.commit()
    summary.forget_memory()  # a web process that computed nothing itself
    _write(engine, lambda s: s.add(_push(setup, a2, w.e2, 11, 20)))
    scopes = [Scope(), Scope.parse(period="2026Q4"), Scope.parse(period="2026-12")]
    assert _check(engine, scopes, "after a refresh and a push") > 0
