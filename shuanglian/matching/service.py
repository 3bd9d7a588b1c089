"""Glue between the store and the engine: build/refresh the indexes, answer match requests.

Two indexes live under `settings.index_dir`: `patents` (searched by enterprises and demands)
and `enterprises` (searched by patents). Building streams id + text columns with `yield_per`
(never ORM objects, so 1M rows stay in bounded memory); a match loads the query row, asks the
engine for ids, then reads the details of only the returned rows and names their IPC codes and
industries from `shuanglian.reference`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.engine.calibrate import (
    LEVELS_FIRST_DEPTH,
    SHORT_QUERY_WORDS,
    levels_first,
    short_query_match,
)
from shuanglian.engine.dense import Encoder, make_encoder
from shuanglian.engine.dense_store import DenseMismatch, Progress
from shuanglian.engine.index import IndexCorrupt, IndexMissing, index_info, load_index, save_index
from shuanglian.engine.ipc import ipc_subclass
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.reasons import describe
from shuanglian.engine.records import Explanation, Hit, Record
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.models import COOPERATION_INTENTS, Feedback
from shuanglian.matching.schemas import (
    ExplanationOut,
    IndustryLinkOut,
    IpcOut,
    Match,
    SharedWordOut,
    TermOut,
)
from shuanglian.patents.models import Institution, Patent
from shuanglian.text.query_words import holds_word, query_words
from shuanglian.text.regions import province_of

PATENT_INDEX = "patents"
ENTERPRISE_INDEX = "enterprises"
CHUNK = 5000
MAX_TOP = 200


class IndexNotReady(DomainError):
    """The matching index is missing or damaged; the fix is to (re)build it."""

    code = "index_not_ready"
    status = 409


# --------------------------------------------------------------------------- records
def _patent_record(row: Any) -> Record:
    codes = list(row.ipc_codes or [])
    if row.main_ipc and row.main_ipc not in codes:
        codes.insert(0, row.main_ipc)
    return Record(id=str(row.id), title=row.title or "", text=row.abstract or "", ipc=tuple(codes))


def _enterprise_record(row: Any) -> Record:
    return Record(
        id=str(row.id),
        title=row.name or "",
        text=row.business_scope or "",
        industry=row.industry_code,
    )


_PATENT_COLS = (Patent.id, Patent.title, Patent.abstract, Patent.main_ipc, Patent.ipc_codes)
_ENTERPRISE_COLS = (
    Enterprise.id,
    Enterprise.name,
    Enterprise.business_scope,
    Enterprise.industry_code,
)


def _stream(
    session: Session, cols: Sequence[Any], ids: Iterable[int] | None = None, *, chunk: int = CHUNK
) -> Iterator[Any]:
    stmt = select(*cols).order_by(cols[0])
    if ids is not None:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            yield from session.execute(stmt.where(cols[0].in_(part))).all()
        return
    yield from session.execute(stmt.execution_options(yield_per=chunk))


def patent_records(session: Session, *, ids: Iterable[int] | None = None) -> Iterator[Record]:
    """Patents as engine records (title, abstract, main + other IPC codes), streamed."""
    return (_patent_record(r) for r in _stream(session, _PATENT_COLS, ids))


def enterprise_records(session: Session, *, ids: Iterable[int] | None = None) -> Iterator[Record]:
    """Enterprises as engine records (name, business scope, industry code), streamed."""
    return (_enterprise_record(r) for r in _stream(session, _ENTERPRISE_COLS, ids))


# --------------------------------------------------------------------------- industry link
_LINK: dict[str, IndustryLink] = {}


def industry_link() -> IndustryLink:
    """The IPC subclass × GB/T 4754 大类 link from shuanglian.reference, as engine arrays."""
    if "link" not in _LINK:
        from shuanglian.reference.industry_link import industry_link_matrix

        matrix = industry_link_matrix()
        codes, weights = matrix.at_level("subclass")
        _LINK["link"] = IndustryLink(list(codes), list(matrix.industry_codes), weights)
    return _LINK["link"]


# --------------------------------------------------------------------------- encoder
_ENCODERS: dict[str, Encoder | None] = {}
_ENCODERS_LOCK = threading.Lock()


def configured_encoder(settings: Settings) -> Encoder | None:
    """The dense encoder `SHUANGLIAN_ENCODER` names (None for `none`), one per spec and
    process: a model loads once, on its first encode."""
    spec = (settings.encoder or "none").strip()
    with _ENCODERS_LOCK:
        if spec not in _ENCODERS:
            try:
                _ENCODERS[spec] = make_encoder(spec)
            except (ValueError, FileNotFoundError) as exc:
                raise DomainError(str(exc), field="SHUANGLIAN_ENCODER") from exc
        return _ENCODERS[spec]


def _document_count(session: Session, model: Any) -> int:
    from sqlalchemy import func

    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


# --------------------------------------------------------------------------- index lifecycle
def build_index(
    session: Session,
    *,
    settings: Settings,
    workers: int = 1,
    progress: Callable[[str, int, int, int], None] | None = None,
) -> dict[str, Any]:
    """Rebuild both indexes from the database and switch readers to them atomically.

    `workers=2` builds the two in two processes at once, each reading the database through
    its own connection (so only committed rows): tokenising is most of a build and holds the
    GIL, and the national pool's two indexes are a long serial wait on one core otherwise.

    With an encoder configured (`SHUANGLIAN_ENCODER`) every document is embedded once and the
    vectors are stored with the index; `progress(index, documents done, total, passages
    done)` follows the embedding (one process only: worker processes report nothing).
    """
    encoder = configured_encoder(settings)
    out: dict[str, Any] = {}
    if workers > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
            futures = [
                pool.submit(_build_one, settings, name) for name in (PATENT_INDEX, ENTERPRISE_INDEX)
            ]
            for future in futures:
                name, documents, version = future.result()
                out[name] = {"documents": documents, "version": version}
    else:
        for name, records in (
            (PATENT_INDEX, patent_records(session)),
            (ENTERPRISE_INDEX, enterprise_records(session)),
        ):
            step: Progress | None = None
            if progress is not None and encoder is not None:
                total = _document_count(session, Patent if name == PATENT_INDEX else Enterprise)
                step = lambda d, p, n=name, t=total: progress(n, d, t, p)  # type: ignore[misc]  # noqa: E731
            matcher = Matcher.build(
                records, link=industry_link(), query_forms=True, encoder=encoder, progress=step
            )
            saved = save_index(matcher, settings.index_dir, name=name)
            out[name] = {"documents": len(matcher), "version": saved.name}
    if encoder is not None:
        out["encoder"] = encoder.name
    _CACHE.clear()
    return out


def _build_one(settings: Settings, name: str) -> tuple[str, int, str]:
    """Build and save one index in this (worker) process, from its own database session."""
    from shuanglian.db import make_engine

    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            reader = patent_records if name == PATENT_INDEX else enterprise_records
            matcher = Matcher.build(
                reader(session),
                link=industry_link(),
                query_forms=True,
                encoder=configured_encoder(settings),
            )
            saved = save_index(matcher, settings.index_dir, name=name)
    finally:
        engine.dispose()
    return name, len(matcher), saved.name


def _updated_since(session: Session, model: Any, created: datetime) -> tuple[set[str], set[str]]:
    """(all ids, ids changed after `created`) of a table, streamed as two columns."""
    all_ids: set[str] = set()
    changed: set[str] = set()
    stmt = select(model.id, model.updated_at).execution_options(yield_per=CHUNK)
    for row_id, updated in session.execute(stmt):
        all_ids.add(str(row_id))
        if updated is not None:
            stamp = updated if updated.tzinfo else updated.replace(tzinfo=UTC)
            if stamp >= created:
                changed.add(str(row_id))
    return all_ids, changed


def refresh_index(session: Session, *, settings: Settings) -> dict[str, Any]:
    """Bring both indexes up to date without a rebuild: add new and changed rows as a delta
    segment, tombstone deleted ones. Builds from scratch when an index does not exist yet.

    Only the added rows are embedded; an index whose vectors came from another encoder than
    the configured one is refused (`IndexNotReady`: rebuild it)."""
    root = settings.index_dir
    encoder = configured_encoder(settings)
    out: dict[str, Any] = {}
    for name, model, reader in (
        (PATENT_INDEX, Patent, patent_records),
        (ENTERPRISE_INDEX, Enterprise, enterprise_records),
    ):
        try:
            matcher = load_index(root, name=name, mmap=True, link=industry_link())
            created = datetime.fromisoformat(
                index_info(root, name=name)["created"].replace("Z", "+00:00")
            )
        except IndexMissing:
            matcher = Matcher.build(
                reader(session), link=industry_link(), query_forms=True, encoder=encoder
            )
            version = save_index(matcher, root, name=name)
            out[name] = {"built": True, "documents": len(matcher), "version": version.name}
            continue
        db_ids, changed = _updated_since(session, model, created)
        indexed = set(matcher.doc_ids())
        to_add = (db_ids - indexed) | changed
        removed = matcher.remove(indexed - db_ids)
        try:
            matcher.add(reader(session, ids=[int(i) for i in to_add]), encoder=encoder)
        except DenseMismatch as exc:
            raise IndexNotReady(str(exc)) from exc
        saved = save_index(matcher, root, name=name) if (to_add or removed) else None
        out[name] = {
            "built": False,
            "added_or_updated": len(to_add),
            "removed": removed,
            "documents": len(matcher),
            "version": saved.name if saved else None,
        }
    _CACHE.clear()
    return out


_CACHE: dict[tuple[str, str], tuple[str, Matcher]] = {}
_CACHE_LOCK = threading.Lock()


def _matcher(settings: Settings, name: str) -> Matcher:
    """The current index, loaded once per version (the pointer file is re-read each call)."""
    root: Path = settings.index_dir
    try:
        version = (root / name / "current").read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise IndexNotReady(
            f"匹配索引尚未建立，请先运行 `shuanglian index build` "
            f"(matching index {name!r} not built yet)"
        ) from exc
    key = (str(root.resolve()), name)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == version:
            return cached[1]
        try:
            matcher = load_index(root, name=name, link=industry_link())
        except (IndexMissing, IndexCorrupt) as exc:
            raise IndexNotReady(str(exc)) from exc
        _CACHE[key] = (version, matcher)
        return matcher


# --------------------------------------------------------------------------- enrichment
# Cached: a push round names the same few hundred codes and industries in 200k explanations.
@lru_cache(maxsize=1 << 14)
def _ipc_title(code: str) -> str | None:
    from shuanglian.reference.ipc import ipc_title

    try:
        return ipc_title(code)
    except ValueError:
        return None


@lru_cache(maxsize=1 << 14)
def _ipc_title_zh(code: str) -> str | None:
    """The Chinese title (section, class or the code's subclass), else the English one."""
    from shuanglian.reference.ipc import ipc_title_zh

    return ipc_title_zh(code) or _ipc_title(code)


@lru_cache(maxsize=1 << 12)
def _industry_name(code: str) -> str | None:
    from shuanglian.reference.gbt4754 import industry

    try:
        item = industry(code)
    except ValueError:
        return None
    return item.name if item else None


def _explanation_out(
    exp: Explanation | None,
    *,
    query_text: str = "",
    doc_text: str | None = None,
    enterprise_is_reader: bool = False,
    same_region: bool = False,
    shown_interest: bool = False,
) -> ExplanationOut:
    """The engine's explanation for the API and pages: index terms for tools, and for people
    the shared words as written in both texts, reasons in zh and en, the calibrated match."""
    if exp is None:
        return ExplanationOut()
    terms = [TermOut(term=t.term, contribution=round(t.contribution, 4)) for t in exp.terms]
    ipc = [IpcOut(code=c, title=_ipc_title(c)) for c in exp.ipc_shared]
    links = [
        IndustryLinkOut(
            ipc=link.ipc_subclass,
            ipc_title=_ipc_title(link.ipc_subclass),
            industry=link.industry,
            industry_name=_industry_name(link.industry),
            weight=round(link.weight, 4),
        )
        for link in exp.industry_links
    ]
    ipc_names = {c.code: c.title for c in ipc} | {k.ipc: k.ipc_title for k in links}
    # Chinese reasons name IPC codes in Chinese where the shipped table has the title.
    ipc_names_zh = {code: _ipc_title_zh(code) for code in ipc_names}
    industry_names = {k.industry: k.industry_name for k in links}
    common = {
        "query_text": query_text,
        "doc_text": doc_text,
        "industry_names": industry_names,
        "enterprise_is_reader": enterprise_is_reader,
        "same_region": same_region,
        "shown_interest": shown_interest,
    }
    zh = describe(exp, lang="zh", ipc_names=ipc_names_zh, **common)  # type: ignore[arg-type]
    en = describe(exp, lang="en", ipc_names=ipc_names, **common)  # type: ignore[arg-type]
    return ExplanationOut(
        terms=terms,
        ipc_shared=ipc,
        industry_links=links,
        dense=None if exp.dense is None else round(exp.dense, 4),
        shares={k: round(v, 4) for k, v in exp.shares.items()},
        summary=zh.summary(),
        words=[
            SharedWordOut(query=w.query, doc=w.doc, cross_lingual=w.cross_lingual, label=w.label())
            for w in zh.words
        ],
        reasons=zh.sentences,
        reasons_en=en.sentences,
        match=zh.percent,
        level=zh.level,  # type: ignore[arg-type]
        level_label=zh.level_label,
        level_label_en=en.level_label,
        weak=zh.weak,
        evidence=zh.evidence,
    )


def _record_text(record: Record) -> str:
    return "\n".join(p for p in (record.title, record.text) if p)


def _names(session: Session, model: Any, ids: Iterable[int]) -> dict[int, str]:
    """id → title/name of the rows that still exist, one select per CHUNK ids."""
    name_col = Patent.title if model is Patent else Enterprise.name
    wanted = sorted(set(ids))
    out: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        out.update(session.execute(select(model.id, name_col).where(model.id.in_(part))).all())
    return out


def _regions(session: Session, model: Any, ids: Iterable[int]) -> dict[int, str | None]:
    """id → province-level region: a patent's from its institution, an enterprise's own
    (province, else city); one select per CHUNK ids."""
    wanted = sorted(set(ids))
    out: dict[int, str | None] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        if model is Patent:
            stmt: Any = (
                select(Patent.id, Institution.region)
                .join(Institution, Institution.id == Patent.institution_id)
                .where(Patent.id.in_(part))
            )
        else:
            stmt = select(Enterprise.id, Enterprise.province, Enterprise.city).where(
                Enterprise.id.in_(part)
            )
        for row in session.execute(stmt).all():
            out[int(row[0])] = next((p for p in map(province_of, row[1:]) if p), None)
    return out


def _matches(
    hits: list[Hit],
    names: dict[int, str],
    *,
    kind: str,
    query_text: str = "",
    texts: dict[int, str] | None = None,
    query_region: str | None = None,
    regions: dict[int, str | None] | None = None,
    interested: set[int] | None = None,
) -> list[Match]:
    """Named, explained matches; 「同一地区」 where the document's province-level region
    (`regions`) is the query's (`query_region`, already a `province_of` short name), and
    「…曾对同类专利表示有意向」 for the documents in `interested` (`_interested`)."""
    out: list[Match] = []
    for hit in hits:
        doc_id = int(hit.doc_id)
        if doc_id not in names:
            continue  # deleted since the index was built: refresh_index will drop it
        out.append(
            Match(
                kind=kind,  # type: ignore[arg-type]
                id=doc_id,
                name=names[doc_id],
                rank=len(out) + 1,
                score=round(hit.score, 6),
                signals={k: round(v, 6) for k, v in hit.signals.items()},
                explanation=_explanation_out(
                    hit.explanation,
                    query_text=query_text,
                    doc_text=(texts or {}).get(doc_id),
                    enterprise_is_reader=kind == "patent",
                    same_region=query_region is not None
                    and (regions or {}).get(doc_id) == query_region,
                    shown_interest=doc_id in (interested or set()),
                ),
            )
        )
    return out


def _to_matches(
    session: Session,
    hits: list[Hit],
    *,
    kind: str,
    query_text: str = "",
    query_region: str | None = None,
    interested: set[int] | None = None,
) -> list[Match]:
    model = Patent if kind == "patent" else Enterprise
    ids = [h.doc_id for h in hits]
    texts = dict(zip((int(i) for i in ids), _texts(session, model)(ids), strict=True))
    region = province_of(query_region)
    return _matches(
        hits,
        _names(session, model, (int(h.doc_id) for h in hits)),
        kind=kind,
        query_text=query_text,
        texts=texts,
        query_region=region,
        regions=_regions(session, model, (int(i) for i in ids)) if region else None,
        interested=interested,
    )


def _subclasses(codes: Iterable[str | None]) -> set[str]:
    """IPC subclasses (H01M) of a patent's codes."""
    return {sub for sub in (ipc_subclass(c) for c in codes if c) if sub}


def _interests(
    session: Session, enterprise_ids: Iterable[int]
) -> dict[int, tuple[set[str], set[int]]]:
    """enterprise → (IPC subclasses of the patents it asked to talk about, license, buy or
    develop further in its feedback, those patents' ids); one select per CHUNK ids: a push
    round asks for every firm its chunk of patents reached, and PostgreSQL takes at most
    65,535 parameters in one statement."""
    wanted = sorted(set(enterprise_ids))
    out: dict[int, tuple[set[str], set[int]]] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(Feedback.enterprise_id, Patent.id, Patent.main_ipc, Patent.ipc_codes)
            .join(Patent, Patent.id == Feedback.patent_id)
            .where(
                Feedback.enterprise_id.in_(wanted[start : start + CHUNK]),
                Feedback.intent.in_(COOPERATION_INTENTS),
            )
        )
        for enterprise_id, patent_id, main_ipc, codes in rows:
            classes, patents = out.setdefault(enterprise_id, (set(), set()))
            classes |= _subclasses((main_ipc, *(codes or ())))
            patents.add(patent_id)
    return out


