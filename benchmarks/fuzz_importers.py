"""Fuzzing every importer with broken files: the long run, and the harness the test shares.

    nice .venv/bin/python benchmarks/fuzz_importers.py --cases 1000000 [--seed 1]
        [--checkpoint 10000] [--out benchmarks/results/fuzz_importers.json]

On a machine with two free cores, run two halves side by side and sum them:

    for s in 1 2; do nice .venv/bin/python benchmarks/fuzz_importers.py --cases 500000 \
        --seed $s --out benchmarks/results/fuzz_importers_seed$s.json & done; wait
    .venv/bin/python benchmarks/fuzz_importers.py --combine \
        benchmarks/results/fuzz_importers_seed1.json benchmarks/results/fuzz_importers_seed2.json

Writes benchmarks/results/fuzz_importers.json (cases per importer, reports, refusals, crashes)
and, for each crash, the file that caused it under benchmarks/results/fuzz_crashes/.

A case is (importer, file bytes). The bytes come from a real sample of that importer's format,
then broken: random bytes, truncated, bytes flipped, re-encoded (GB18030, UTF-16, Latin-1),
or, for workbooks, a zip whose sheet is cut or replaced. An importer may answer with a report
(bad rows as row errors) or refuse the file with a `DomainError`; anything else is a crash.
A refused file must change nothing: row counts of every table an importer writes are compared.

`tests/test_fuzz_importers.py` runs a short hypothesis search over the same harness.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.errors import DomainError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
ENCODINGS = ("gb18030", "utf-16", "latin-1", "utf-8-sig", "big5")


@dataclass
class Importer:
    """One importer: the file suffix it reads, a seed file and how to call it."""

    name: str
    suffix: str
    seed: bytes
    run: Callable[[Session, Path], Any]
    # The name the importer needs to see (PatentsView reads `g_patent.tsv` and refuses any
    # other name before parsing: with `case.tsv` every case was a refusal, nothing parsed).
    filename: str | None = None

    def path_in(self, folder: Path) -> Path:
        """Where a case file for this importer is written."""
        return folder / (self.filename or f"case{self.suffix}")


@dataclass
class FuzzStats:
    """What a run did: cases per importer, how they ended, and the crashes (kept, not raised)."""

    cases: int = 0
    reports: int = 0
    refusals: int = 0
    crashes: list[tuple[str, str, bytes]] = field(default_factory=list)


def _workbook(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def importers() -> list[Importer]:
    """Every importer of the platform, each with a small real seed of its format."""
    from shuanglian.enterprises.importers import import_demands, import_enterprises
    from shuanglian.inventory.importers import (
        ASSESSMENT_HEADERS,
        FEEDBACK_HEADERS,
        import_assessments,
        import_feedback,
    )
    from shuanglian.patents.importers import import_patents
    from shuanglian.pilots.importers import import_pilots

    def head(path: Path, lines: int = 6) -> bytes:
        with path.open("rb") as fh:
            return b"".join(fh.readline() for _ in range(lines))

    cnipa = head(DEMO / "patents_cnipa_sample.csv")
    xml = (DEMO / "patents_uspto_sample.xml").read_bytes()[:20000]
    pilots_seed = (
        "名称,运营单位,级别,省份,行业,服务,容量\n"
        "精细化工中试基地,某大学,provincial,辽宁,26,pilot,2\n".encode()
    )

    def admin(session: Session) -> Any:
        from shuanglian.accounts.models import User

        user = session.scalar(select(User).where(User.username == "fuzz-admin"))
        if user is None:
            user = User(username="fuzz-admin", role="admin", password_hash="x")
            session.add(user)
            session.flush()
        return user

    def enterprise(session: Session) -> int:
        from shuanglian.enterprises.models import Enterprise

        found = session.scalar(select(Enterprise.id).where(Enterprise.name == "模糊测试企业"))
        if found is None:
            row = Enterprise(name="模糊测试企业")
            session.add(row)
            session.flush()
            found = row.id
        return found

    return [
        Importer(
            "patents-cnipa",
            ".csv",
            cnipa,
            lambda s, p: import_patents(s, path=p, fmt="cnipa", institution="模糊测试大学"),
        ),
        Importer(
            "patents-xlsx",
            ".xlsx",
            _workbook([line.split(",") for line in cnipa.decode("utf-8-sig").splitlines()]),
            lambda s, p: import_patents(s, path=p, institution="模糊测试大学"),
        ),
        Importer(
            "patents-uspto", ".xml", xml, lambda s, p: import_patents(s, path=p, fmt="uspto-xml")
        ),
        Importer(
            "patents-patentsview",
            ".tsv",
            b'"patent_id"\t"patent_type"\t"patent_date"\t"patent_title"\n'
            b'"10000000"\t"utility"\t"2018-06-19"\t"Coherent LADAR"\n',
            lambda s, p: import_patents(s, path=p, fmt="patentsview"),
            filename="g_patent.tsv",
        ),
        Importer(
            "enterprises",
            ".csv",
            head(DEMO / "enterprises_2002_sample.csv"),
            lambda s, p: import_enterprises(s, path=p),
        ),
        Importer(
            "demands", ".csv", head(DEMO / "demands.csv"), lambda s, p: import_demands(s, path=p)
        ),
        Importer("pilots", ".csv", pilots_seed, lambda s, p: import_pilots(s, path=p)),
        Importer(
            "assessments",
            ".xlsx",
            _workbook(
                [list(ASSESSMENT_HEADERS.values()), ["CN201910000001.1", "标题", "是", "未实施"]]
            ),
            lambda s, p: import_assessments(s, actor=admin(s), path=p),
        ),
        Importer(
            "feedback",
            ".csv",
            (
                ",".join(FEEDBACK_HEADERS.values()) + "\n1,CN1,标题,4,,洽谈\n1e999,,,1e999,,无\n"
            ).encode(),
            # The operator loading an enterprise's workbook: without the enterprise named,
            # every case was refused before the file was read.
            lambda s, p: import_feedback(s, actor=None, path=p, enterprise_id=enterprise(s)),
        ),
    ]


def mutate(seed: bytes, suffix: str, rng: random.Random) -> bytes:
    """One broken variant of `seed` (see the module docstring for the kinds)."""
    kind = rng.randrange(7)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 2048))
    if kind == 1:
        return seed[: rng.randrange(0, max(1, len(seed)))]
    if kind == 2:
        data = bytearray(seed)
        for _ in range(rng.randrange(1, 16)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 3 and suffix != ".xlsx":
        text = seed.decode("utf-8", errors="replace")
        return text.encode(rng.choice(ENCODINGS), errors="replace")
    if kind == 4 and suffix == ".xlsx":
        return _break_zip(seed, rng)
    if kind == 5:
        cut = rng.randrange(0, max(1, len(seed)))
        return (
            seed[:cut]
            + rng.choice([b"\x00", b"\xff\xfe", b'"', b"\r", b"=1+1", b"1e999"])
            + seed[cut:]
        )
    return seed + rng.randbytes(rng.randrange(0, 64))


def _break_zip(seed: bytes, rng: random.Random) -> bytes:
    """A workbook with one member truncated, replaced by junk or dropped."""
    src = zipfile.ZipFile(io.BytesIO(seed))
    names = src.namelist()
    victim = rng.choice(names)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            body = src.read(name)
            if name == victim:
                action = rng.randrange(3)
                if action == 0:
                    continue
                body = (
                    body[: rng.randrange(0, max(1, len(body)))]
                    if action == 1
                    else rng.randbytes(64)
                )
            dst.writestr(name, body)
    return out.getvalue()


def _counts(session: Session) -> dict[str, int]:
    from shuanglian.enterprises.models import Demand, Enterprise
    from shuanglian.inventory.models import Feedback, SelfAssessment
    from shuanglian.patents.models import Patent
    from shuanglian.pilots.models import PilotPlatform

    models = (Patent, Enterprise, Demand, SelfAssessment, Feedback, PilotPlatform)
    # One round trip for every table (the harness counts before and after each refusal).
    row = session.execute(
        select(*(select(func.count()).select_from(m).scalar_subquery() for m in models))
    ).one()
    return {m.__tablename__: n or 0 for m, n in zip(models, row, strict=True)}


def run_case(
    session: Session, importer: Importer, data: bytes, folder: Path, stats: FuzzStats
) -> None:
    """Import `data` with `importer` in a savepoint that is always rolled back afterwards."""
    path = importer.path_in(folder)
    path.write_bytes(data)
    stats.cases += 1
    before = _counts(session)
    nested = session.begin_nested()
    try:
        importer.run(session, path)
    except DomainError:
        stats.refusals += 1
        nested.rollback()
        if _counts(session) != before:
            stats.crashes.append((importer.name, "a refused file changed the database", data))
        return
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        nested.rollback()
        stats.crashes.append((importer.name, f"{type(exc).__name__}: {exc}"[:300], data))
        return
    stats.reports += 1
    if nested.is_active:
        nested.rollback()


def _summary(per: dict[str, FuzzStats], elapsed: float, args: Any, done: bool) -> dict[str, Any]:
    import os

    return {
        "cases": sum(s.cases for s in per.values()),
        "target_cases": args.cases,
        "finished": done,
        "seed": args.seed,
        "seconds": round(elapsed, 1),
        "cases_per_second": round(sum(s.cases for s in per.values()) / max(elapsed, 1e-9), 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "crashes": sum(len(s.crashes) for s in per.values()),
        "importers": {
            name: {
                "cases": s.cases,
                "reports": s.reports,
                "refusals": s.refusals,
                "crashes": [why for _, why, _ in s.crashes[:20]],
            }
            for name, s in per.items()
        },
    }


def _write(out: Path, per: dict[str, FuzzStats], summary: dict[str, Any]) -> None:
    """Write the summary (atomically: a reader never sees half a file) and the crash files."""
    import json

    crashes_dir = out.parent / "fuzz_crashes"
    for name, stats in per.items():
        for n, (_, _, data) in enumerate(stats.crashes[:20]):
            crashes_dir.mkdir(parents=True, exist_ok=True)
            (crashes_dir / f"{name}-seed{summary['seed']}-{n}.bin").write_bytes(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.part")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    tmp.replace(out)


def combine(parts: list[Path], out: Path) -> dict[str, Any]:
    """Sum the summaries of runs with different seeds (run side by side, one per core) into
    one; each part is listed as it was (seed, cases, seconds, finished), nothing else changes."""
    import json

    docs = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
    importers_: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for name, stats in doc["importers"].items():
            into = importers_.setdefault(
                name, {"cases": 0, "reports": 0, "refusals": 0, "crashes": []}
            )
            for key in ("cases", "reports", "refusals"):
                into[key] += stats[key]
            into["crashes"] += stats["crashes"]
    summary = {
        "cases": sum(d["cases"] for d in docs),
        "target_cases": sum(d["target_cases"] for d in docs),
        "finished": all(d["finished"] for d in docs),
        "runs": [
            {k: d[k] for k in ("seed", "cases", "target_cases", "finished", "seconds")}
            | {"cases_per_second": d["cases_per_second"], "load_average_1m": d["load_average_1m"]}
            for d in docs
        ],
        "note": "runs side by side with different seeds, summed (`--combine`)",
        "crashes": sum(d["crashes"] for d in docs),
        "importers": importers_,
    }
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return summary


def main() -> None:
    """Run `--cases` cases round-robin over every importer on a scratch database.

    The summary is rewritten every `--checkpoint` cases (with `"finished": false`), so a long
    run that is stopped still leaves what it did.
    """
    import argparse
    import json
    import tempfile
    import time

    import shuanglian.models  # noqa: F401  (every table on Base.metadata)
    from shuanglian.config import Settings
    from shuanglian.db import Base, make_engine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkpoint", type=int, default=10_000, help="cases between writes")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results" / "fuzz_importers.json",
        help="summary JSON (crash files go to fuzz_crashes/ beside it)",
    )
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        metavar="PART",
        help="instead of fuzzing: sum these runs' summaries (other seeds) into --out",
    )
    args = parser.parse_args()
    if args.combine:
        print(json.dumps(combine(args.combine, args.out), ensure_ascii=False, indent=1))
        return
    rng = random.Random(args.seed)
    # Case files and the scratch database in memory where the system has a tmpfs: the run
    # writes a million small files, and what is measured is the importers, not the disk.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        folder = Path(tmp)
        engine = make_engine(Settings(home=folder, database_url=None))
        Base.metadata.create_all(engine)
        kinds = importers()
        per: dict[str, FuzzStats] = {imp.name: FuzzStats() for imp in kinds}
        started = time.monotonic()
        with Session(engine) as session:
            for i in range(args.cases):
                imp = kinds[i % len(kinds)]
                run_case(session, imp, mutate(imp.seed, imp.suffix, rng), folder, per[imp.name])
                if (i + 1) % args.checkpoint == 0:
                    session.rollback()
                    elapsed = time.monotonic() - started
                    _write(args.out, per, _summary(per, elapsed, args, done=False))
        elapsed = time.monotonic() - started
        engine.dispose()
    summary = _summary(per, elapsed, args, done=True)
    _write(args.out, per, summary)
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
