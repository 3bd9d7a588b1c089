"""Chemical elements: the one-character Chinese words that name something precise.

Chinese writes each element with one character (锂 lithium, 钠 sodium, 镍 nickel), and mostly
inside a compound (锂离子电池, 钠离子, 碳酸锂, 磷酸铁锂). Two things went wrong without this
table: a one-character word counts as generic (高, 用, 含 name nothing), so 锂 was never
evidence nor shown; and CC-CEDICT's one-character entries are left out of the translation
tables, so an English search for `lithium` or `nickel` found no Chinese patent at all. Here the
element characters are words of their own: the tokenizer (`tokenize(..., elements=True)`) also
emits the element a compound holds (钠离子 → 钠), `is_generic` lets them count, and the
dictionary translates them (lithium ↔ 锂).

Names are the elements' English names (IUPAC, with the common spelling variants); the table
stops at americium: heavier elements do not occur in the platform's texts.
"""

from __future__ import annotations

from types import MappingProxyType

# Character → English names. Written out from the periodic table.
_NAMES: dict[str, tuple[str, ...]] = {
    "氢": ("hydrogen",), "氦": ("helium",), "锂": ("lithium",), "铍": ("beryllium",),
    "硼": ("boron",), "碳": ("carbon",), "氮": ("nitrogen",), "氧": ("oxygen",),
    "氟": ("fluorine",), "氖": ("neon",), "钠": ("sodium",), "镁": ("magnesium",),
    "铝": ("aluminium", "aluminum"), "硅": ("silicon",), "磷": ("phosphorus",),
    "硫": ("sulfur", "sulphur"), "氯": ("chlorine",), "氩": ("argon",), "钾": ("potassium",),
    "钙": ("calcium",), "钪": ("scandium",), "钛": ("titanium",), "钒": ("vanadium",),
    "铬": ("chromium",), "锰": ("manganese",), "铁": ("iron",), "钴": ("cobalt",),
    "镍": ("nickel",), "铜": ("copper",), "锌": ("zinc",), "镓": ("gallium",),
    "锗": ("germanium",), "砷": ("arsenic",), "硒": ("selenium",), "溴": ("bromine",),
    "氪": ("krypton",), "铷": ("rubidium",), "锶": ("strontium",), "钇": ("yttrium",),
    "锆": ("zirconium",), "铌": ("niobium",), "钼": ("molybdenum",), "锝": ("technetium",),
    "钌": ("ruthenium",), "铑": ("rhodium",), "钯": ("palladium",), "银": ("silver",),
    "镉": ("cadmium",), "铟": ("indium",), "锡": ("tin",), "锑": ("antimony",),
    "碲": ("tellurium",), "碘": ("iodine",), "氙": ("xenon",), "铯": ("caesium", "cesium"),
    "钡": ("barium",), "镧": ("lanthanum",), "铈": ("cerium",), "镨": ("praseodymium",),
    "钕": ("neodymium",), "钷": ("promethium",), "钐": ("samarium",), "铕": ("europium",),
    "钆": ("gadolinium",), "铽": ("terbium",), "镝": ("dysprosium",), "钬": ("holmium",),
    "铒": ("erbium",), "铥": ("thulium",), "镱": ("ytterbium",), "镥": ("lutetium",),
    "铪": ("hafnium",), "钽": ("tantalum",), "钨": ("tungsten",), "铼": ("rhenium",),
    "锇": ("osmium",), "铱": ("iridium",), "铂": ("platinum",), "金": ("gold",),
    "汞": ("mercury",), "铊": ("thallium",), "铅": ("lead",), "铋": ("bismuth",),
    "钋": ("polonium",), "砹": ("astatine",), "氡": ("radon",), "钫": ("francium",),
    "镭": ("radium",), "锕": ("actinium",), "钍": ("thorium",), "镤": ("protactinium",),
    "铀": ("uranium",), "镎": ("neptunium",), "钚": ("plutonium",), "镅": ("americium",),
}  # fmt: skip

ELEMENT_NAMES = MappingProxyType(_NAMES)

# Characters that mean something else inside common words, so a compound does not name the
# element through them: 资金 / 基金 (gold), 银行 (silver), 地铁 / 铁路 (iron), 无锡 (tin), 铅笔
# (lead); 氧化 is a process (oxidation) in most texts that write it, 氢氧化 a hydroxide (a
# sugar synthesis using 甲醇钠 and 加氢 read as `hydrogen production`), and an English `lead` is
# mostly the verb. They keep the plain word rules (one character alone is generic,
# untranslated; `hydrogen` still reads 氢气 through the dictionary).
_AMBIGUOUS = frozenset("金银铁锡铅氧氢")

# Element characters a compound names (钠离子 → 钠) and that count as specific words.
ELEMENT_CHARS = frozenset(_NAMES) - _AMBIGUOUS


def is_element(term: str) -> bool:
    """Whether `term` is one unambiguous element character (锂, 钠, 镍; not 金 or 铁)."""
    return term in ELEMENT_CHARS


def elements_in(word: str) -> list[str]:
    """The unambiguous element characters a word of two or more characters holds, in order,
    each once (碳酸锂 → 碳, 锂; 离子 → none)."""
    if len(word) < 2:
        return []
    return list(dict.fromkeys(ch for ch in word if ch in ELEMENT_CHARS))
