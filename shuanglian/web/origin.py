"""Where a request comes from and which address the site has: Host, proxies, absolute URLs.

* Forwarded headers (`X-Forwarded-For`, `X-Forwarded-Proto`) are believed only when the peer is
  one of `SHUANGLIAN_TRUSTED_PROXIES`; anyone else could put a new address in every request and
  walk past the per-client login and inquiry limits, or lock an account out for everyone
  behind a proxy that sends none.
* The Host header is checked against `SHUANGLIAN_ALLOWED_HOSTS` (and always when serving in
  production): links in e-mails, QR codes and card sheets must not carry an attacker's host.
* Every absolute URL is built by `site_url`: `SHUANGLIAN_PUBLIC_URL` when set.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shuanglian.config import Settings


def production_hosts(settings: Settings) -> list[str]:
    """Hosts a production server answers: the configured list, else the public URL's host,
    the bind address and the loopback names (a health check on the machine itself)."""
    hosts = settings.allowed_host_list
    if hosts:
        return hosts
    found = ["localhost", "127.0.0.1", settings.host]
    if settings.public_url:
        public = urlsplit(settings.public_url).hostname
        if public:
            found.insert(0, public)
    return [h for h in dict.fromkeys(found) if h and h != "0.0.0.0"]


def install_origin_checks(app: FastAPI, settings: Settings) -> None:
    """Host check (when hosts are configured), then forwarded headers from trusted proxies.

    Added last, so they run first: the proxy middleware rewrites the client address and scheme
    before anything (rate limits, the Host check, URL building) reads them.
    """
    hosts = settings.allowed_host_list
    if hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False)
    proxies = settings.trusted_proxy_list
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)


def site_url(request: Request) -> str:
    """The site's address for absolute links: `SHUANGLIAN_PUBLIC_URL`, else the request's own
    scheme and host (already checked against the allowed hosts when those are set)."""
    settings: Settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")
