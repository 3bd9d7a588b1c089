"""Which page views and QR scans count: once per visitor, listing and day; no bots, no previews.

View and scan counts rank the catalogue (`sort=popular`), choose what `/screen` shows and make
the "scans today" figure, so one client must not be able to move them by reloading. A visitor
is a hash of the client address and user agent; each counts once per listing per day (one
view and one scan) (Beijing
time), and one address counts at most `PER_ADDRESS_PER_DAY` visits a day in all (an exhibition
hall shares one Wi-Fi address, so the cap is not 1). Crawlers, link previews, prefetches and
the listing's own institution looking at its page are not visitors.

Kept in process memory, like the login and inquiry limits: one `shuanglian serve` process is
the deployment unit; a restart may count a visitor once more that day.
"""

from __future__ import annotations

import hashlib
import re
import threading

from fastapi import FastAPI
from starlette.requests import Request

from shuanglian.figures import today_in_china

PER_ADDRESS_PER_DAY = 50
MAX_REMEMBERED = 200_000  # visitor × listing keys kept per day (about 20 MB at worst)
# Crawlers, link unfurlers and scripted clients name themselves in the user agent.
BOT_AGENT = re.compile(
    r"bot|crawl|spider|slurp|preview|fetch|monitor|phantom|lighthouse|"
    r"facebookexternalhit|whatsapp|telegram|skype|curl|wget|python|httpx|aiohttp|java/|go-http|"
    r"okhttp|libwww|scrapy|node-fetch|axios",
    re.IGNORECASE,
)


class VisitCounter:
    """Decides, per request, whether a visit is new; remembers today's visitors only."""

    def __init__(self, *, per_address: int = PER_ADDRESS_PER_DAY) -> None:
        self.per_address = per_address
        self._lock = threading.Lock()
        self._day = ""
        self._seen: set[bytes] = set()
        self._per_address: dict[str, int] = {}

    def first_visit(self, *, address: str, agent: str, listing_id: int, kind: str) -> bool:
        """True the first time today this visitor opens this listing this way (a view or a
        scan), within the address cap."""
        day = today_in_china().isoformat()
        raw = f"{address}\0{agent}\0{listing_id}\0{kind}"
        key = hashlib.sha256(raw.encode()).digest()[:16]
        with self._lock:
            if day != self._day:
                self._day, self._seen, self._per_address = day, set(), {}
            if key in self._seen or len(self._seen) >= MAX_REMEMBERED:
                return False
            if self._per_address.get(address, 0) >= self.per_address:
                return False
            self._seen.add(key)
            self._per_address[address] = self._per_address.get(address, 0) + 1
            return True


def install(app: FastAPI) -> None:
    app.state.visit_counter = VisitCounter()


def is_automated(request: Request) -> bool:
    """A crawler, link preview or browser prefetch rather than a person opening the page."""
    agent = request.headers.get("user-agent", "")
    if not agent.strip() or BOT_AGENT.search(agent):
        return True
    purpose = (request.headers.get("sec-purpose") or request.headers.get("purpose") or "").lower()
    return "prefetch" in purpose or "prerender" in purpose


def should_count(
    request: Request, *, listing_id: int, source: str | None, own_listing: bool
) -> bool:
    """Whether this request is a new visit to count (see the module docstring)."""
    if own_listing or is_automated(request):
        return False
    counter: VisitCounter = request.app.state.visit_counter
    address = request.client.host if request.client else "unknown"
    return counter.first_visit(
        address=address,
        agent=request.headers.get("user-agent", ""),
        listing_id=listing_id,
        kind="scan" if source == "qr" else "view",
    )
