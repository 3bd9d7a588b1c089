"""Run every benchmark script in this folder in turn; each writes benchmarks/results/<name>.json.

Usage: `.venv/bin/python benchmarks/run_all.py [name ...]` (names without `.py`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run_all.py", "corpus.py", "__init__.py", "scale_data.py", "locustfile.py"}


def main(names: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP)
    if names:
        scripts = [p for p in scripts if p.stem in names]
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=HERE.parent) != 0:
            failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
