"""The catalogue's search terms: what a listing is indexed under, and what a query looks up.

Text is normalised as everywhere (`normalize_for_search`: Traditional → Simplified, width,
case). Chinese is indexed as overlapping character bigrams (锂电池 → 锂电, 电池) and queried the
same way, so a search finds a word inside a longer one (电池 finds 锂电池), as visitors expect
of a catalogue, whatever a word segmenter would have made of either side; a one-character
query is matched as a substring instead. Other text goes through `text.tokenize`, the matching
engine's tokeniser: English stemmed (batteries → batteri), stopwords dropped. Filters become
terms too, so every selective condition of a catalogue query is one posting list:

    ind:C34       industry filter; every prefix of each GB/T 4754 code (C, C3, C34, C341) is
                  indexed, so a 大类 filter also finds listings coded at 中类/小类 level
    mode:licence  cooperation mode
    field:…       WIPO technology field (exact)
    reg:…         region, every prefix of two or more characters (江苏 finds 江苏省南京市); a
                  region no listing's starts with (南京) is matched as a substring instead

Chinese ↔ English: a query word with a dictionary reading in the other language
(`text.bilingual.alternatives`, CC-CEDICT) becomes a `WordGroup`: the listing must have the
word itself or one whole reading of it (锂电池 → 锂电+电池, or lithium+batteri; `battery` →
batteri, or 电池 …). Listings are indexed as before, in their own words only; the service drops
readings no listing has before it picks its plan, so a query without any stays on the plain
all-terms plan. A chemical element is written inside Chinese words (锂 in 锂离子电池), so each
element character of a listing's Chinese is a term of its own: `lithium` reads as 锂.

Keyword tokens are [a-z0-9]+ runs or Han/other-script words, never containing ':', so they
cannot collide with a filter term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shuanglian.text.bilingual import alternatives
from shuanglian.text.elements import is_element
from shuanglian.text.normalize import normalize_for_search
from shuanglian.text.query_words import HAN_RUN
from shuanglian.text.tokenize import segment_words, tokenize

MAX_TERM_LENGTH = 64  # the column's width; longer tokens are cut the same way on both sides
MAX_QUERY_TERMS = 10
# Readings kept per query word (each one more condition for the database to test).
MAX_READINGS = 6
INDUSTRY = "ind:"
MODE = "mode:"
FIELD = "field:"
REGION = "reg:"


def _cut(term: str) -> str:
    return term[:MAX_TERM_LENGTH]


def _bigrams(run: str, *, cover: bool) -> list[str]:
    """Overlapping bigrams of a Han run; with `cover`, just enough of them to cover every
    character (无人机器 → 无人, 机器), which a query needs: each bigram is one more lookup."""
    if not cover or len(run) < 3:
        return [run[i : i + 2] for i in range(len(run) - 1)]
    starts = list(range(0, len(run) - 1, 2))
    if len(run) % 2:
        starts.append(len(run) - 2)
    return [run[i : i + 2] for i in starts]


def _keywords(text: str | None, *, cover: bool = False) -> tuple[list[str], list[str]]:
    """(distinct terms in order of first appearance, one-character Han runs)."""
    norm = normalize_for_search(text or "")
    terms: list[str] = []
    singles: list[str] = []
    for run in HAN_RUN.findall(norm):
        if len(run) == 1:
            singles.append(run)
        terms.extend(_bigrams(run, cover=cover))
    terms.extend(tokenize(HAN_RUN.sub(" ", norm)))
    return list(dict.fromkeys(_cut(t) for t in terms)), singles


def keyword_terms(text: str | None) -> list[str]:
    """Distinct search terms of `text`, in order of first appearance."""
    return _keywords(text)[0]


def element_terms(text: str | None) -> set[str]:
    """The element characters of a text's Chinese, each a term of its own (one character: no
    keyword term is ever that short)."""
    return {ch for ch in normalize_for_search(text or "") if is_element(ch)}


def industry_term(code: str) -> str:
    return _cut(INDUSTRY + code.strip().upper())


def mode_term(mode: str) -> str:
    return _cut(MODE + mode)


def field_term(field: str) -> str:
    return _cut(FIELD + field.strip())


def region_term(region: str) -> str:
    return _cut(REGION + region.strip())


def listing_terms(
    *,
    search_text: str,
    industries: list[str],
    modes: list[str],
    tech_field: str | None,
    region: str | None,
) -> set[str]:
    """Every term a listing is found under: its keywords, the chemical elements its Chinese
    names (锂 inside 锂离子电池: an English `lithium` reads as 锂, `text.elements`), and its
    filter values."""
    terms = set(keyword_terms(search_text))
    terms.update(element_terms(search_text))
    for code in industries:
        code = code.strip().upper()
        terms.update(industry_term(code[:n]) for n in range(1, len(code) + 1))
    terms.update(mode_term(m) for m in modes)
    if tech_field and tech_field.strip():
        terms.add(field_term(tech_field))
    region = (region or "").strip()
    terms.update(region_term(region[:n]) for n in range(2, len(region) + 1))
    if len(region) == 1:
        terms.add(region_term(region))
    return terms


@dataclass(frozen=True)
class WordGroup:
    """One query word (or run of words) that may also be read in the other language: a listing
    matches it when it has every term of `own`, or every term of one of `readings`."""

    own: tuple[str, ...]
    readings: tuple[tuple[str, ...], ...]

    def options(self) -> list[tuple[str, ...]]:
        """`own` first, then the readings."""
        return [self.own, *self.readings]


@dataclass
class Query:
    """A search split into what the term index answers and what must be matched as text.

    `terms`: looked up, every one must match. `groups`: words that may match in either
    language, each one must match (see `WordGroup`). `substrings`: matched inside the
    listing's normalised text, for what the index has no term for: one-character Chinese
    words, and queries made only of stopwords (searched as typed rather than ignored).
    """

    terms: list[str] = field(default_factory=list)
    substrings: list[str] = field(default_factory=list)
    groups: list[WordGroup] = field(default_factory=list)


def _index_form(reading: tuple[str, ...]) -> tuple[str, ...]:
    """A reading in the catalogue's own term form: Chinese words as covering bigrams."""
    out: list[str] = []
    for word in reading:
        if HAN_RUN.fullmatch(word):
            if len(word) < 2:
                if not is_element(word):
                    return ()  # a single character has no term in the index
                out.append(word)  # but an element has (`element_terms`)
                continue
            out.extend(_bigrams(word, cover=True))
        else:
            out.append(word)
    return tuple(dict.fromkeys(_cut(t) for t in out))


