"""The package's shape: no import cycles, and the CLI only where CLIs belong.

The cycle check reads the source with `ast` (`shuanglian.dev.cycles`, also runnable as
`python -m shuanglian.dev.cycles`). It counts imports anywhere in a module, function-local ones
included (a local import that dodges a cycle still couples both modules), and those under
`if TYPE_CHECKING:` (an annotation naming a module above is the same upward dependence).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shuanglian.cli.main import DOMAIN_CLIS
from shuanglian.dev.cycles import PACKAGE_ROOT, find_cycles, import_graph, module_names


def test_no_import_cycle_in_the_package() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_check_finds_cycles_hidden_in_a_function_or_a_type_checking_block(
    tmp_path: Path,
) -> None:
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def f():\n    from . import a\n    return a\n",
            "pkg/c.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import d\n",
            "pkg/d.py": "import pkg.c\n",
        },
    )
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.a"} and graph["pkg.c"] == {"pkg.d"}
    assert sorted(find_cycles(graph)) == [["pkg.a", "pkg.b", "pkg.a"], ["pkg.c", "pkg.d", "pkg.c"]]


def test_importing_a_submodule_runs_its_package_init(tmp_path: Path) -> None:
    """`domain/cli.py` → `tool.kit` runs `tool/__init__`; if that imports the domain: a cycle."""
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/tool/__init__.py": "from pkg.tool.kit import x\nfrom pkg.domain import cli\n",
            "pkg/tool/kit.py": "x = 1\n",
            "pkg/domain/__init__.py": "",
            "pkg/domain/cli.py": "from pkg.tool.kit import x\n",
        },
    )
    graph = import_graph(pkg)
    assert "pkg.tool" in graph["pkg.domain.cli"]
    assert "pkg.tool" not in graph["pkg.tool.kit"]  # a package's own modules: no edge
    assert find_cycles(graph) == [["pkg.domain.cli", "pkg.tool", "pkg.domain.cli"]]


def test_the_one_liner_reports_no_cycle() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "shuanglian.dev.cycles"],
        capture_output=True,
        text=True,
        cwd=PACKAGE_ROOT.parent,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("no import cycles")


def test_every_domain_cli_is_mounted() -> None:
    """A domain's `cli.py` that nobody mounts would be commands nobody can run."""
    domain_clis = {
        name for name in module_names() if name.endswith(".cli") and name != "shuanglian.cli"
    }
    assert domain_clis == {m.__name__ for m in DOMAIN_CLIS}


def test_only_the_cli_layer_imports_the_cli() -> None:
    """Services, pages and the demo seed never import Typer or the CLI kit."""
    graph = import_graph()
    offenders = sorted(
        name
        for name, deps in graph.items()
        if any(d == "shuanglian.cli" or d.startswith("shuanglian.cli.") for d in deps)
        and not (name.endswith(".cli") or name.startswith("shuanglian.cli."))
    )
    assert offenders == []
    typer_users = sorted(
        name
        for name, path in module_names().items()
        if "import typer" in path.read_text(encoding="utf-8")
        and not (name.endswith(".cli") or name.startswith("shuanglian.cli."))
    )
    assert typer_users == []
