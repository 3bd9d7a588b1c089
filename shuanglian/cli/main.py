"""The root `shuanglian` command: platform commands (init, stats, serve, demo) + the domains.

Each domain's `cli.py` may define two Typer apps, both merged here by `mount`:

- `commands`: its top-level commands and groups (`shuanglian inventory ...`, `shuanglian eval`);
- `imports`: its `shuanglian import KIND` commands (`import patents`, `import demands`).

Adding a domain's CLI is one entry in `DOMAIN_CLIS` (and its import line).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Annotated, Any

import typer

from shuanglian.accounts import cli as accounts_cli
from shuanglian.challenges import cli as challenges_cli
from shuanglian.cli.kit import JsonOpt, emit_json, group, open_session, run_command, say
from shuanglian.config import DEFAULT_SECRET_KEY, Settings, get_settings
from shuanglian.dashboard import cli as dashboard_cli
from shuanglian.db import make_engine
from shuanglian.dbcheck import cli as dbcheck_cli
from shuanglian.deals import cli as deals_cli
from shuanglian.enterprises import cli as enterprises_cli
from shuanglian.inventory import cli as inventory_cli
from shuanglian.matching import cli as matching_cli
from shuanglian.patents import cli as patents_cli
from shuanglian.pilots import cli as pilots_cli
from shuanglian.supermarket import cli as supermarket_cli

app = typer.Typer(help="双链 shuanglian — 创新链与产业链对接平台", no_args_is_help=True)
import_app = typer.Typer(help="导入专利、企业、需求 (import patents, enterprises, demands)")
demo_app = group("演示数据 (demo data)")
app.add_typer(import_app, name="import")
app.add_typer(demo_app, name="demo")

# One line per domain: its `commands` join the root, its `imports` join `shuanglian import`.
DOMAIN_CLIS: tuple[ModuleType, ...] = (
    patents_cli,
    enterprises_cli,
    accounts_cli,
    matching_cli,
    inventory_cli,
    deals_cli,
    challenges_cli,
    pilots_cli,
    supermarket_cli,
    dbcheck_cli,
    dashboard_cli,
)


def mount(module: ModuleType) -> None:
    """Merge a domain CLI module's `commands` into the root and `imports` into `import`."""
    commands = getattr(module, "commands", None)
    imports = getattr(module, "imports", None)
    if commands is None and imports is None:
        raise TypeError(f"{module.__name__} defines neither `commands` nor `imports`")
    if commands is not None:
        app.add_typer(commands)
    if imports is not None:
        import_app.add_typer(imports)


for _module in DOMAIN_CLIS:
    mount(_module)


# --------------------------------------------------------------------------- platform commands


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """创建或升级数据库并检查参考数据 (create or upgrade the database, check reference data)."""
    from shuanglian.migrate import upgrade_database
    from shuanglian.reference import summary

    def do(settings: Settings) -> dict[str, Any]:
        engine = make_engine(settings)
        try:
            before, after = upgrade_database(engine)
            url = engine.url.render_as_string(hide_password=True)
        finally:
            engine.dispose()
        return {
            "database": url,
            "revision_before": before,
            "revision": after,
            "reference": summary(),
        }

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        say(f"数据库已就绪 (database ready): {result['database']} @ {result['revision']}")
        for name, count in result["reference"].items():
            say(f"  参考数据 {name}: {count}")


