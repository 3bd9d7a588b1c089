"""`shuanglian users create`: accounts from the command line (the first admin, scripted setups)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shuanglian.accounts.service import create_user
from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, run_command, say
from shuanglian.config import Settings
from shuanglian.errors import DomainError
from shuanglian.inventory.models import REVIEW_LEVELS
from shuanglian.labels import label

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
    institution: Annotated[
        str | None, typer.Option(help="机构名称，须已存在 (institution name; must exist)")
    ] = None,
    create_institution: Annotated[
        bool,
        typer.Option(
            "--create-institution",
            help="机构不存在时新建 (create the institution when it does not exist)",
        ),
    ] = False,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise name or credit code")] = None,
    email: Annotated[str | None, typer.Option()] = None,
    reviewer: Annotated[
        str | None,
        typer.Option(
            help="同时指定为审核人：institution（单位审核）或 college（院系审核，需 --college） "
            "(also appoint as reviewer: institution or college)"
        ),
    ] = None,
    college: Annotated[
        str | None,
        typer.Option(help="院系名称，院系审核人须给出；不存在时新建 (college name)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """创建用户 (create a user; the password is stored as an argon2 hash)."""

    def do(settings: Settings) -> dict[str, Any]:
        from shuanglian.inventory.service import assign_reviewer, create_college, list_colleges

        if reviewer is not None and reviewer not in REVIEW_LEVELS:
            raise DomainError(
                "--reviewer 须为 institution（单位审核人）或 college（院系审核人） "
                "(--reviewer: institution or college)",
                field="reviewer",
            )
        if reviewer == "college" and not (college or "").strip():
            raise DomainError("院系审核人须用 --college 给出院系名称 (give --college)")
        with open_session(settings) as session:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                institution_name=institution,
                enterprise_ref=enterprise,
                email=email,
                college=college,
                create_institution=create_institution,
            )
            out: dict[str, Any] = {
                "created": {"id": user.id, "username": user.username, "role": user.role}
            }
            if reviewer is not None:
                if user.institution_id is None:
                    raise DomainError(
                        "审核人须为机构工作人员：请给出 --role institution_staff 与 --institution "
                        "(a reviewer must be institution staff)"
                    )
                college_id = None
                if reviewer == "college":
                    name = (college or "").strip()
                    found = [
                        c
                        for c in list_colleges(session, institution_id=user.institution_id)
                        if c.name == name
                    ]
                    college_id = (
                        found[0].id
                        if found
                        else create_college(
                            session, actor=None, institution_id=user.institution_id, name=name
                        ).id
                    )
                row = assign_reviewer(
                    session,
                    actor=None,
                    user_id=user.id,
                    institution_id=user.institution_id,
                    level=reviewer,
                    college_id=college_id,
                )
                out["reviewer"] = {
                    "level": reviewer,
                    "level_label": REVIEW_LEVELS[reviewer][0],
                    "college": college if reviewer == "college" else None,
                    "assignment_id": row.id,
                }
            return out

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    say(f"已创建用户 (user created): {username}（{label('role', role)}）")
    if "reviewer" in result:
        r = result["reviewer"]
        where = f"（{r['college']}）" if r["college"] else ""
        say(f"已指定为{r['level_label']}{where} (appointed reviewer)")
