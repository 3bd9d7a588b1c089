"""CC-CEDICT translations of search terms, and surface forms of terms in the original text."""

from __future__ import annotations

import pytest

from shuanglian.text.bilingual import (
    alternatives,
    expand_terms,
    glosses,
    is_loose_translation,
    translate_term,
    translations,
)
from shuanglian.text.surface import surface_form
from shuanglian.text.tokenize import tokenize


def test_chinese_word_translates_to_english_terms() -> None:
    terms = dict(translate_term("锂电池"))
    assert {"lithium", "batteri", "lithium_batteri"} <= set(terms)
    assert dict(translate_term("燃料电池"))["fuel_cell"] == 1.0
    assert translate_term("电") == ()  # single characters are too ambiguous


def test_english_term_translates_to_chinese_words_by_main_sense() -> None:
    battery = dict(translate_term("batteri"))
    assert battery["电池"] == max(battery.values())
    assert dict(translate_term("lithium_batteri")) == {"锂电池": 1.0}


def test_a_later_dictionary_sense_is_no_translation() -> None:
    """CC-CEDICT's 汽车 is "car; automobile; bus": its third sense put 汽车 on every English
    "data bus" (and "bus" on 汽车). Only a word's first two senses translate it."""
    car = dict(translate_term("汽车"))
    assert {"car", "automobil"} <= set(car) and "bus" not in car
    assert "汽车" not in dict(translate_term("bus"))
    assert "公共汽车" in dict(translate_term("bus"))  # bus's own word still reads it
    assert ("bus",) not in alternatives("汽车") and ("汽车",) not in alternatives("bus")
    # Same rule elsewhere: 单元 "unit; element; entrance or staircase".
    assert "staircas" not in dict(translate_term("单元"))


def test_a_later_sense_marked_technical_translates_and_a_figurative_one_never() -> None:
    """内核 is "core (of a fruit); (fig.) the essence; (geology) inner core; (computing)
    kernel": a computing kernel patent must reach 内核, and no English "essence" may."""
    assert "kernel" in dict(translate_term("内核"))
    assert "内核" in dict(translate_term("kernel"))
    assert "essenc" not in dict(translate_term("内核"))
    assert "内核" not in dict(translate_term("essenc"))
    assert "线程" in dict(translate_term("thread"))  # "(computing) thread", its only sense


def test_function_and_drafting_words_are_never_translations() -> None:
    """CC-CEDICT's 养殖 is "to cultivate; to further", 通信 "to correspond; to communicate",
    炮制 "to concoct; to invent": as translations they matched every "further",
    "corresponding" and "invention" of an English patent to fish farms, phone shops and herbal
    medicine makers. Such words (and their stems) never translate; the right senses stay."""
    for term in ("further", "correspond", "invent", "may", "number", "one"):
        assert translate_term(term) == (), term
    # 养殖 reads as the technical glossary's farming senses (text.glossary), never "further".
    assert {"aquacultur", "farm"} <= dict(translate_term("养殖")).keys()
    assert "further" not in dict(translate_term("养殖"))
    assert dict(translate_term("通信")).keys() == {"communic"}
    assert "通信" in dict(translate_term("communic"))
    assert translate_term("发明") == ()  # "to invent; invention": patent boilerplate


def test_a_gloss_word_whose_stem_is_another_word_is_no_translation() -> None:
    """工程 "engineering" stems to `engin`, which is engine's stem too: every construction
    firm's 通信工程、消防工程 matched every engine patent, and an English engine patent
    translated to 工程 in every business scope. Engines keep their own Chinese words."""
    for word in ("工程", "通信工程", "消防工程", "工程师"):
        assert "engin" not in dict(translate_term(word)), word
    assert "engin" in dict(translate_term("发动机"))
    assert "发动机" in dict(translate_term("engin"))
    assert "工程" not in dict(translate_term("engin"))


