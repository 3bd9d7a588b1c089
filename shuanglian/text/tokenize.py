"""Tokenise Chinese, English and mixed text into search terms, identically for every side.

Patents, enterprise scopes, demands and queries all go through `tokenize`, so a term produced
on one side can match the same term on the other. The pipeline:

1. `normalize_for_search` (Traditional → Simplified, width folding, lower-case);
2. split into script runs: Han runs and Latin/digit runs (other letters are kept as words);
3. Han runs: rjieba (the Rust port of jieba; measured 20x faster than jieba on 3,000 business
   scopes: 0.16 s vs 2.7 s, and `add_word` gives it a user dictionary) in precise mode; words of
   four or more characters also index their dictionary sub-words (锂离子电池 → 锂离子, 电池), so
   a term seen only in one form on the other side still matches (see SUBWORD_MIN_LEN);
4. Latin runs: stopwords (function words and patent boilerplate), then the Snowball English
   stemmer (PyStemmer, C);
5. zh stopwords drop patent boilerplate (一种, 本发明, 所述, 其特征在于 ...) and business-scope
   boilerplate (依法须经批准的项目 ...). Trade words such as 销售/批发/零售 are kept: BM25's IDF
   already weighs them down, and for trading firms they are the whole profile.

Optional Han character bigrams (`bigrams=True`): every pair of adjacent characters of a Han run,
as a term of its own marked with BIGRAM_MARK (·电池), so it never equals a word term (电池):
a second, segmentation-free view of the same text that still matches where the segmenter cut
the two sides differently (锂电池组 vs 电池组装, 正极材料 vs 正极片材料). Marked, they are never
translated (a pair of characters is no word of the dictionary) and explanations skip them.
The engine turns them on (fusion_params.json `bigrams`; measured there on all dev suites).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from shuanglian.text.elements import elements_in, is_element
from shuanglian.text.normalize import normalize_for_search

Lang = Literal["auto", "zh", "en"]
LANGS: tuple[str, ...] = ("auto", "zh", "en")

# Han ideographs (CJK Unified + Extension A + compatibility) vs everything else word-like.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_HAN}]+|[^\W{_HAN}_]+")
_LATIN = re.compile(r"[a-z0-9]+")
# Clause boundaries for phrases: sentence and list punctuation, Chinese and ASCII.
_CLAUSE_CHARS = frozenset(',.;:!?()[]{}<>"，。；：！？、（）【】《》“”‘’')
# Prefix of character-bigram terms: not a word character, so no word term can start with it.
BIGRAM_MARK = "\u00b7"
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x1c-\x1e\x85]+")


def _read_list(name: str) -> frozenset[str]:
    text = resources.files("shuanglian.text").joinpath("data", name).read_text(encoding="utf-8")
    words = (line.strip() for line in text.splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


@lru_cache(maxsize=1)
def stopwords_zh() -> frozenset[str]:
    """Chinese stopwords: function words, patent and business-scope boilerplate."""
    return _read_list("stopwords_zh.txt")


@lru_cache(maxsize=1)
def stopwords_en() -> frozenset[str]:
    """English stopwords, incl. patent boilerplate (method, system, apparatus, wherein ...)."""
    return _read_list("stopwords_en.txt")


@lru_cache(maxsize=1)
def gloss_stopwords() -> frozenset[str]:
    """English words of a dictionary gloss that are never a translation (text.bilingual)."""
    return _read_list("gloss_stopwords_en.txt")


@lru_cache(maxsize=1)
def gloss_clashes() -> frozenset[str]:
    """English gloss words whose stem another, unrelated word shares (engineering and engine:
    `engin`); text.bilingual drops these forms only."""
    return _read_list("gloss_clashes_en.txt")


@lru_cache(maxsize=1)
def generic_terms() -> frozenset[str]:
    """Search terms of generic words (服务, 信息, 系统, 数据, method, system ...), in the form
    `tokenize` gives them: such a word is real evidence only beside a specific one."""
    words = _read_list("generic_zh_en.txt")
    out: set[str] = set()
    for line in words:
        for word in line.split():
            out.update(tokenize(word))
    return frozenset(out)


def is_generic(term: str) -> bool:
    """Whether a search term is generic: in `generic_terms`, or a Chinese word of one
    character (含, 高, 用 …: jieba leaves them where no word fits; alone they name nothing)
    other than a chemical element (锂, 镍: `text.elements`)."""
    if term in generic_terms():
        return True
    return len(term) == 1 and _is_han(term) and not is_element(term)


def is_specific(term: str) -> bool:
    """Whether a search term can be evidence a person checks: a word (or a pair of words) not
    all generic, never a character-bigram term."""
    return not is_bigram(term) and not all(is_generic(p) for p in term.split("_"))


_SEGMENTER: dict[str, Any] = {}


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    # Loaded on first use, never at import time: building the dictionary takes ~0.3 s.
    words = _read_list("userdict_zh.txt")
    try:
        import rjieba

        seg = rjieba.Jieba()
        for word in sorted(words):
            seg.add_word(word, None, None)
        _SEGMENTER["instance"] = seg
        return seg.cut_for_search
    except ImportError:  # pragma: no cover - rjieba is a declared dependency
        import jieba

        jieba.setLogLevel(60)
        for word in sorted(words):
            jieba.add_word(word)
        return jieba.lcut_for_search


@lru_cache(maxsize=1)
def _precise() -> Any:
    # Precise mode (one segmentation, no overlapping sub-words) gives the word order phrases
    # are built from; the same user dictionary applies.
    _segmenter()
    seg = _SEGMENTER.get("instance")
    if seg is not None:
        return seg.cut
    import jieba

    return jieba.lcut


# Words this long also index their dictionary sub-words (锂离子电池 → 锂离子, 离子, 电池), as
# jieba's search mode does for every word over two characters. Not for 3-character words: there
# search mode triple-counts generic compounds (高强度 → 高强, 强度, 高强度) and on 40k real
# business scopes a gypsum-board patent then ranked 高强度瓦楞纸 makers first.
SUBWORD_MIN_LEN = 4


@lru_cache(maxsize=200_000)
def _subwords(word: str) -> tuple[str, ...]:
    """A long word with its dictionary sub-words (search mode on the word alone)."""
    return tuple(_segmenter()(word))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english", 100_000)


# Words whose Snowball stem is also an unrelated word's: animation and animal (`anim`: an
# animation patent read as 动物 and matched animal-feed firms), formation and format
# (`format`: a file format read as 队形, a military formation), experience and experiment
# (`experi`). They get stems of their own.
_STEM_EXCEPTIONS = {
    **dict.fromkeys(
        ("animation", "animations", "animated", "animating", "animate", "animates",
         "animator", "animators"),
        "animat",
    ),
    **dict.fromkeys(("formation", "formations"), "formation"),
    **dict.fromkeys(("experience", "experiences"), "experienc"),
}  # fmt: skip


def stem_words(words: list[str]) -> list[str]:
    """Snowball stems of lower-case English words, `_STEM_EXCEPTIONS` kept apart: the one
    stemmer of the index, the dictionary's glosses and the shared words shown."""
    stems: list[str] = _stemmer().stemWords(words)
    return [_STEM_EXCEPTIONS.get(w, s) for w, s in zip(words, stems, strict=True)]


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def _latin_terms(run: str, *, stop: frozenset[str], stem: bool) -> list[str]:
    words = [w for w in _LATIN.findall(run) if len(w) > 1 and w not in stop]
    if stem and words:
        words = stem_words(words)
    return words


