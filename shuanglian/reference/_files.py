"""Open the reference tables shipped in `shuanglian/reference/data/`.

Reading goes through `importlib.resources` so the tables are found in a wheel, a zip import or an
editable checkout alike. Gzipped tables (name ends in `.gz`) are decompressed on the fly.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from importlib import resources

DATA_PACKAGE = "shuanglian.reference.data"


def read_table(name: str) -> Iterator[dict[str, str]]:
    """Yield the rows of a shipped CSV table as dicts (header row gives the keys)."""
    raw = resources.files(DATA_PACKAGE).joinpath(name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    # utf-8-sig: the WIPO table starts with a byte-order mark that would otherwise end up in
    # the first column's name.
    text = raw.decode("utf-8-sig")
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    # Plain reader + zip: csv.DictReader costs twice as much on the 8,800-row titles table.
    for row in rows:
        if row:
            yield dict(zip(header, row, strict=False))