def _interested(
    session: Session,
    *,
    enterprise_ids: Sequence[int],
    patent_ids: Sequence[int] = (),
    codes: Mapping[int, Sequence[str | None]] | None = None,
) -> set[tuple[int, int]]:
    """(patent, enterprise) pairs where the enterprise showed interest in another patent of
    the patent's IPC subclass (「贵企业曾对同类专利表示有意向」). The patents are `codes`'
    keys, with their IPC codes, when the caller holds their query records; else `patent_ids`,
    whose codes are read only when some enterprise has shown interest at all."""
    interests = _interests(session, enterprise_ids)
    if not interests or not (codes or patent_ids):
        return set()
    if codes is None:
        wanted = list(dict.fromkeys(patent_ids))
        rows = session.execute(
            select(Patent.id, Patent.main_ipc, Patent.ipc_codes).where(Patent.id.in_(wanted))
        )
        codes = {pid: (main_ipc, *(more or ())) for pid, main_ipc, more in rows}
    classes = {pid: _subclasses(found) for pid, found in codes.items()}
    return {
        (pid, eid)
        for pid, own in classes.items()
        for eid, (liked, seen) in interests.items()
        if pid not in seen and own & liked
    }


def _check_top(top: int) -> int:
    if not 1 <= top <= MAX_TOP:
        raise DomainError(f"top 应在 1 到 {MAX_TOP} 之间 (top must be 1..{MAX_TOP})", field="top")
    return top


