"""Shipped tables: a provenance row and checksum each; unchanged copies equal the originals."""

from __future__ import annotations

import gzip
import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest

DATA = Path(str(resources.files("shuanglian.reference.data")))
PROVENANCE = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
TABLES = sorted(p for p in DATA.iterdir() if p.suffix in {".csv", ".gz"})
# Copies documented as unchanged ("none" / "gzip only") must equal the shared originals.
UNCHANGED = [
    "fraunhofer_ipc3_nace2_shares.csv",
    "fraunhofer_wipo35_nace2_shares.csv",
    "wipo_ipc_technology_35fields.csv",
    "ipc_en_titles_to_maingroup.csv.gz",
]


def test_every_table_has_a_provenance_row_and_checksum():
    checksums = dict(
        (name.removeprefix("data/"), digest)
        for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", PROVENANCE, flags=re.M)
    )
    assert {p.name for p in TABLES} == set(checksums)
    for path in TABLES:
        assert f"| `{path.name}` |" in PROVENANCE
        assert hashlib.sha256(path.read_bytes()).hexdigest() == checksums[path.name], path.name


@pytest.mark.parametrize("name", UNCHANGED)
def test_unchanged_copies_equal_the_shared_originals(name: str, shared_dir: Path):
    original = shared_dir / "data" / "reference" / name.removesuffix(".gz")
    assert original.exists(), f"the shared data folder must sit beside the project: {original}"
    shipped = (DATA / name).read_bytes()
    if name.endswith(".gz"):
        shipped = gzip.decompress(shipped)
    assert shipped == original.read_bytes()
