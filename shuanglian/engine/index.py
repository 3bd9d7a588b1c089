"""The index on disk: memory-mappable arrays in versioned folders behind an atomic pointer.

Layout under `root/<name>/`:

    segments/<seg>/      one immutable segment: bm25_{data,indices,indptr}.npy (terms × docs),
                         ipc_{data,indices,indptr}.npy (docs × IPC tokens), ids.npy, industry.npy,
                         dense.npy (docs × dim float16 vectors, when built with an encoder),
                         the main segment's senses_vectors.npy + senses_terms.json
                         (engine.senses: its Chinese words' vectors; meta.json "senses" says
                         whether it has any)
    versions/<ver>/      manifest.json (format, counts, stats, params, segment list, file sizes
                         and sha256), terms.json, ipc_terms.json, idf.npy, tombstones.npy
    current              the name of the live version (replaced atomically with os.replace)

Why this shape: a rebuild or an incremental add writes new folders first and flips `current`
last, so readers never see a half-written index and never wait; segments are shared between
versions, so adding 100 documents to a 1M-document index writes only the new small segment.
Loading maps the arrays (`np.load(mmap_mode='r')`), so a large index opens in milliseconds and
pages in on demand. The manifest's `dense` ({"encoder": name, "dim": width}, or null) says which
encoder made the stored vectors (`shuanglian.engine.dense_store`); an index without the key is
an index without vectors, so older indexes load unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from shuanglian.engine.dense_store import DENSE_DTYPE
from shuanglian.engine.fusion import FusionParams
from shuanglian.engine.matcher import Matcher, Segment
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.senses import SenseSpace
from shuanglian.engine.sparse import DocTerms

FORMAT_VERSION = 1
KEEP_VERSIONS = 3
_REBUILD_HINT = "请运行 `shuanglian index build` 重建索引 (run `shuanglian index build`)"


class IndexMissing(FileNotFoundError):
    """No index has been built at this location yet."""


class IndexCorrupt(RuntimeError):
    """An index file is missing, truncated or does not match its manifest."""


def _index_dtype(*arrays: np.ndarray) -> type[np.integer[Any]]:
    # scipy wants indices and indptr of one integer type; int32 halves the size and is enough
    # below 2**31 non-zeros (~40M documents of 50 terms).
    top = max((int(a.max(initial=0)) for a in arrays), default=0)
    return np.int32 if top < 2**31 - 1 else np.int64


def _write_csr(folder: Path, prefix: str, mat: sp.csr_matrix) -> dict[str, Any]:
    itype = _index_dtype(mat.indices, mat.indptr)
    np.save(folder / f"{prefix}_data.npy", np.asarray(mat.data, dtype=np.float32))
    np.save(folder / f"{prefix}_indices.npy", np.asarray(mat.indices, dtype=itype))
    np.save(folder / f"{prefix}_indptr.npy", np.asarray(mat.indptr, dtype=itype))
    return {"shape": list(mat.shape)}


def _read_csr(folder: Path, prefix: str, shape: list[int], mmap: bool) -> sp.csr_matrix:
    mode: Literal["r"] | None = "r" if mmap else None
    data = np.load(folder / f"{prefix}_data.npy", mmap_mode=mode)
    indices = np.load(folder / f"{prefix}_indices.npy", mmap_mode=mode)
    indptr = np.load(folder / f"{prefix}_indptr.npy", mmap_mode=mode)
    return sp.csr_matrix((data, indices, indptr), shape=tuple(shape))


def _read_senses(folder: Path, mmap: bool) -> SenseSpace:
    vectors = np.load(folder / "senses_vectors.npy", mmap_mode="r" if mmap else None)
    words = json.loads((folder / "senses_terms.json").read_text(encoding="utf-8"))
    if vectors.shape[0] != len(words):
        raise ValueError(f"senses_vectors.npy has {vectors.shape[0]} rows for {len(words)} words")
    return SenseSpace(vectors=vectors, rows={w: i for i, w in enumerate(words)})


def _str_array(values: list[str]) -> np.ndarray:
    width = max((len(v) for v in values), default=1) or 1
    return np.asarray(values, dtype=f"<U{width}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_table(base: Path, folders: list[Path]) -> dict[str, dict[str, Any]]:
    table = {}
    for folder in folders:
        for f in sorted(folder.iterdir()):
            rel = f.relative_to(base).as_posix()
            table[rel] = {"size": f.stat().st_size, "sha256": _sha256(f)}
    return table


def _write_segment(base: Path, seg: Segment, *, senses: Matcher | None = None) -> str:
    """A new segment folder; `senses`: the matcher whose main segment this is, whose sense
    space (`engine.senses`) is stored beside it."""
    key = f"seg-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
    tmp = base / "segments" / f".tmp-{key}"
    tmp.mkdir(parents=True)
    meta: dict[str, Any] = {
        "docs": len(seg),
        "bm25": _write_csr(tmp, "bm25", seg.bm25),
        "ipc": _write_csr(tmp, "ipc", seg.ipc),
    }
    if senses is not None:
        # Built here once, not by every process on its first English query (a bulk worker
        # built one per index: +280 MB each at 100k; the web's first query waited 0.5-2 s).
        space = senses.sense_space()
        meta["senses"] = space is not None
        if space is not None:
            np.save(tmp / "senses_vectors.npy", np.asarray(space.vectors, dtype=np.float32))
            words = sorted(space.rows, key=space.rows.__getitem__)
            (tmp / "senses_terms.json").write_text(json.dumps(words, ensure_ascii=False), "utf-8")
    if seg.doc_terms is not None and seg.doc_crc is not None:
        # The documents as queries (for the bulk job): optional, older indexes lack them.
        itype = _index_dtype(seg.doc_terms.indptr)
        np.save(tmp / "doc_terms_indptr.npy", np.asarray(seg.doc_terms.indptr, dtype=itype))
        np.save(tmp / "doc_terms_terms.npy", np.asarray(seg.doc_terms.terms, dtype=np.int32))
        np.save(tmp / "doc_terms_counts.npy", np.asarray(seg.doc_terms.counts, dtype=np.int32))
        np.save(tmp / "doc_crc.npy", np.asarray(seg.doc_crc, dtype=np.uint32))
    if seg.dense is not None:
        np.save(tmp / "dense.npy", np.ascontiguousarray(seg.dense, dtype=DENSE_DTYPE))
        meta["dense"] = {"dim": int(seg.dense.shape[1])}
    np.save(tmp / "ids.npy", _str_array(seg.ids))
    np.save(tmp / "industry.npy", _str_array(seg.industry))
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, base / "segments" / key)
    return key


def save_index(matcher: Matcher, root: Path, *, name: str) -> Path:
    """Write `matcher` as a new version of index `name` under `root` and make it current.

    Segments already on disk (from `load_index`) are reused, so saving after `add`/`remove`
    writes only the new delta and the tombstones. Returns the version folder.
    """
    base = Path(root) / name
    dense = None
    if matcher.dense_encoder is not None:
        missing = [s for s in matcher.segments if s.dense is None or len(s.dense) != len(s)]
        if missing:
            raise ValueError(
                f"{len(missing)} 个段缺少语义向量 (segments without dense vectors) in an index "
                f"of encoder {matcher.dense_encoder}"
            )
        dense = {"encoder": matcher.dense_encoder, "dim": int(matcher.segments[0].dense.shape[1])}  # type: ignore[union-attr]
    (base / "segments").mkdir(parents=True, exist_ok=True)
    (base / "versions").mkdir(parents=True, exist_ok=True)
    keys = []
    for n, seg in enumerate(matcher.segments):
        key = seg.key
        if not key or not (base / "segments" / key).is_dir():
            key = _write_segment(base, seg, senses=matcher if n == 0 else None)
            seg.key = key
        keys.append(key)
    # Nanosecond stamp first: names sort in creation order (garbage collection relies on it).
    ver = f"v-{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
    tmp = base / "versions" / f".tmp-{ver}"
    tmp.mkdir()
    (tmp / "terms.json").write_text(json.dumps(matcher.terms, ensure_ascii=False), "utf-8")
    (tmp / "ipc_terms.json").write_text(json.dumps(matcher.ipc_terms), encoding="utf-8")
    np.save(tmp / "idf.npy", np.asarray(matcher.idf, dtype=np.float32))
    np.save(tmp / "tombstones.npy", np.array(sorted(matcher.tombstones), dtype=np.int64))
    files = _file_table(base, [tmp] + [base / "segments" / k for k in keys])
    files = {k.replace(f"versions/.tmp-{ver}/", f"versions/{ver}/"): v for k, v in files.items()}
    manifest = {
        "format": FORMAT_VERSION,
        "name": name,
        "version": ver,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "doc_count": len(matcher),
        "n_main": matcher.n_main,
        "avgdl": matcher.avgdl,
        "params": matcher.params.to_json(),
        "dense": dense,
        "segments": keys,
        "files": files,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, base / "versions" / ver)
    pointer = base / f".current-{uuid.uuid4().hex[:8]}"
    pointer.write_text(ver, encoding="utf-8")
    os.replace(pointer, base / "current")
    _collect_garbage(base)
    return base / "versions" / ver


def _collect_garbage(base: Path) -> None:
    """Keep the newest versions; delete segments no kept version uses."""
    versions = sorted(
        (p for p in (base / "versions").iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    current = (base / "current").read_text(encoding="utf-8").strip()
    keep = {p.name for p in versions[-KEEP_VERSIONS:]} | {current}
    used: set[str] = set()
    for p in versions:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
            continue
        try:
            used |= set(json.loads((p / "manifest.json").read_text("utf-8"))["segments"])
        except (OSError, ValueError, KeyError):
            continue
    for seg in (base / "segments").iterdir():
        if seg.is_dir() and not seg.name.startswith(".") and seg.name not in used:
            shutil.rmtree(seg, ignore_errors=True)


def _manifest(base: Path) -> tuple[Path, dict[str, Any]]:
    pointer = base / "current"
    if not pointer.exists():
        raise IndexMissing(f"索引 {base.name} 不存在 (no index at {base}); {_REBUILD_HINT}")
    ver = pointer.read_text(encoding="utf-8").strip()
    folder = base / "versions" / ver
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(
            f"索引清单损坏 (manifest unreadable: {folder}); {_REBUILD_HINT}"
        ) from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"索引格式版本 {manifest.get('format')} 与程序 {FORMAT_VERSION} 不符 "
            f"(index format mismatch); {_REBUILD_HINT}"
        )
    return folder, manifest


def verify_index(root: Path, *, name: str, checksums: bool = True) -> dict[str, Any]:
    """Check every file of the current version against the manifest (sizes, and sha256 when
    `checksums`); raises IndexCorrupt naming the first bad file, else returns the manifest."""
    base = Path(root) / name
    _, manifest = _manifest(base)
    for rel, info in manifest["files"].items():
        path = base / rel
        if not path.exists():
            raise IndexCorrupt(f"索引文件缺失 (missing index file): {rel}; {_REBUILD_HINT}")
        if path.stat().st_size != info["size"]:
            raise IndexCorrupt(f"索引文件大小不符 (size mismatch): {rel}; {_REBUILD_HINT}")
        if checksums and _sha256(path) != info["sha256"]:
            raise IndexCorrupt(f"索引文件校验和不符 (checksum mismatch): {rel}; {_REBUILD_HINT}")
    return manifest


def load_index(
    root: Path,
    *,
    name: str,
    mmap: bool = True,
    link: IndustryLink | None = None,
    checksums: bool = False,
) -> Matcher:
    """Open the current version of index `name` (arrays memory-mapped unless `mmap=False`).

    File sizes are always checked against the manifest (cheap); sha256 only with `checksums`.
    """
    base = Path(root) / name
    manifest = verify_index(root, name=name, checksums=checksums)
    folder = base / "versions" / manifest["version"]
    dense = manifest.get("dense")
    try:
        segments: list[Segment] = []
        # The main segment's folder and meta.json, for its stored sense space.
        main_dir, main_meta = base, dict[str, Any]()
        for key in manifest["segments"]:
            sdir = base / "segments" / key
            meta = json.loads((sdir / "meta.json").read_text(encoding="utf-8"))
            if not segments:
                main_dir, main_meta = sdir, meta
            seg = Segment(
                ids=np.load(sdir / "ids.npy").tolist(),
                bm25=_read_csr(sdir, "bm25", meta["bm25"]["shape"], mmap),
                ipc=_read_csr(sdir, "ipc", meta["ipc"]["shape"], mmap),
                industry=np.load(sdir / "industry.npy").tolist(),
            )
            seg.key = key
            if (sdir / "doc_crc.npy").exists():
                mode: Literal["r"] | None = "r" if mmap else None
                seg.doc_terms = DocTerms(
                    indptr=np.load(sdir / "doc_terms_indptr.npy", mmap_mode=mode),
                    terms=np.load(sdir / "doc_terms_terms.npy", mmap_mode=mode),
                    counts=np.load(sdir / "doc_terms_counts.npy", mmap_mode=mode),
                )
                seg.doc_crc = np.load(sdir / "doc_crc.npy", mmap_mode=mode)
            if dense is not None:
                seg.dense = np.load(sdir / "dense.npy", mmap_mode="r" if mmap else None)
                if seg.dense.shape != (len(seg), int(dense["dim"])):
                    raise ValueError(f"dense.npy of {key} has shape {seg.dense.shape}")
            segments.append(seg)
        matcher = Matcher(
            params=FusionParams.from_json(manifest["params"]),
            terms=json.loads((folder / "terms.json").read_text(encoding="utf-8")),
            idf=np.load(folder / "idf.npy", mmap_mode="r" if mmap else None),
            avgdl=float(manifest["avgdl"]),
            n_main=int(manifest["n_main"]),
            ipc_terms=json.loads((folder / "ipc_terms.json").read_text(encoding="utf-8")),
            segments=segments,
            tombstones=set(np.load(folder / "tombstones.npy").tolist()),
            link=link,
            dense_encoder=str(dense["encoder"]) if dense else None,
        )
        if "senses" in main_meta:  # older indexes: built on first use, as before
            matcher.keep_sense_space(_read_senses(main_dir, mmap) if main_meta["senses"] else None)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorrupt(f"索引无法读取 (index unreadable: {exc}); {_REBUILD_HINT}") from exc
    return matcher


def index_info(root: Path, *, name: str) -> dict[str, Any]:
    """The current manifest without the file table (for `shuanglian index status`)."""
    _, manifest = _manifest(Path(root) / name)
    return {k: v for k, v in manifest.items() if k != "files"}
