"""The README is the manual: every setting and every CLI command must be documented there."""

from __future__ import annotations

from pathlib import Path

import typer.main

from shuanglian.cli.main import app
from shuanglian.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_configuration_table():
    missing = [
        f"SHUANGLIAN_{name.upper()}"
        for name in Settings.model_fields
        if f"`SHUANGLIAN_{name.upper()}`" not in README
    ]
    assert missing == []


def _command_paths(group, prefix=()):  # type: ignore[no-untyped-def]
    for name, cmd in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        if getattr(cmd, "commands", None):
            yield from _command_paths(cmd, path)
        else:
            yield " ".join(path)


def test_every_cli_command_is_in_the_readme():
    click_app = typer.main.get_command(app)
    missing = [p for p in _command_paths(click_app) if f"shuanglian {p}" not in README]
    assert missing == []
