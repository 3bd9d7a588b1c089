"""The engine is pure: importing it must not pull in the database or the web."""

from __future__ import annotations

import subprocess
import sys

ENGINE_MODULES = [
    "shuanglian.engine",
    "shuanglian.engine.records",
    "shuanglian.engine.sparse",
    "shuanglian.engine.ipc",
    "shuanglian.engine.prior",
    "shuanglian.engine.fusion",
    "shuanglian.engine.matcher",
    "shuanglian.engine.index",
    "shuanglian.engine.evaluate",
    "shuanglian.engine.calibrate",
    "shuanglian.engine.reasons",
    "shuanglian.text.tokenize",
    "shuanglian.text.bilingual",
    "shuanglian.text.surface",
]


def test_engine_imports_neither_database_nor_web() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in ENGINE_MODULES)
        + "from shuanglian.engine.matcher import Matcher\n"
        + "from shuanglian.engine.records import Record\n"
        + "Matcher.build([Record('a', 'x', 'camera drone')]).search(Record('q', text='drone'))\n"
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        + "('sqlalchemy', 'fastapi', 'starlette', 'psycopg', 'jinja2'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
