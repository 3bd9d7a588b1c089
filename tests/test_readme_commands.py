"""The README is the manual: every `shuanglian ...` command of its main flows runs as shown.

The fenced ```bash blocks under "## Main flows" are read in order and each `shuanglian` line is
run (in-process, the real root app) against a scratch `SHUANGLIAN_HOME` on SQLite, from a
scratch folder laid out like a checkout (`demo/` and `../shared/` as the README uses them).
A command fails the test when it exits non-zero or prints a usage error.

Two kinds of step are not commands, each listed here with its reason:

- `SKIPPED`: commands that never return (a server). Keep this list tiny.
- `PERSON_STEPS`: what a person does between two commands (the README says so beside the
  command: inventors fill the self-assessment workbook, an enterprise fills its feedback
  workbook); the test does it with openpyxl, exactly as the files would come back.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from shuanglian.cli.main import app
from shuanglian.inventory.importers import ASSESSMENT_HEADERS, FEEDBACK_HEADERS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

SKIPPED = {
    "shuanglian serve": "serves until stopped; the web platform is tested in tests/web",
}


def _fill(path: Path, headers: dict[str, str], values: dict[str, object]) -> None:
    """Fill every data row of a workbook the platform wrote, as its reader would."""
    wb = load_workbook(path)
    ws = wb.active
    assert ws is not None
    names = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        for field, value in values.items():
            ws.cell(row=r, column=names.index(headers[field]) + 1, value=value)
    wb.save(path)


PERSON_STEPS: dict[str, Callable[[Path], None]] = {
    # "Excel the inventors fill"
    "shuanglian inventory assess template assess.xlsx": lambda cwd: _fill(
        cwd / "assess.xlsx",
        ASSESSMENT_HEADERS,
        {
            "publicly_funded": "是",
            "implementation_status": "未实施",
            "transfer_mode": "许可",
            "trl": 6,
            "value_grade": "高",
            "value_reason": "已有样机并完成中试",
            "scenarios": "无人机巡检",
            "contact_name": "王工",
        },
    ),
    # the enterprise fills in 产业化前景 and 合作意向
    "shuanglian inventory feedback template fb.xlsx": lambda cwd: _fill(
        cwd / "fb.xlsx", FEEDBACK_HEADERS, {"prospect": 4, "intent": "洽谈"}
    ),
}


def main_flow_commands(readme: str = README) -> list[str]:
    """Each `shuanglian` line of the bash blocks under "## Main flows", comments dropped."""
    section = readme.split("\n## Main flows", 1)[1]
    section = re.split(r"\n## (?!#)", section, maxsplit=1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "shuanglian":
                commands.append(shlex.join(words))
    return commands


def test_the_readme_shows_the_main_flows() -> None:
    commands = main_flow_commands()
    assert len(commands) >= 30
    for prefix in (*SKIPPED, *PERSON_STEPS):
        assert any(c.startswith(prefix) for c in commands), f"stale entry: {prefix}"


def test_every_main_flow_command_runs_as_shown(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    (cwd / "demo").symlink_to(ROOT / "demo")
    (tmp_path / "shared").symlink_to(shared_dir)
    monkeypatch.chdir(cwd)
    env = {
        "SHUANGLIAN_HOME": str(tmp_path / "home"),
        "SHUANGLIAN_DATABASE_URL": "",
        # `users create` prompts for the password; the prompt also reads this variable.
        "SHUANGLIAN_NEW_PASSWORD": "readme-flow-password",
    }
    runner = CliRunner()
    ran = 0
    for command in main_flow_commands():
        if any(command.startswith(prefix) for prefix in SKIPPED):
            continue
        result = runner.invoke(app, shlex.split(command)[1:], env=env)
        output = result.output
        usage_error = "Usage:" in output or "Traceback" in output
        assert result.exit_code == 0 and not usage_error, f"{command}\n{output}"
        ran += 1
        for prefix, step in PERSON_STEPS.items():
            if command.startswith(prefix):
                step(cwd)
    assert ran >= 30