def _segment_runs(cut: Any, runs: list[str]) -> list[list[str]]:
    """Words of each Han run from ONE segmenter call (runs joined by spaces, which the
    segmenter returns as separate tokens): per-call overhead dominated when each of a business
    scope's dozen clauses was cut separately."""
    groups: list[list[str]] = [[]]
    for tok in cut(" ".join(runs)):
        if tok == " ":
            groups.append([])
        else:
            groups[-1].append(tok)
    if len(groups) != len(runs):  # never seen; stay correct if a segmenter merges differently
        groups = [list(cut(r)) for r in runs]
    return groups


def tokenize(
    text: str | None,
    *,
    lang: Lang = "auto",
    bigrams: bool = False,
    phrases: bool = False,
    elements: bool = False,
) -> list[str]:
    """Search terms of `text`, in order (repeats kept, BM25 counts them).

    `lang` only narrows the stopword lists and stemming: 'auto' (default) treats each script run
    by its script, 'zh' keeps Latin words unstemmed, 'en' skips the Chinese stopword list.
    `phrases` appends adjacent-word pairs ('panoram_camera', '防火_板材') built inside a clause
    (never across a line break or punctuation), after stopwords are removed: they reward a
    shared phrase over the same words scattered (measured: nDCG@10 +0.03 on both dev suites).
    `elements` also emits the chemical element a Chinese word holds (钠离子 → 钠, 碳酸锂 → 碳,
    锂; `text.elements`): the compound is how Chinese writes the element, so `sodium` (钠)
    and 钠离子电池 meet.
    Mixed text always works; empty or stopword-only text returns [].
    """
    if lang not in LANGS:
        raise ValueError(f"lang 必须是 auto|zh|en (lang must be auto|zh|en): {lang!r}")
    if not text:
        return []
    # A line break ends a clause: mark it with 。 (kept by normalisation, unlike whitespace).
    norm = normalize_for_search(_LINE_BREAKS.sub("。", text))
    if not norm:
        return []
    stop_zh = stopwords_zh() if lang != "en" else frozenset()
    stop_en = stopwords_en()
    stem = lang != "zh"
    matches = list(_RUNS.finditer(norm))
    han = [m.group() for m in matches if _is_han(m.group()[0])]
    precise_groups = _segment_runs(_precise(), han) if han else []
    out: list[str] = []
    pairs: list[str] = []
    seq: list[str] = []
    prev_end = 0
    h = 0
    for m in matches:
        run = m.group()
        if phrases and seq and not _CLAUSE_CHARS.isdisjoint(norm[prev_end : m.start()]):
            pairs.extend(f"{a}_{b}" for a, b in zip(seq, seq[1:], strict=False))
            seq = []
        prev_end = m.end()
        if _is_han(run[0]):
            words = [w for w in precise_groups[h] if w not in stop_zh]
            for w in words:
                if len(w) >= SUBWORD_MIN_LEN:
                    out.extend(x for x in _subwords(w) if x not in stop_zh)
                else:
                    out.append(w)
                if elements:
                    out.extend(elements_in(w))
            if bigrams and len(run) >= 2:
                out.extend(BIGRAM_MARK + run[i : i + 2] for i in range(len(run) - 1))
            if phrases:
                seq.extend(words)
            h += 1
        elif run.isascii():
            words = _latin_terms(run, stop=stop_en, stem=stem)
            out.extend(words)
            if phrases:
                seq.extend(words)
        elif len(run) > 1:
            # Other scripts (Cyrillic, kana, Hangul ...): keep the word whole, no stemming.
            out.append(run)
            if phrases:
                seq.append(run)
    if phrases:
        pairs.extend(f"{a}_{b}" for a, b in zip(seq, seq[1:], strict=False))
    return out + pairs


def is_bigram(term: str) -> bool:
    """Whether `term` is a character-bigram term (`tokenize(..., bigrams=True)`), not a word."""
    return term.startswith(BIGRAM_MARK)


def segment_words(run: str) -> list[str]:
    """The words of a Han run in precise mode, stopwords dropped (no sub-words, no pairs): the
    units a query is translated by (the catalogue search groups its terms by them)."""
    if not run:
        return []
    stop = stopwords_zh()
    return [w for w in _precise()(run) if w.strip() and w not in stop]


def tokenize_many(
    texts: list[str],
    *,
    lang: Lang = "auto",
    bigrams: bool = False,
    phrases: bool = False,
    elements: bool = False,
) -> list[list[str]]:
    """`tokenize` over a list (one call site for batch indexing)."""
    return [
        tokenize(t, lang=lang, bigrams=bigrams, phrases=phrases, elements=elements) for t in texts
    ]
