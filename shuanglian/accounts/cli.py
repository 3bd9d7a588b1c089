"""`shuanglian users create`: accounts from the command line (the first admin, scripted setups)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shuanglian.accounts.service import create_user
from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, run_command, say
from shuanglian.config import Settings

commands = typer.Typer()  # merged into the root command
users_app = group("用户 (users)")
commands.add_typer(users_app, name="users")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[
        str,
        typer.Option(help="admin|institution_staff|enterprise_user|tech_manager|pilot_platform"),
    ],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="SHUANGLIAN_NEW_PASSWORD"
        ),
    ],
    institution: Annotated[str | None, typer.Option(help="Institution name (staff)")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise name or credit code")] = None,
    email: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """创建用户 (create a user; the password is stored as an argon2 hash)."""

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                institution_name=institution,
                enterprise_ref=enterprise,
                email=email,
            )
            return {"created": {"id": user.id, "username": user.username, "role": user.role}}

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"已创建用户 (user created): {username} ({role})")
