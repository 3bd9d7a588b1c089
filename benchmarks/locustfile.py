"""Locust visitors of the technology supermarket (issue 5): catalogue pages and searches.

Run by `benchmarks/web_load.py`, or by hand against any running server:

    SL_BENCH_TERMS=benchmarks/work/scale/<key>/terms.json SL_BENCH_LISTINGS=100000 \
    .venv/bin/locust -f benchmarks/locustfile.py --headless -u 20 -r 20 -t 60s \
        --host http://127.0.0.1:8000 --csv /tmp/web Visitor

Each simulated visitor waits SL_BENCH_WAIT seconds between pages ("1,2": a person reading;
"0,0": back-to-back, which measures the server's saturated throughput). Request names are the
endpoint shapes reported in the results (one row each):

    catalogue          /market?page=N            newest first; pages 1–50, early pages likelier
    catalogue filtered /market?mode=&trl_min=... one to three filters and a sort
    search             /market?q=term            a real word: English common/rare, Chinese
    api catalogue      /api/v1/listings?offset=  the JSON equivalent of the catalogue
    api search         /api/v1/listings?q=term   the JSON equivalent of the search
    listing            /market/{id}              a detail page (counts a view: one write)

`Member` (run by `benchmarks/web_load_during_import.py`, named on locust's command line so the
catalogue runs keep only `Visitor`) is a signed-in user of an institution or an enterprise:
it logs in (argon2 check, a session row and an audit entry: writes), browses its workspace,
the patent list and search, the catalogue and the API, and every few pages logs out and in
again. Accounts come from SL_BENCH_ACCOUNTS ("name:password,name:password,..."); a login that
does not end signed in is a failure.

    login              GET /login, POST /login   (and POST /logout before the next login)
    home, workspace, patents, patent search, patent, api patents, market, dashboard
"""

from __future__ import annotations

import json
import os
import random
import re
from functools import cache
from itertools import count
from pathlib import Path
from urllib.parse import urlencode

from locust import HttpUser, task

MODES = ("transfer", "licence", "open_licence", "equity", "joint_dev")
SORTS = ("newest", "popular", "price_asc", "trl")
# Share of searches drawn from each term list of terms.json (common words dominate real
# search logs; rare words and Chinese industry names force a scan to the end of the table).
TERM_MIX = (("en_common", 4), ("en_rare", 2), ("zh_title", 2), ("zh_industry", 2))


@cache
def config() -> tuple[dict[str, list[str]], int, tuple[float, float]]:
    """(terms, number of listings, think time range) from the environment, read once."""
    terms_path = os.environ.get("SL_BENCH_TERMS")
    if not terms_path:
        raise RuntimeError("设置 SL_BENCH_TERMS 为 terms.json 的路径 (set SL_BENCH_TERMS)")
    terms = json.loads(Path(terms_path).read_text(encoding="utf-8"))
    listings = int(os.environ.get("SL_BENCH_LISTINGS", "1000"))
    low, high = (float(x) for x in os.environ.get("SL_BENCH_WAIT", "1,2").split(","))
    return terms, listings, (low, high)


def pick_term(rng: random.Random, terms: dict[str, list[str]]) -> str:
    """One search term, drawn list by list with TERM_MIX weights (empty lists skipped)."""
    lists = [(terms.get(name) or [], weight) for name, weight in TERM_MIX]
    lists = [(words, weight) for words, weight in lists if words]
    words = rng.choices([w for w, _ in lists], [wt for _, wt in lists])[0]
    return rng.choice(words)


def pick_page(rng: random.Random, last: int = 50) -> int:
    """A catalogue page: visitors mostly look at the first pages, some go deep."""
    return min(last, 1 + int(rng.expovariate(1 / 6)))


def pick_filters(rng: random.Random, terms: dict[str, list[str]]) -> dict[str, str]:
    """One to three catalogue filters, with a sort order."""
    choices = {
        "mode": lambda: rng.choice(MODES),
        "trl_min": lambda: str(rng.randint(3, 8)),
        "industry": lambda: rng.choice(terms.get("industries") or ["C39"]),
        "region": lambda: rng.choice(terms.get("regions") or ["北京"]),
        "tech_field": lambda: rng.choice(terms.get("tech_fields") or ["Transport"]),
        "price_max": lambda: str(rng.choice((50, 100, 500, 1000))),
    }
    names = rng.sample(sorted(choices), rng.randint(1, 3))
    params = {name: choices[name]() for name in names}
    params["sort"] = rng.choice(SORTS)
    return params