@app.command()
def stats(as_json: JsonOpt = False) -> None:
    """数据概况 (counts of what is in the database)."""
    from shuanglian.figures import database_counts

    def do(settings: Settings) -> dict[str, int]:
        with open_session(settings) as session:
            return database_counts(session)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
    else:
        for name, count in result.items():
            say(f"{name}: {count}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Demo mode: generate a secret key into HOME and answer any Host (make demo)",
        ),
    ] = False,
) -> None:
    """启动网站与 API (serve the web platform and the JSON API).

    Production mode is every `serve` without `--demo` (and without SHUANGLIAN_DEMO=true): it
    refuses the default secret key and answers only the allowed Host names.
    """
    # Imported when serving: the web stack is not needed to run any other command.
    import uvicorn

    from shuanglian.web.app import create_app
    from shuanglian.web.origin import production_hosts

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    if demo or settings.demo:
        settings = settings.model_copy(
            update={"demo": True, "secret_key": demo_secret_key(settings)}
        )
    else:
        if settings.secret_key == DEFAULT_SECRET_KEY:
            typer.echo(
                "拒绝启动：SHUANGLIAN_SECRET_KEY 仍是默认值，任何人都能伪造登录。"
                "请设置一个随机密钥，或用 `shuanglian serve --demo` 启动演示 "
                "(refusing to start: SHUANGLIAN_SECRET_KEY "
                "is the public default, with which anyone can forge a login cookie; set a random "
                'key, e.g. python -c "import secrets; print(secrets.token_urlsafe(32))", or run '
                "the demo with `shuanglian serve --demo`).",
                err=True,
            )
            raise typer.Exit(2)
        settings = settings.model_copy(update={"host": host})
        settings = settings.model_copy(
            update={"allowed_hosts": ",".join(production_hosts(settings))}
        )
        say(f"只应答这些主机名 (answering Host): {settings.allowed_hosts}")
    qr = settings.public_url or f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
    say(
        f"二维码与短链接指向 (QR codes and short URLs carry): {qr.rstrip('/')}/market/…  — "
        "要让访客手机扫码打开，请设置 SHUANGLIAN_PUBLIC_URL=http://<本机局域网地址>:"
        f"{port} 并设 SHUANGLIAN_HOST=0.0.0.0 (for visitors' phones set SHUANGLIAN_PUBLIC_URL "
        "to this PC's LAN address and SHUANGLIAN_HOST=0.0.0.0)"
    )
    # Forwarded headers are handled inside the app, from SHUANGLIAN_TRUSTED_PROXIES only.
    served = {"host": host, "port": port, "log_level": "info", "proxy_headers": False}
    if settings.web_workers == 1:
        uvicorn.run(create_app(settings), **served)  # type: ignore[arg-type]
        return
    # Several processes: each builds its app from the environment, so hand it what was
    # decided here (the demo's key, the Host names answered).
    os.environ.update({
        "SHUANGLIAN_SECRET_KEY": settings.secret_key,
        "SHUANGLIAN_HOST": host,
        "SHUANGLIAN_DEMO": "true" if settings.demo else "false",
        "SHUANGLIAN_ALLOWED_HOSTS": settings.allowed_hosts,
    })  # fmt: skip
    say(f"{settings.web_workers} 个服务进程 (server processes)")
    uvicorn.run(
        "shuanglian.web.app:create_app_from_env",
        factory=True,
        workers=settings.web_workers,
        **served,  # type: ignore[arg-type]
    )


def demo_secret_key(settings: Settings) -> str:
    """The demo's own secret key: the configured one if set, else one generated once into
    `HOME/secret_key` (so demo logins survive a restart and no two demos share a key)."""
    if settings.secret_key != DEFAULT_SECRET_KEY:
        return settings.secret_key
    import secrets

    path = settings.home / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key


@demo_app.command("seed")
def demo_seed(as_json: JsonOpt = False) -> None:
    """填充演示数据：用户、盘点入库、推送、反馈、超市上架 (seed the demo; safe to re-run)."""
    from shuanglian.demo import DEMO_PASSWORD, seed_demo

    def do(settings: Settings) -> dict[str, Any]:
        with open_session(settings) as session:
            return seed_demo(session, settings=settings)

    result = run_command(as_json, do)
    if as_json:
        emit_json(result)
        return
    new = "，".join(f"{k} {v}" for k, v in result["created"].items() if v) or "无 (nothing)"
    say(f"本次新增 (created): {new}")
    totals = result["totals"]
    say(
        f"资源库 pool {totals['pool']} · 待审核 awaiting review {totals['awaiting_review']} · "
        f"推送 pushes {totals['pushes']} · 反馈 feedback {totals['feedback']} · "
        f"上架 listings {totals['listings_published']}"
    )
    say(
        f"演示账号 (demo logins): {', '.join(result['login']['users'])} — "
        f"密码 (password) {DEMO_PASSWORD}"
    )


def main() -> None:  # pragma: no cover - console entry point
    """The console script (`shuanglian` in pyproject.toml)."""
    app()
