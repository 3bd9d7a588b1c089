"""The on-disk index: round trip, memory mapping, incremental versions, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shuanglian.engine.index import (
    IndexCorrupt,
    IndexMissing,
    index_info,
    load_index,
    save_index,
    verify_index,
)
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record

DOCS = [
    Record("e1", "绿源建材", "石膏板、防火板材、保温材料的生产销售", industry="C3024"),
    Record("e2", "锂电科技", "锂离子电池、正极材料、电解液的研发生产", industry="C3841"),
    Record("e3", "Drone Inc", "unmanned aerial vehicle camera gimbal", ipc=("B64C39/02",)),
]
QUERIES = [
    Record("q1", text="防火石膏板"),
    Record("q2", text="锂电池正极"),
    Record("q3", text="camera drone", ipc=("B64C39/024",)),
]


def _ranked(matcher: Matcher) -> list[list[tuple[str, float]]]:
    return [[(h.doc_id, round(h.score, 5)) for h in matcher.search(q, top=3)] for q in QUERIES]


def test_round_trip_gives_identical_results_from_mapped_arrays(tmp_path: Path) -> None:
    built = Matcher.build(DOCS)
    save_index(built, tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent")
    # Mapped read-only from disk, not copied into writable memory.
    assert not loaded.segments[0].bm25.data.flags.writeable
    assert not loaded.segments[0].bm25.indices.flags.writeable
    assert _ranked(loaded) == _ranked(built)
    info = index_info(tmp_path, name="ent")
    assert info["doc_count"] == 3 and info["format"] == 1


def test_incremental_save_writes_only_the_delta(tmp_path: Path) -> None:
    save_index(Matcher.build(DOCS), tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent")
    first_segment = loaded.segments[0].key
    loaded.add([Record("e4", "石膏制品厂", "脱硫石膏、防火石膏板加工")])
    loaded.remove(["e1"])
    save_index(loaded, tmp_path, name="ent")
    again = load_index(tmp_path, name="ent")
    assert [s.key for s in again.segments][0] == first_segment
    assert len(again.segments) == 2
    assert sorted(again.doc_ids()) == ["e2", "e3", "e4"]
    assert again.search(QUERIES[0], top=1)[0].doc_id == "e4"
    segments = sorted(p.name for p in (tmp_path / "ent" / "segments").iterdir())
    assert len(segments) == 2


def test_readers_of_an_old_version_keep_working_after_a_rebuild(tmp_path: Path) -> None:
    save_index(Matcher.build(DOCS), tmp_path, name="ent")
    reader = load_index(tmp_path, name="ent")
    save_index(Matcher.build(DOCS[:1]), tmp_path, name="ent")
    assert reader.search(QUERIES[1], top=1)[0].doc_id == "e2"  # old arrays still mapped
    assert len(load_index(tmp_path, name="ent")) == 1


def test_old_versions_are_collected(tmp_path: Path) -> None:
    for _ in range(5):
        save_index(Matcher.build(DOCS), tmp_path, name="ent")
    versions = [p for p in (tmp_path / "ent" / "versions").iterdir()]
    assert len(versions) == 3
    assert len(list((tmp_path / "ent" / "segments").iterdir())) == 3


def test_missing_index_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="shuanglian index build"):
        load_index(tmp_path, name="ent")


def test_truncated_file_is_detected(tmp_path: Path) -> None:
    version = save_index(Matcher.build(DOCS), tmp_path, name="ent")
    seg = json.loads((version / "manifest.json").read_text())["segments"][0]
    target = tmp_path / "ent" / "segments" / seg / "bm25_data.npy"
    target.write_bytes(target.read_bytes()[:-4])
    with pytest.raises(IndexCorrupt, match="shuanglian index build"):
        load_index(tmp_path, name="ent")


def test_changed_bytes_fail_the_checksum(tmp_path: Path) -> None:
    version = save_index(Matcher.build(DOCS), tmp_path, name="ent")
    target = version / "idf.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    verify_index(tmp_path, name="ent", checksums=False)  # sizes still match
    with pytest.raises(IndexCorrupt, match="checksum"):
        verify_index(tmp_path, name="ent", checksums=True)


def test_missing_file_and_bad_manifest(tmp_path: Path) -> None:
    version = save_index(Matcher.build(DOCS), tmp_path, name="ent")
    (version / "terms.json").unlink()
    with pytest.raises(IndexCorrupt, match="missing"):
        load_index(tmp_path, name="ent")
    (version / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="shuanglian index build"):
        load_index(tmp_path, name="ent")


def test_empty_index_saves_and_answers_nothing(tmp_path: Path) -> None:
    save_index(Matcher.build([]), tmp_path, name="empty")
    loaded = load_index(tmp_path, name="empty")
    assert len(loaded) == 0
    assert loaded.search(QUERIES[0]) == []