def _search_index(
    session: Session,
    *,
    settings: Settings,
    query: Record,
    target: str,
    top: int,
    encoder: Any,
    query_region: str | None = None,
    reader: int | None = None,
    patent: int | None = None,
    typed: bool = False,
) -> list[Match]:
    """Search one index (patents or enterprises) and return explained, named matches;
    patents come in level order (engine.calibrate.levels_first), enterprises as ranked.
    `reader` (the enterprise a list of patents is for) or `patent` (the patent a list of
    enterprises is for) adds 「…曾对同类专利表示有意向」 where it applies. `typed`: the query
    is what a person typed into a search box (`_pairs_held`)."""
    kind = "patent" if target == PATENT_INDEX else "enterprise"
    _check_top(top)
    try:
        hits = _matcher(settings, target).search(
            query,
            top=max(top, LEVELS_FIRST_DEPTH) if kind == "patent" else top,
            encoder=encoder if encoder is not None else configured_encoder(settings),
        )
    except DenseMismatch as exc:
        raise IndexNotReady(str(exc)) from exc
    if typed:
        hits = _pairs_held(
            session, _record_text(query), hits, Patent if kind == "patent" else Enterprise
        )
    if kind == "patent":
        hits = levels_first(hits)[:top]
    ids = [int(h.doc_id) for h in hits]
    interested: set[int] = set()
    if reader is not None:
        pairs = _interested(session, patent_ids=ids, enterprise_ids=[reader])
        interested = {pid for pid, _eid in pairs}
    elif patent is not None:
        pairs = _interested(session, codes={patent: query.ipc}, enterprise_ids=ids)
        interested = {eid for _pid, eid in pairs}
    return _to_matches(
        session,
        hits,
        kind=kind,
        query_text=_record_text(query),
        query_region=query_region,
        interested=interested,
    )


