"""`build_index(workers=2)` builds the two indexes in two processes: the same indexes as one."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from shuanglian.config import Settings
from shuanglian.db import make_engine, make_session_factory, session_scope
from shuanglian.engine.index import load_index
from shuanglian.matching.service import ENTERPRISE_INDEX, PATENT_INDEX, build_index
from tests.matching.bulk_world import load_world


def test_two_processes_build_the_same_indexes(tmp_path: Path) -> None:
    one = Settings(home=tmp_path / "one", database_url=None)
    engine = make_engine(one)
    load_world(engine, patents=60, enterprises=80)
    engine.dispose()
    two = Settings(home=tmp_path / "two", database_url=None)
    shutil.copytree(one.home, two.home)
    for settings, workers in ((one, 1), (two, 2)):
        engine = make_engine(settings)
        with session_scope(make_session_factory(engine)) as session:
            report = build_index(session, settings=settings, workers=workers)
        engine.dispose()
        assert report[PATENT_INDEX]["documents"] == 60
        assert report[ENTERPRISE_INDEX]["documents"] == 80
    for name in (PATENT_INDEX, ENTERPRISE_INDEX):
        a = load_index(one.index_dir, name=name)
        b = load_index(two.index_dir, name=name)
        assert a.terms == b.terms and a.segments[0].ids == b.segments[0].ids
        for left, right in ((a.segments[0].bm25, b.segments[0].bm25),):
            assert np.array_equal(left.data, right.data)
            assert np.array_equal(left.indices, right.indices)
        assert a.segments[0].doc_terms is not None and b.segments[0].doc_terms is not None
        assert np.array_equal(a.segments[0].doc_terms.terms, b.segments[0].doc_terms.terms)
        assert np.array_equal(a.segments[0].doc_crc, b.segments[0].doc_crc)
