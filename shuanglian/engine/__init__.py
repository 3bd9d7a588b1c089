"""The matching engine: pure functions and arrays, never the database or the web.

Public API (import from the submodules named; nothing is loaded at import time):

Records and hits (`shuanglian.engine.records`)
    Record(id: str, title: str = "", text: str = "", ipc: tuple[str, ...] = (),
           industry: str | None = None)        a document or a query, either side
    Hit(doc_id: str, score: float, signals: dict[str, float],
        explanation: Explanation | None)       one ranked result
    Explanation(terms: list[TermMatch], ipc_shared: list[str], industry_links: list[IndustryLink],
                dense: float | None, shares: dict[str, float])

Parameters (`shuanglian.engine.fusion`)
    FusionParams (dataclass; k1, b, title_weight, ipc_levels, weights{bm25, ipc, prior, dense},
                  rerank_depth, ...);  load_params(path: Path | None = None) -> FusionParams
    SIGNALS = ("bm25", "ipc", "prior", "dense")

Industry prior (`shuanglian.engine.prior`)
    IndustryLink(ipc_subclasses: list[str], industries: list[str], weights: np.ndarray (S, I))

Index in memory (`shuanglian.engine.matcher`)
    Matcher.build(records: Iterable[Record], *, params: FusionParams | None = None,
                  link: IndustryLink | None = None) -> Matcher
    matcher.search(query: Record, *, top: int = 20, signals: Sequence[str] | None = None,
                   encoder: Encoder | None = None,
                   doc_texts: Callable[[list[str]], list[str]] | None = None,
                   explain: bool = True) -> list[Hit]
    matcher.search_many(queries: Sequence[Record], *, top: int = 100,
                        signals: Sequence[str] | None = None) -> list[list[Hit]]  (no explanations)
    matcher.add(records: Iterable[Record]) -> None      delta segment, no full rebuild
    matcher.remove(ids: Iterable[str]) -> int            tombstones; returns how many were live
    matcher.compact() -> Matcher                          merge delta + drop tombstones (rebuild)
    len(matcher), matcher.doc_ids() -> list[str], "id" in matcher

Index on disk (`shuanglian.engine.index`)
    save_index(matcher: Matcher, root: Path, *, name: str) -> Path     new version + atomic pointer
    load_index(root: Path, *, name: str, mmap: bool = True) -> Matcher
    IndexMissing / IndexCorrupt (errors; message says to run `shuanglian index build`)

Evaluation (`shuanglian.engine.evaluate`)
    evaluate_suites(paths: Sequence[Path | str], *, run_dir: Path | None = None,
                    signals: Sequence[str] | None = None) -> dict   (DESIGN.md "Contracts")
    shuanglian.engine.eval_cli.eval_command   Typer command function for `shuanglian eval`

Dense encoders live in `shuanglian.engine.dense` (Encoder protocol, make_encoder(spec)).
"""
