"""evaluate_suites on a tiny suite whose metric values are computed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from shuanglian.engine.evaluate import SuiteError, evaluate_suites

CORPUS = [
    {
        "_id": "d1",
        "title": "Gypsum board",
        "text": "fire resistant",
        "metadata": {"ipc": ["C04B28/14"]},
    },
    {"_id": "d2", "title": "Lithium battery", "text": "cathode", "metadata": {}},
    {"_id": "d3", "title": "Camera drone", "text": "gimbal", "metadata": {"ipc": ["B64C39/02"]}},
    {"_id": "d4", "title": "Gypsum plaster", "text": "", "metadata": {}},
]
QUERIES = [
    {"_id": "q1", "text": "gypsum board"},
    {"_id": "q2", "text": "battery"},
    {"_id": "q3", "text": "zzzz"},
    {"_id": "q-unjudged", "text": "gypsum"},
]
QRELS = [("q1", "d4", 2), ("q1", "d1", 1), ("q2", "d3", 1), ("q3", "d1", 1)]


def _write_suite(root: Path, *, name: str | None) -> Path:
    root.mkdir(parents=True)
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in CORPUS) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in QUERIES) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS)
    )
    meta = {"direction": "patent-to-enterprise"} | ({"name": name} if name else {})
    (root / "suite.json").write_text(json.dumps(meta))
    return root


def test_metrics_match_hand_computation(tmp_path: Path) -> None:
    suite = _write_suite(tmp_path / "tiny-folder", name="tiny")
    result = evaluate_suites([suite], run_dir=tmp_path / "runs")
    (entry,) = result["suites"]
    assert entry["name"] == "tiny" and entry["direction"] == "patent-to-enterprise"
    # q1 ranks d1 (grade 1) then d4 (grade 2): trec_eval nDCG gains are the grades.
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    # q2 finds only d2 (not relevant); q3 finds nothing at all: both count as zeros.
    expected = {"nDCG@10": dcg / idcg / 3, "R@10": 1 / 3, "RR@10": 1 / 3, "R@100": 1 / 3}
    assert entry["metrics"] == pytest.approx(expected, abs=1e-4)
    lines = (tmp_path / "runs" / "tiny.trec").read_text().splitlines()
    assert lines[0].split()[:4] == ["q1", "Q0", "d1", "1"]
    assert lines[1].split()[:4] == ["q1", "Q0", "d4", "2"]
    assert all(len(line.split()) == 6 and line.endswith("shuanglian") for line in lines)
    assert not any(line.startswith("q-unjudged") for line in lines)


def test_folder_name_when_suite_has_no_name(tmp_path: Path) -> None:
    suite = _write_suite(tmp_path / "unnamed-suite", name=None)
    result = evaluate_suites([suite], run_dir=tmp_path / "runs", signals=["bm25"])
    assert result["suites"][0]["name"] == "unnamed-suite"
    assert (tmp_path / "runs" / "unnamed-suite.trec").exists()


def test_ipc_signal_alone(tmp_path: Path) -> None:
    suite = _write_suite(tmp_path / "s", name="s")
    (suite / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "", "metadata": {"ipc": ["C04B 28/14"]}}) + "\n"
    )
    (suite / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    metrics = evaluate_suites([suite], signals=["ipc"])["suites"][0]["metrics"]
    assert metrics["RR@10"] == 1.0


def test_missing_folder_or_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="not found"):
        evaluate_suites([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SuiteError, match="missing"):
        evaluate_suites([tmp_path / "empty"])


def test_eval_command_prints_the_contract_json(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from shuanglian.matching.cli import eval_command

    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("noop")(lambda: None)
    suite = _write_suite(tmp_path / "tiny", name="tiny")
    out = CliRunner().invoke(app, ["eval", str(suite), "--json", "--signals", "bm25,ipc"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data["suites"][0]["metrics"]) == {"nDCG@10", "R@10", "RR@10", "R@100"}
    bad = CliRunner().invoke(app, ["eval", str(suite), "--signals", "magic"])
    assert bad.exit_code != 0


def _write_xl_suite(root: Path) -> Path:
    root.mkdir(parents=True)
    corpus = [
        {
            "_id": "e1",
            "title": "",
            "text": "Lithium battery cathode",
            "metadata": {"ipc": ["H01M4/13"]},
        },
        {"_id": "e2", "title": "", "text": "Gypsum fire board", "metadata": {"ipc": ["C04B28/14"]}},
    ]
    queries = [
        {"_id": "q1", "text": "锂电池正极", "metadata": {"ipc": ["H01M4/13"]}},
        {"_id": "q2", "text": "石膏板", "metadata": {"ipc": ["C04B28/14"]}},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\te1\t1\nq2\te2\t1\n")
    meta = {
        "name": "xl-tiny",
        "direction": "patent-to-enterprise",
        "language": "zh-en",
        "query_language": "zh",
        "corpus_language": "en",
        "cross_lingual_of": "xlref-tiny",
    }
    (root / "suite.json").write_text(json.dumps(meta))
    return root


def test_suite_with_different_query_and_corpus_languages(tmp_path: Path) -> None:
    suite = _write_xl_suite(tmp_path / "xl")
    (entry,) = evaluate_suites([suite])["suites"]
    assert entry["query_language"] == "zh" and entry["corpus_language"] == "en"
    assert entry["cross_lingual_of"] == "xlref-tiny"
    assert entry["metrics"]["nDCG@10"] == pytest.approx(1.0)
    # Without IPC on the Chinese side the words alone (translated) still find both.
    (no_ipc,) = evaluate_suites([suite], drop_ipc="query")["suites"]
    assert no_ipc["metrics"]["nDCG@10"] == pytest.approx(1.0)
    (ipc_only,) = evaluate_suites([suite], drop_ipc="both", signals=["ipc"])["suites"]
    assert ipc_only["metrics"]["nDCG@10"] == 0.0
    with pytest.raises(SuiteError):
        evaluate_suites([suite], drop_ipc="sideways")


def test_traditional_queries_through_query_transform(tmp_path: Path) -> None:
    import dataclasses

    import opencc

    conv = opencc.OpenCC("s2twp")
    suite = _write_xl_suite(tmp_path / "xl")
    (entry,) = evaluate_suites(
        [suite],
        drop_ipc="both",
        query_transform=lambda q: dataclasses.replace(q, text=conv.convert(q.text)),
    )["suites"]
    assert entry["metrics"]["nDCG@10"] == pytest.approx(1.0)


def test_eval_with_an_encoder_embeds_the_corpus_once_and_caches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from shuanglian.matching import service
    from shuanglian.matching.cli import eval_command
    from tests.engine.fake_encoder import HashEncoder

    enc = HashEncoder()
    monkeypatch.setitem(service._ENCODERS, "test-hash", enc)
    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("noop")(lambda: None)
    suite = _write_suite(tmp_path / "tiny", name="tiny")
    args = ["eval", str(suite), "--json", "--encoder", "test-hash"]
    cache = ["--embedding-cache", str(tmp_path / "cache")]
    out = CliRunner().invoke(app, args + cache)
    assert out.exit_code == 0, out.output
    entry = json.loads(out.output)["suites"][0]
    assert entry["encoder"] == "test:hash64"
    kinds = [k for k, _ in enc.encoded]
    # Every document once (at build), then only the three judged queries.
    assert kinds == ["passage"] * len(CORPUS) + ["query"] * 3
    again = CliRunner().invoke(app, args + cache)
    assert json.loads(again.output) == json.loads(out.output)
    assert len(enc.encoded) == len(CORPUS) + 3  # all from the cache the second time
