"""The composition point of the web: `create_app(settings)` builds everything.

Importing this module has no side effects; the engine and session factory are created inside
`create_app`, so tests can build as many isolated apps as they need.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from shuanglian.accounts import applications
from shuanglian.accounts.gate import HashGate
from shuanglian.accounts.passwords import limit_concurrent_hashing
from shuanglian.accounts.ratelimit import RateLimiter
from shuanglian.config import Settings, per_process
from shuanglian.db import make_engine, make_session_factory, refresh_statistics
from shuanglian.supermarket import inquiry_limits, visits
from shuanglian.supermarket.cards import SheetCache
from shuanglian.web.errors import install_error_handlers
from shuanglian.web.headers import PageHeadersMiddleware
from shuanglian.web.inflight import InFlightLimitMiddleware, in_flight_limit
from shuanglian.web.origin import install_origin_checks
from shuanglian.web.page_cache import AnonymousPageCache
from shuanglian.web.security import SESSION_MAX_AGE_S
from shuanglian.web.templating import STATIC_DIR
from shuanglian.web.transactions import AfterResponseMiddleware
from shuanglian.web.uploads import BodyLimitMiddleware, UploadLoginMiddleware

log = logging.getLogger("shuanglian.web")

SESSION_COOKIE = "sl_session"
MAX_BODY_BYTES = 2 * 1024 * 1024
LOGIN_WINDOW_S = 300.0


def _has_schema(engine: Engine) -> bool:
    """Whether `shuanglian init` has run (a server may start before it, and say so on pages)."""
    return inspect(engine).has_table("market_listings")


def create_app_from_env() -> FastAPI:
    """The app of one of several server processes (`SHUANGLIAN_WEB_WORKERS` > 1): each
    process reads its settings from the environment `shuanglian serve` prepared."""
    return create_app(Settings())


def create_app(settings: Settings) -> FastAPI:
    """Build the web application for `settings` (database, routes, errors, sessions)."""
    # Imported here so that `import shuanglian.web.app` stays cheap for the CLI.
    from shuanglian.accounts import api as accounts_api
    from shuanglian.accounts import pages as accounts_pages
    from shuanglian.challenges import api as challenges_api
    from shuanglian.challenges import pages as challenges_pages
    from shuanglian.dashboard import pages as dashboard_pages
    from shuanglian.deals import api as deals_api
    from shuanglian.deals import pages as deals_pages
    from shuanglian.enterprises import api as enterprises_api
    from shuanglian.enterprises import pages as enterprises_pages
    from shuanglian.inventory import api as inventory_api
    from shuanglian.inventory import pages as inventory_pages
    from shuanglian.patents import api as patents_api
    from shuanglian.patents import pages as patents_pages
    from shuanglian.pilots import api as pilots_api
    from shuanglian.pilots import pages as pilots_pages
    from shuanglian.reference import api as reference_api
    from shuanglian.supermarket import api as supermarket_api
    from shuanglian.supermarket import interest_api
    from shuanglian.supermarket import pages as supermarket_pages
    from shuanglian.web import bell
    from shuanglian.web import imports as web_imports
    from shuanglian.web import pages as web_pages

    settings = per_process(settings)  # one process's share of the connection pool
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Handlers and their database calls run in anyio's thread pool (40 threads unless
        # told): sized from the settings, with the connection pool sized to match.
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        if engine.dialect.name == "sqlite" and _has_schema(engine):
            # SQLite has no autovacuum to keep statistics; sampled, this takes milliseconds.
            # Best effort: a server must start even while an import holds the write lock.
            try:
                refresh_statistics(engine, wait_ms=200)
            except OperationalError as exc:
                log.warning("planner statistics not refreshed (database busy): %s", exc)
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="shuanglian 双链 API",
        version="1",
        description="专利 ↔ 企业 对接平台的 JSON API (patents ↔ enterprises matching platform).",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine, settings)
    app.state.login_limiter = RateLimiter()
    # Failed logins per client address across user names (a flood of random names).
    app.state.login_ip_limiter = RateLimiter(
        max_events=settings.login_ip_max_failures, window_s=LOGIN_WINDOW_S
    )
    app.state.hash_gate = HashGate(settings.password_hash_concurrency)
    # Printable card sheets: rendered ones are kept, new ones are rate-limited per client.
    app.state.card_sheets = SheetCache()
    app.state.card_sheet_limiter = RateLimiter(
        max_events=settings.cards_pdf_per_minute, window_s=60.0
    )
    limit_concurrent_hashing(settings.password_hash_concurrency)
    inquiry_limits.install(app)
    applications.install(app)
    visits.install(app)

    install_error_handlers(app)
    # After-commit hooks (notice e-mails, statistics) run once the response has been sent.
    app.add_middleware(AfterResponseMiddleware)
    # Forms and JSON here are small; only the workspace upload endpoints take files.
    app.add_middleware(BodyLimitMiddleware, settings=settings, default_limit=MAX_BODY_BYTES)
    # Outside the body limit, inside the session cookie: anonymous uploads end at the headers.
    app.add_middleware(UploadLoginMiddleware)
    # Outermost of these: requests beyond what threads and connections can serve wait here.
    app.add_middleware(
        InFlightLimitMiddleware,
        limit=in_flight_limit(
            threads=settings.web_threads,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        ),
    )

    # Anonymous catalogue pages kept a few seconds: served before they take a request slot.
    app.add_middleware(AnonymousPageCache, database=str(engine.url))
    # Safety headers, the sticky language and the NUL refusal, around every response.
    app.add_middleware(PageHeadersMiddleware)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    # Outermost: which Host is answered, and whose X-Forwarded-* is believed (web/origin.py).
    install_origin_checks(app, settings)

    for api_module in (
        patents_api,
        enterprises_api,
        inventory_api,
        supermarket_api,
        interest_api,
        accounts_api,
        reference_api,
        deals_api,
        challenges_api,
        pilots_api,
    ):
        app.include_router(api_module.router, prefix="/api/v1")
    app.include_router(bell.api_router, prefix="/api/v1")
    for page_module in (
        web_pages,
        accounts_pages,
        patents_pages,
        inventory_pages,
        enterprises_pages,
        supermarket_pages,
        web_imports,
        deals_pages,
        challenges_pages,
        pilots_pages,
        dashboard_pages,
        bell,
    ):
        app.include_router(page_module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    return app