# A search box's text is this short; a longer one is a pasted passage, not a few words.
SHORT_TEXT_CHARS = 120


def _pairs_held(session: Session, query_text: str, hits: list[Hit], model: Any) -> list[Hit]:
    """The hits (patents or enterprises, `model`) of a short English search, with those that
    do not hold one of its two-word terms as one (`query_words`: `cathode material`, `lithium
    battery`; `text.query_words.holds_word`) read 中 at most, as a hit lacking a word does
    (engine.calibrate.short_query_match). The order is the engine's; a list of patents is
    then put in level order.

    Why: the engine's coverage counts a search's words one by one, so an OLED patent with a
    cathode in one clause and a material in another read 高 99% and came first for
    `cathode material`, above the 正极材料 patents."""
    if len(query_text) > SHORT_TEXT_CHARS:
        return hits
    words = query_words(query_text)
    pairs = [w for w in words if " " in w]
    if not pairs or len(words) > SHORT_QUERY_WORDS:
        return hits
    out = []
    for hit, text in zip(hits, _texts(session, model)([h.doc_id for h in hits]), strict=True):
        exp = hit.explanation
        if exp is not None and not all(holds_word(pair, text) for pair in pairs):
            held = float(short_query_match(exp.match, 0.0, float(len(words))))
            hit = replace(hit, explanation=replace(exp, match=held))
        out.append(hit)
    return out


