"""Province-level region of a free-text place (江苏省南京市 → 江苏), to tell 「同一地区」.

Regions are typed by people and importers in many spellings (江苏, 江苏省, 江苏省南京市,
广西壮族自治区, 香港特别行政区, Traditional 廣東); comparing them as strings would call 江苏 and
江苏省 different places. The 34 province-level divisions have distinct short names, and a
region starts with one of them, so the short name is found by prefix after normalisation.
"""

from __future__ import annotations

from functools import lru_cache

from shuanglian.text.normalize import normalize_for_search

# GB/T 2260 province-level divisions by short name (the 34, incl. Taiwan, Hong Kong, Macao).
PROVINCES: tuple[str, ...] = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川",
    "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门",
)  # fmt: skip


@lru_cache(maxsize=4096)
def province_of(region: str | None) -> str | None:
    """The province-level short name a region starts with (江苏省南京市 → 江苏), else None."""
    text = normalize_for_search(region or "").replace(" ", "")
    if text.startswith("中国"):
        text = text[2:]
    for name in PROVINCES:
        if text.startswith(name):
            return name
    return None


def same_region(a: str | None, b: str | None) -> bool:
    """Whether two places are in the same province-level region (unknown is never the same)."""
    pa = province_of(a)
    return pa is not None and pa == province_of(b)
