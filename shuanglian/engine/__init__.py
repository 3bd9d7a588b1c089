"""The matching engine: pure functions and arrays, never the database or the web.

Public API (import from the submodules named; nothing is loaded at import time):

Text (`shuanglian.text.tokenize`)
    tokenize(text, *, lang="auto", bigrams=False, phrases=False) -> list[str]

Records and hits (`shuanglian.engine.records`)
    Record(id: str, title: str = "", text: str = "", ipc: tuple[str, ...] = (),
           industry: str | None = None)        a document or a query, either side
    Hit(doc_id: str, score: float, signals: dict[str, float], explanation: Explanation | None)
    Explanation(terms: list[TermMatch], ipc_shared: list[str], industry_links: list[IndustryLink],
                dense: float | None, shares: dict[str, float])
    TermMatch(term, contribution) · IndustryLink(ipc_subclass, industry, weight)

Parameters and fusion (`shuanglian.engine.fusion`)
    FusionParams (k1, b, title_weight, ipc_levels, weights{bm25, ipc, prior, dense},
                  rerank_depth, bigrams, phrases, cross_lingual, background_idf,
                  query_passages, calibration, comment)
    load_params(path: Path | None = None) -> FusionParams    (fusion_params.json by default)
    SIGNALS = ("bm25", "ipc", "prior", "dense")

Industry prior arrays (`shuanglian.engine.prior`)
    IndustryLink(ipc_subclasses: list[str], industries: list[str], weights: np.ndarray (S, I))

Index in memory (`shuanglian.engine.matcher`)
    Matcher.build(records: Iterable[Record], *, params: FusionParams | None = None,
                  link: IndustryLink | None = None, query_forms: bool = False,
                  encoder: Encoder | None = None, progress=None) -> Matcher
                  (with an encoder every document is embedded once; vectors kept per segment)
    matcher.search(query: Record, *, top: int = 20, signals: Sequence[str] | None = None,
                   encoder: Encoder | None = None,
                   doc_texts: Callable[[list[str]], list[str]] | None = None,
                   explain: bool = True, doc_text: Callable[[str], str] | None = None)
                   -> list[Hit]        (dense rerank of the top rerank_depth when an encoder
                                        is given: stored vectors, only the query embedded;
                                        DenseMismatch for another encoder; an index without
                                        vectors needs doc_texts, else no dense + a warning;
                                        zero-score hits dropped)
    matcher.search_many(queries: Sequence[Record], *, top: int = 100,
                        signals: Sequence[str] | None = None, ..., explain: bool = False)
                        -> list[list[Hit]]       batched (64 queries per sparse product)
    matcher.explain(query: Record, hits: Sequence[Hit]) -> None   explain kept hits later
    matcher.add(records: Iterable[Record], *, encoder=None) -> None   delta segment, no full
                                                     rebuild (embeds only the new records)
    matcher.remove(ids: Iterable[str]) -> int            tombstones; returns how many were live
    matcher.compact() -> Matcher                          one segment, dead documents dropped
    len(matcher), matcher.doc_ids() -> list[str], "id" in matcher
    record_terms(record, *, title_weight=1, bigrams=False, phrases=True) -> list[str]

Index on disk (`shuanglian.engine.index`)
    save_index(matcher: Matcher, root: Path, *, name: str) -> Path   new version + atomic pointer
    load_index(root: Path, *, name: str, mmap: bool = True, link: IndustryLink | None = None,
               checksums: bool = False) -> Matcher
    verify_index(root, *, name, checksums=True) -> dict;  index_info(root, *, name) -> dict
    IndexMissing / IndexCorrupt (errors; the message says to run `shuanglian index build`)

Evaluation (`shuanglian.engine.evaluate`)
    evaluate_suites(paths: Sequence[Path | str], *, run_dir: Path | None = None,
                    signals: Sequence[str] | None = None) -> dict   (DESIGN.md "Contracts")
    `shuanglian eval` (the command) lives in `shuanglian.matching.cli`

Dense encoders live in `shuanglian.engine.dense` (Encoder protocol, make_encoder(spec)); the
vectors stored with an index in `shuanglian.engine.dense_store` (record_units, embed_records,
CachedEncoder, DenseMismatch).
"""