# --------------------------------------------------------------------------- matches
def match_patent(
    session: Session, *, settings: Settings, patent_id: int, top: int = 20, encoder: Any = None
) -> list[Match]:
    """Enterprises for a patent, best first, each explained."""
    row = session.execute(select(*_PATENT_COLS).where(Patent.id == patent_id)).first()
    if row is None:
        raise NotFound(f"专利不存在 (patent not found): {patent_id}")
    query = _patent_record(row)
    return _search_index(
        session,
        settings=settings,
        query=query,
        target=ENTERPRISE_INDEX,
        top=top,
        encoder=encoder,
        query_region=_regions(session, Patent, [patent_id]).get(patent_id),
        patent=patent_id,
    )


def _patent_queries(session: Session, patent_ids: Sequence[int]) -> dict[int, Record]:
    """Query records of patents, one select per CHUNK ids (unknown ids are left out)."""
    wanted = list(dict.fromkeys(int(i) for i in patent_ids))
    out: dict[int, Record] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(*_PATENT_COLS).where(Patent.id.in_(wanted[start : start + CHUNK]))
        ).all()
        out.update((int(r.id), _patent_record(r)) for r in rows)
    # Input order, so results do not depend on the order the database returns rows in.
    return {pid: out[pid] for pid in wanted if pid in out}


