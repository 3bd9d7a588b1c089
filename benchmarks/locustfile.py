"""Locust visitors of the technology supermarket (issue 5): catalogue pages and searches.

Run by `benchmarks/web_load.py`, or by hand against any running server:

    SL_BENCH_TERMS=benchmarks/work/scale/<key>/terms.json SL_BENCH_LISTINGS=100000 \
    .venv/bin/locust -f benchmarks/locustfile.py --headless -u 20 -r 20 -t 60s \
        --host http://127.0.0.1:8000 --csv /tmp/web

Each simulated visitor waits SL_BENCH_WAIT seconds between pages ("1,2": a person reading;
"0,0": back-to-back, which measures the server's saturated throughput). Request names are the
endpoint shapes reported in the results (one row each):

    catalogue          /market?page=N            newest first; pages 1–50, early pages likelier
    catalogue filtered /market?mode=&trl_min=... one to three filters and a sort
    search             /market?q=term            a real word: English common/rare, Chinese
    api catalogue      /api/v1/listings?offset=  the JSON equivalent of the catalogue
    api search         /api/v1/listings?q=term   the JSON equivalent of the search
    listing            /market/{id}              a detail page (counts a view: one write)
"""

from __future__ import annotations

import json
import os
import random
from functools import cache
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