def test_a_compound_does_not_translate_through_its_generic_parts() -> None:
    """A compound the dictionary lacks reads through its parts, but a generic part (材料
    "material; data", 系统, 工程) is a query term of its own already: through the compound it
    made 正极材料 read as "data" and 计算机系统 as "system"."""
    cathode = dict(translate_term("正极材料"))
    assert "cathod" in cathode and "data" not in cathode
    assert translate_term("计算机系统") == ()
    assert "gypsum" in dict(translate_term("石膏板"))


def test_an_english_word_of_too_many_chinese_words_is_a_loose_translation() -> None:
    """`build` glosses 建设, 建筑, 房屋, 修建 … and `make` 制作, 造成, 使得 …: English → Chinese
    leaves them untranslated, and Chinese → English still reaches them but marks them loose,
    so they are no evidence."""
    assert translate_term("build") == () and is_loose_translation("build")
    assert is_loose_translation("make") and is_loose_translation("construct")
    assert "construct" in dict(translate_term("建设"))
    assert not is_loose_translation("batteri") and not is_loose_translation("lithium_batteri")


def test_translations_share_weight_among_words_the_index_has() -> None:
    known = {"电池", "燃料"}.__contains__
    alone = dict(translations("batteri", known=known))
    assert set(alone) == {"电池"}
    # The absent words' share goes to the present one, at most doubling it.
    share = dict(translate_term("batteri"))["电池"]
    assert alone["电池"] == pytest.approx(min(1.0, 2 * share))
    known = {"电瓶"}.__contains__  # a small share alone is doubled at most
    assert dict(translations("batteri", known=known))["电瓶"] == pytest.approx(
        2 * dict(translate_term("batteri"))["电瓶"]
    )


def test_an_english_word_goes_mostly_to_the_chinese_word_technical_texts_use() -> None:
    """CC-CEDICT glosses 形象 (a public image: 企业形象策划 in thousands of business scopes)
    and 图像 alike as "image", 培训 (training courses) and 训练 alike as "train". An English
    patent's "image" matched advertising firms through 形象; now the words Chinese technical
    texts use take most of the weight (and the technical glossary lists no 形象 for it)."""
    image = dict(translate_term("imag"))
    assert "形象" not in image and max(image, key=image.__getitem__) in {"图像", "成像"}
    train = dict(translate_term("train"))
    assert max(train, key=train.__getitem__) == "训练"
    assert train["训练"] > 2 * train["培训"]


def test_expand_terms_for_catalogue_search() -> None:
    expanded = [t for t, _ in expand_terms(tokenize("锂电池 回收", phrases=True))]
    assert "lithium_batteri" in expanded and "recycl" in expanded
    back = [t for t, _ in expand_terms(tokenize("lithium battery recycling", phrases=True))]
    assert "锂电池" in back and "回收" in back
    assert glosses("锂电池") == ["lithium battery"]


def test_surface_forms_are_the_written_words() -> None:
    assert surface_form("batteri", "Spent Lithium Batteries are recycled") == "Batteries"
    assert surface_form("lithium_batteri", "spent lithium batteries") == "lithium batteries"
    assert surface_form("数据_采集", "网络数据采集系统") == "数据采集"
    assert surface_form("数据_采集", "数据的采集") is None
    assert surface_form("软件", "一種網路軟體") == "軟體"
    assert surface_form("camera", "无人机") is None


def test_the_dictionary_is_parsed_once_when_many_threads_ask_at_once() -> None:
    """The first searches after a start, arriving together, each parsed CC-CEDICT (lru_cache
    does not hold back the callers while it builds); now they share one build."""
    import threading

    from shuanglian.text.bilingual import _parsed, cedict_glosses

    _parsed.cache_clear()  # type: ignore[attr-defined]
    start = threading.Barrier(6)
    tables: list[object] = []

    def ask() -> None:
        start.wait()
        tables.append(cedict_glosses())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tables) == 6
    assert all(table is tables[0] for table in tables)  # one dictionary, built once