def match_patents_bulk(
    session: Session, *, settings: Settings, patent_ids: Sequence[int], top: int = 20
) -> dict[int, list[Match]]:
    """Enterprises for many patents at once, each explained: one select for the patents, one
    batched engine call and one select for the names per chunk; unknown ids are left out."""
    top = _check_top(top)
    matcher = _matcher(settings, ENTERPRISE_INDEX)
    queries = _patent_queries(session, patent_ids)
    out: dict[int, list[Match]] = {}
    items = list(queries.items())
    for start in range(0, len(items), CHUNK):
        part = items[start : start + CHUNK]
        results = matcher.search_many([q for _, q in part], top=top, explain=True)
        names = _names(session, Enterprise, (int(h.doc_id) for hits in results for h in hits))
        q_regions = _regions(session, Patent, (pid for pid, _ in part))
        doc_regions = (
            _regions(session, Enterprise, (int(h.doc_id) for hits in results for h in hits))
            if any(q_regions.values())
            else {}
        )
        pairs = _interested(
            session, codes={pid: q.ipc for pid, q in part}, enterprise_ids=list(names)
        )
        for (pid, query), hits in zip(part, results, strict=True):
            out[pid] = _matches(
                hits,
                names,
                kind="enterprise",
                query_text=_record_text(query),
                query_region=q_regions.get(pid),
                regions=doc_regions,
                interested={eid for p, eid in pairs if p == pid},
            )
    return out