def _readings(words: list[str]) -> tuple[tuple[str, ...], ...]:
    """Readings of a run of words: each word by one of its readings, or by itself when it has
    none and the run has other words (the product, main senses first, MAX_READINGS at most)."""
    combos: list[tuple[str, ...]] = [()]
    found = False
    for word in words:
        options = [r for r in (_index_form(r) for r in alternatives(word)) if r]
        if options:
            found = True
        else:
            own = _index_form((word,))
            if not own:
                continue
            options = [own]
        combos = [c + o for c in combos for o in options][:MAX_READINGS]
    if not found:
        return ()
    return tuple(tuple(dict.fromkeys(c)) for c in combos if c)


def _han_group(run: str) -> WordGroup | None:
    words = segment_words(run)
    readings = _readings(words)
    if not readings:
        return None
    return WordGroup(own=tuple(_bigrams(run, cover=True)), readings=readings)


def _latin_groups(text: str) -> tuple[list[str], list[WordGroup]]:
    """(stems without a reading, groups): a stem pair the dictionary has as one entry
    (lithium battery → 锂电池) is one group, else each stem with readings is its own."""
    stems = tokenize(text, lang="en")
    plain: list[str] = []
    groups: list[WordGroup] = []
    i = 0
    while i < len(stems):
        if i + 1 < len(stems):
            pair = alternatives(f"{stems[i]}_{stems[i + 1]}")
            if pair:
                own = (stems[i], stems[i + 1])
                both = _readings(list(own))
                readings = tuple(dict.fromkeys([*(_index_form(r) for r in pair), *both]))
                groups.append(WordGroup(own=own, readings=tuple(r for r in readings if r)))
                i += 2
                continue
        readings = _readings([stems[i]])
        if readings:
            groups.append(WordGroup(own=(stems[i],), readings=readings))
        else:
            plain.append(stems[i])
        i += 1
    return plain, groups


def plain_query(q: str | None) -> Query:
    """A search's terms and substrings without readings in the other language (the patent
    list's: a patent is indexed under its titles in both languages already)."""
    terms, singles = _keywords(q, cover=True)
    substrings = singles or ([] if terms else normalize_for_search(q or "").split())
    return Query(terms[:MAX_QUERY_TERMS], list(dict.fromkeys(substrings))[:MAX_QUERY_TERMS])


def parse_query(q: str | None) -> Query:
    """The terms, word groups and substrings of a visitor's search (MAX_QUERY_TERMS of each).

    A Han run or English word with a reading in the other language becomes a group; the rest
    are plain terms, exactly as before."""
    norm = normalize_for_search(q or "")
    terms: list[str] = []
    singles: list[str] = []
    groups: list[WordGroup] = []
    for run in HAN_RUN.findall(norm):
        if len(run) == 1 and is_element(run):
            # An index term of its own (`element_terms`), read in English too: 锂 → lithium.
            readings = tuple(r for r in (_index_form(a) for a in alternatives(run)) if r)
            groups.append(WordGroup(own=(run,), readings=readings))
            continue
        if len(run) == 1:
            singles.append(run)
            continue
        group = _han_group(run)
        if group is None:
            terms.extend(_bigrams(run, cover=True))
        else:
            groups.append(group)
    plain, latin = _latin_groups(HAN_RUN.sub(" ", norm))
    terms.extend(plain)
    groups.extend(latin)
    terms = list(dict.fromkeys(_cut(t) for t in terms))
    substrings = singles
    if not terms and not singles and not groups:
        substrings = norm.split()
    return Query(
        terms[:MAX_QUERY_TERMS],
        list(dict.fromkeys(substrings))[:MAX_QUERY_TERMS],
        list(dict.fromkeys(groups))[:MAX_QUERY_TERMS],
    )
