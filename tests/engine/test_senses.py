"""An English word's Chinese senses are chosen by the rest of its query (`engine.senses`).

`data` glosses 数据 and 材料 (CC-CEDICT: 材料 "material; data"): a GPU patent means 数据, a
coatings patent 材料. The choice is read from the Chinese texts of the index searched (real
business scopes here), and the bulk job's query rows must stay the engine's, number for number.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from shuanglian.engine.bulk import bulk_ranker
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record
from shuanglian.engine.senses import build_space, query_shares
from shuanglian.matching.service import industry_link
from shuanglian.text.tokenize import tokenize

from .test_bulk_rank import _check

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared/data/samples"


def _scopes(n: int) -> list[Record]:
    with (SAMPLES / "cn_enterprises_2002_business_scope.csv").open(encoding="utf-8") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh), strict=False)]
    return [
        Record(id=str(i), title=row["企业名称"], text=row["经营范围"])
        for i, row in enumerate(rows, start=1)
    ]


def _nvidia(n: int) -> list[Record]:
    with (SAMPLES / "en_patents_nvidia_sample150.csv").open(encoding="utf-8-sig") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh), strict=False)]
    return [
        Record(id=f"us{row['patent_id']}", title=row["title"], text=row["abstract"]) for row in rows
    ]


@pytest.fixture(scope="module")
def scopes() -> Matcher:
    return Matcher.build(_scopes(3000), link=industry_link())


def test_the_rest_of_the_query_chooses_data_or_material(scopes: Matcher) -> None:
    """CC-CEDICT gives `data` two Chinese words, 数据 and 材料 ("material; data"). The technical
    glossary now settles that word (data is 数据), so the choice is fed as CC-CEDICT gave it:
    what the space adds is the same for any English word with several Chinese senses."""
    space = scopes.sense_space()
    assert space is not None
    data = ("data", ["数据", "材料"], [0.65, 0.35])
    computing = query_shares(
        space, [data, ("softwar", ["软件"], [1.0]), ("processor", ["处理器"], [1.0])]
    )[0]
    coatings = query_shares(
        space, [data, ("steel", ["钢材"], [1.0]), ("plastic", ["塑料"], [1.0])]
    )[0]
    assert computing is not None and coatings is not None
    # A computing query leans further to 数据 than the dictionary does, a coatings query
    # to 材料; the word keeps its whole weight either way.
    assert computing[0] > 0.65 > coatings[0]
    assert coatings[1] > 0.5
    assert sum(computing) == pytest.approx(1.0) and sum(coatings) == pytest.approx(1.0)


def test_chinese_terms_single_translations_and_small_indexes_keep_their_shares(
    scopes: Matcher,
) -> None:
    space = scopes.sense_space()
    assert space is not None
    items = [
        ("数据", ["data"], [1.0]),  # a Chinese term: its English words are not chosen
        ("engin", ["发动机"], [0.41]),  # one translation: nothing to choose
        ("data", ["数据", "材料"], [0.65, 0.35]),
        ("softwar", ["软件"], [1.0]),
        ("comput", ["计算机"], [1.0]),
    ]
    chosen = query_shares(space, items)
    assert chosen[0] is None and chosen[1] is None and chosen[3] is None and chosen[4] is None
    assert chosen[2] is not None and chosen[2][0] > 0.65
    assert sum(chosen[2]) == pytest.approx(1.0)
    # Too few Chinese words to learn from (an English index, a handful of scopes): no space,
    # the dictionary's shares stand.
    assert Matcher.build(_nvidia(40)).sense_space() is None
    small = Matcher.build(_scopes(30))
    assert small.sense_space() is None
    assert query_shares(None, items) == [None] * 5


def test_the_space_survives_added_documents() -> None:
    index = Matcher.build(_scopes(1500))
    space = index.sense_space()
    index.add([Record(id="new", title="新公司", text="数据处理服务；材料销售")])
    assert index.sense_space() is space


def test_english_queries_rank_in_bulk_as_the_engine_ranks_them(scopes: Matcher) -> None:
    """English patents against Chinese scopes, where the senses are chosen: the bulk job's
    tokenised queries and its stored query forms give `Matcher.search`'s hits exactly."""
    patents = _nvidia(120)
    assert _check(scopes, patents, top=10) > 300
    patent_index = Matcher.build(patents, query_forms=True)
    _check(scopes, patents, top=10, source=patent_index)
    stored = bulk_ranker(scopes).stored
    assert stored is not None and stored.used >= len(patents)


def test_threads_adding_english_terms_get_each_term_its_own_vector(scopes: Matcher) -> None:
    """A web server's threads share one space: English rows added at once must each hold
    their own term's vector (a row handed out twice would mix two words' senses)."""
    from concurrent.futures import ThreadPoolExecutor

    shared = build_space(scopes.segments[0].bm25, scopes.terms)
    alone = build_space(scopes.segments[0].bm25, scopes.terms)
    assert shared is not None and alone is not None
    terms = sorted({t for p in _nvidia(60) for t in tokenize(f"{p.title} {p.text}")})
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = dict(zip(terms, pool.map(shared.english_row, terms), strict=True))
    assert sum(r >= 0 for r in rows.values()) > 100
    for term in terms:
        row = alone.english_row(term)
        assert (row >= 0) == (rows[term] >= 0)
        if row >= 0:
            assert np.array_equal(
                shared.english_vectors()[rows[term]], alone.english_vectors()[row]
            )


def test_the_space_is_stored_with_the_index_and_read_back(
    scopes: Matcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`index build` stores the main segment's space; a process that loads the index uses it
    (no build: each bulk worker built its own) and ranks English queries exactly as before."""
    from shuanglian.engine import matcher as matcher_module
    from shuanglian.engine.index import load_index, save_index

    save_index(scopes, tmp_path, name="enterprises")
    built = scopes.sense_space()
    assert built is not None
    save_index(Matcher.build(_scopes(30)), tmp_path, name="small")  # too small for a space

    def no_build(*_args: object) -> None:
        raise AssertionError("the stored space should have been used")

    monkeypatch.setattr(matcher_module, "build_space", no_build)
    loaded = load_index(tmp_path, name="enterprises", link=industry_link())
    space = loaded.sense_space()
    assert space is not None and space.rows == built.rows
    assert np.array_equal(np.asarray(space.vectors), built.vectors)
    for patent in _nvidia(30):
        assert [(h.doc_id, h.score) for h in loaded.search(patent, top=10)] == [
            (h.doc_id, h.score) for h in scopes.search(patent, top=10)
        ]
    # An index too small for a space says so: loading it builds nothing either.
    assert load_index(tmp_path, name="small").sense_space() is None


def test_an_index_saved_without_a_space_still_builds_one_on_first_use(
    tmp_path: Path,
) -> None:
    import json

    from shuanglian.engine.index import load_index, save_index

    save_index(Matcher.build(_scopes(1500)), tmp_path, name="older")
    # An index written before spaces were stored: no "senses" in its main segment's meta.
    segment = next((tmp_path / "older" / "segments").iterdir())
    meta = json.loads((segment / "meta.json").read_text(encoding="utf-8"))
    del meta["senses"]
    (segment / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    for name in ("senses_vectors.npy", "senses_terms.json"):
        (segment / name).unlink()
    manifest_dir = next(p for p in (tmp_path / "older" / "versions").iterdir())
    manifest = json.loads((manifest_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {
        k: v for k, v in manifest["files"].items() if "senses_" not in k and "meta.json" not in k
    }
    (manifest_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    loaded = load_index(tmp_path, name="older")
    assert loaded._senses is None
    assert loaded.sense_space() is not None