@dataclass
class PatentRanking:
    """Enterprise hits for a chunk of patents, without explanations, kept with the query
    records so that the few hits a push round keeps can be explained afterwards
    (`explain_ranked`): explaining every candidate cost more than ranking them."""

    matcher: Matcher
    queries: dict[int, Record]
    hits: dict[int, list[Hit]]
    # Province-level regions of the patents and of the hit enterprises (「同一地区」).
    regions: dict[int, str | None] = field(default_factory=dict)
    doc_regions: dict[int, str | None] = field(default_factory=dict)
    # (patent, enterprise) pairs where the firm showed interest in the class (`_interested`).
    interested: set[tuple[int, int]] = field(default_factory=set)


def rank_patents_bulk(
    session: Session, *, settings: Settings, patent_ids: Sequence[int], top: int = 20
) -> PatentRanking:
    """Unexplained enterprise hits for many patents (push rounds); deleted enterprises and
    unknown patents are left out."""
    top = _check_top(top)
    matcher = _matcher(settings, ENTERPRISE_INDEX)
    queries = _patent_queries(session, patent_ids)
    results = matcher.search_many(list(queries.values()), top=top)
    live = set(_names(session, Enterprise, (int(h.doc_id) for hits in results for h in hits)))
    hits = {
        pid: [h for h in found if int(h.doc_id) in live]
        for pid, found in zip(queries, results, strict=True)
    }
    regions = _regions(session, Patent, queries)
    doc_regions = _regions(session, Enterprise, live) if any(regions.values()) else {}
    return PatentRanking(
        matcher=matcher,
        queries=queries,
        hits=hits,
        regions=regions,
        doc_regions=doc_regions,
        interested=_interested(
            session, codes={pid: q.ipc for pid, q in queries.items()}, enterprise_ids=sorted(live)
        ),
    )


def enterprise_texts(session: Session, enterprise_ids: Iterable[int]) -> dict[int, str]:
    """id → name and business scope, one select per CHUNK ids: what explanations read the
    shared words from (without it a word reached by translation, 3D ↔ 三维, cannot be shown)."""
    wanted = [str(i) for i in sorted(set(enterprise_ids))]
    load = _texts(session, Enterprise)
    out: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        out.update(zip((int(i) for i in part), load(part), strict=True))
    return out


