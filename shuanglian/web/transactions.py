"""One transaction per request, and side effects after the answer.

`request_transaction` is the unit of work of every route: the session dependency yields the
session to the handler, commits when the handler returned and rolls back when it raised. The
dependency is declared with `scope="function"` (see `web.deps.SessionDep`), so FastAPI runs
this exit code after the handler has built its response but *before* the response is sent:
a commit that fails becomes the site's error page or JSON error (the exception handlers see
it), and a redirect after a POST only leaves once the data it announces is stored.

Hooks registered with `db.after_commit` (notice e-mails, statistics refreshes, counters) run
only after that commit succeeded, and — through `AfterResponseMiddleware` — only after the
response has gone out, so a slow mail server never delays a visitor's page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shuanglian.db import defer_after_commit, run_hooks

# The scope key under which a request collects the hooks of its commit.
AFTER_RESPONSE = "shuanglian.after_response"

Hook = Callable[[], None]


class AfterResponseMiddleware:
    """Run the request's after-commit hooks once its response has been sent.

    Hooks arrive only from a successful commit, so they also run when sending the response
    failed (the client went away): the data is stored, and its e-mail must still go out.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hooks: list[Hook] = []
        scope[AFTER_RESPONSE] = hooks
        try:
            await self.app(scope, receive, send)
        finally:
            if hooks:
                await run_in_threadpool(run_hooks, hooks)


def request_transaction(request: Request, session: Session) -> Iterator[Session]:
    """Yield `session` for one request: commit after the handler, roll back if it raised.

    Without the middleware (an app built by hand in a test) hooks run right after the commit.
    """
    pending: list[Hook] | None = request.scope.get(AFTER_RESPONSE)
    if pending is not None:
        defer_after_commit(session, pending.extend)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        defer_after_commit(session, None)