class Visitor(HttpUser):
    """A member of the public browsing the supermarket."""

    def on_start(self) -> None:
        self.rng = random.Random()
        self.terms, self.listings, self.wait = config()

    def wait_time(self) -> float:
        return self.rng.uniform(*self.wait)

    @task(4)
    def catalogue(self) -> None:
        self.client.get(f"/market?page={pick_page(self.rng)}", name="catalogue")

    @task(2)
    def catalogue_filtered(self) -> None:
        params = pick_filters(self.rng, self.terms)
        self.client.get("/market?" + urlencode(params), name="catalogue filtered")

    @task(4)
    def search(self) -> None:
        query = urlencode({"q": pick_term(self.rng, self.terms)})
        self.client.get(f"/market?{query}", name="search")

    @task(1)
    def api_catalogue(self) -> None:
        offset = (pick_page(self.rng) - 1) * 24
        self.client.get(f"/api/v1/listings?offset={offset}", name="api catalogue")

    @task(2)
    def api_search(self) -> None:
        query = urlencode({"q": pick_term(self.rng, self.terms)})
        self.client.get(f"/api/v1/listings?{query}", name="api search")

    @task(1)
    def listing(self) -> None:
        # Draft and withdrawn listings answer 404: expected, not a failure of the server.
        with self.client.get(
            f"/market/{self.rng.randint(1, self.listings)}", name="listing", catch_response=True
        ) as response:
            if response.status_code in (200, 404):
                response.success()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_next_account = count()


@cache
def accounts() -> list[tuple[str, str]]:
    """(username, password) pairs from SL_BENCH_ACCOUNTS, read once."""
    raw = os.environ.get("SL_BENCH_ACCOUNTS", "")
    pairs = [tuple(item.split(":", 1)) for item in raw.split(",") if ":" in item]
    if not pairs:
        raise RuntimeError("设置 SL_BENCH_ACCOUNTS (set SL_BENCH_ACCOUNTS=name:password,...)")
    return [(name, password) for name, password in pairs]


class Member(HttpUser):
    """A signed-in user: logs in, browses, logs out and in again every few pages."""

    def on_start(self) -> None:
        self.rng = random.Random()
        self.terms, self.patents, self.wait = config()
        pairs = accounts()
        self.username, self.password = pairs[next(_next_account) % len(pairs)]
        self.pages = 0
        self.signed_in = False
        self.login()

    def wait_time(self) -> float:
        return self.rng.uniform(*self.wait)

    def _csrf(self, path: str, name: str) -> str | None:
        with self.client.get(path, name=name, catch_response=True) as response:
            found = _CSRF.search(response.text or "")
            if response.status_code != 200 or not found:
                response.failure(f"no form token on {path} ({response.status_code})")
                return None
            return found.group(1)

    def login(self) -> None:
        if self.signed_in:
            token = self._csrf("/account", "account")
            if token is None:
                return
            self.client.post("/logout", data={"csrf_token": token}, name="logout")
            self.signed_in = False
        token = self._csrf("/login", "login form")
        if token is None:
            return
        form = {"csrf_token": token, "username": self.username, "password": self.password}
        with self.client.post("/login", data=form, name="login", catch_response=True) as response:
            if response.status_code != 200 or response.url.rstrip("/").endswith("/login"):
                response.failure(f"login did not sign in ({response.status_code})")
                return
        self.signed_in = True

    def page(self, path: str, name: str, *, allow_404: bool = False) -> None:
        self.pages += 1
        with self.client.get(path, name=name, catch_response=True) as response:
            if allow_404 and response.status_code == 404:
                response.success()
            elif response.url.split("?")[0].endswith("/login"):
                response.failure(f"signed out: {path} went to /login")
        if self.pages % 8 == 0:
            self.login()

    @task(3)
    def home(self) -> None:
        self.page("/", "home")

    @task(3)
    def workspace(self) -> None:
        self.page("/workspace/institution", "workspace")

    @task(4)
    def patents(self) -> None:
        self.page(f"/patents?page={pick_page(self.rng, 20)}", "patents")

    @task(3)
    def patent_search(self) -> None:
        self.page("/patents?" + urlencode({"q": pick_term(self.rng, self.terms)}), "patent search")

    @task(2)
    def patent(self) -> None:
        self.page(f"/patents/{self.rng.randint(1, self.patents)}", "patent", allow_404=True)

    @task(2)
    def api_patents(self) -> None:
        query = urlencode({"q": pick_term(self.rng, self.terms)})
        self.page(f"/api/v1/patents?{query}", "api patents")

    @task(2)
    def market(self) -> None:
        self.page(f"/market?page={pick_page(self.rng, 5)}", "market")

    @task(1)
    def dashboard(self) -> None:
        self.page("/dashboard", "dashboard")