def explain_ranked(
    ranking: PatentRanking,
    *,
    patent_id: int,
    enterprise_ids: Sequence[int],
    doc_texts: Mapping[int, str] | None = None,
) -> dict[int, ExplanationOut]:
    """Explanations of the chosen hits of one ranked patent (same as `match_patent` gives,
    given the enterprises' texts, `enterprise_texts`)."""
    wanted = {str(e) for e in enterprise_ids}
    chosen = [h for h in ranking.hits.get(patent_id, []) if h.doc_id in wanted]
    query = ranking.queries.get(patent_id)
    if query is None or not chosen:
        return {}
    ranking.matcher.explain(query, chosen)
    region = ranking.regions.get(patent_id)
    return {
        int(h.doc_id): _explanation_out(
            h.explanation,
            query_text=_record_text(query),
            doc_text=(doc_texts or {}).get(int(h.doc_id)),
            same_region=region is not None and ranking.doc_regions.get(int(h.doc_id)) == region,
            shown_interest=(patent_id, int(h.doc_id)) in ranking.interested,
        )
        for h in chosen
    }


def match_enterprise(
    session: Session, *, settings: Settings, enterprise_id: int, top: int = 20, encoder: Any = None
) -> list[Match]:
    """Patents for an enterprise (its name, business scope and industry), best first."""
    row = session.execute(select(*_ENTERPRISE_COLS).where(Enterprise.id == enterprise_id)).first()
    if row is None:
        raise NotFound(f"企业不存在 (enterprise not found): {enterprise_id}")
    query = _enterprise_record(row)
    return _search_index(
        session,
        settings=settings,
        query=query,
        target=PATENT_INDEX,
        top=top,
        encoder=encoder,
        query_region=_regions(session, Enterprise, [enterprise_id]).get(enterprise_id),
        reader=enterprise_id,
    )


def match_demand(
    session: Session, *, settings: Settings, demand_id: int, top: int = 20, encoder: Any = None
) -> list[Match]:
    """Patents for a technical demand (title, description, its or its enterprise's industry)."""
    row = session.execute(
        select(
            Demand.id,
            Demand.enterprise_id,
            Demand.title,
            Demand.description,
            Demand.industry_code,
            Demand.region,
            Enterprise.industry_code.label("enterprise_industry"),
            Enterprise.province,
            Enterprise.city,
        )
        .join(Enterprise, Enterprise.id == Demand.enterprise_id)
        .where(Demand.id == demand_id)
    ).first()
    if row is None:
        raise NotFound(f"技术需求不存在 (demand not found): {demand_id}")
    query = Record(
        id=f"demand:{row.id}",
        title=row.title or "",
        text=row.description or "",
        industry=row.industry_code or row.enterprise_industry,
    )
    region = next((p for p in map(province_of, (row.region, row.province, row.city)) if p), None)
    return _search_index(
        session,
        settings=settings,
        query=query,
        target=PATENT_INDEX,
        top=top,
        encoder=encoder,
        query_region=region,
        reader=row.enterprise_id,
    )


def match_text(
    session: Session,
    *,
    settings: Settings,
    text: str,
    target: str = "patents",
    industry: str | None = None,
    top: int = 20,
) -> list[Match]:
    """Free-text search (e.g. a demand typed into a form before it is saved)."""
    if target not in (PATENT_INDEX, ENTERPRISE_INDEX):
        raise DomainError(f"target 应为 patents 或 enterprises: {target!r}", field="target")
    return _search_index(
        session,
        settings=settings,
        query=Record(id="query", text=text, industry=industry),
        target=target,
        top=top,
        encoder=None,
        typed=True,
    )


def _texts(session: Session, model: Any) -> Any:
    """A batch loader of passage texts (title/name and abstract/scope) by id."""

    def load(ids: list[str]) -> list[str]:
        keys = [int(i) for i in ids]
        if model is Patent:
            rows = session.execute(
                select(Patent.id, Patent.title, Patent.abstract).where(Patent.id.in_(keys))
            ).all()
        else:
            rows = session.execute(
                select(Enterprise.id, Enterprise.name, Enterprise.business_scope).where(
                    Enterprise.id.in_(keys)
                )
            ).all()
        text = {r[0]: "\n".join(p for p in (r[1], r[2]) if p) for r in rows}
        return [text.get(k, "") for k in keys]

    return load
