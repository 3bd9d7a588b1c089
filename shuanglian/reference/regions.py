"""China's provincial-level divisions (GB/T 2260 codes) and how to find one in free text.

Institution regions (`Institution.region`) and enterprise provinces (`Enterprise.province`) are
free text as imported ("上海", "江苏省南京市", "广西壮族自治区"); a province's short name is a
prefix of every spelling, so a region filter is one `LIKE '短名%'` and text is mapped to its
province by the longest matching short name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Province:
    """One provincial-level division: its 2-digit GB/T 2260 code and names."""

    code: str  # "11"; the 6-digit form is code + "0000"
    name: str  # 北京市
    short: str  # 北京 (also the name the ECharts China map uses after its suffix is dropped)
    name_en: str


PROVINCES: tuple[Province, ...] = tuple(
    Province(code, name, short, en)
    for code, name, short, en in (
        ("11", "北京市", "北京", "Beijing"),
        ("12", "天津市", "天津", "Tianjin"),
        ("13", "河北省", "河北", "Hebei"),
        ("14", "山西省", "山西", "Shanxi"),
        ("15", "内蒙古自治区", "内蒙古", "Inner Mongolia"),
        ("21", "辽宁省", "辽宁", "Liaoning"),
        ("22", "吉林省", "吉林", "Jilin"),
        ("23", "黑龙江省", "黑龙江", "Heilongjiang"),
        ("31", "上海市", "上海", "Shanghai"),
        ("32", "江苏省", "江苏", "Jiangsu"),
        ("33", "浙江省", "浙江", "Zhejiang"),
        ("34", "安徽省", "安徽", "Anhui"),
        ("35", "福建省", "福建", "Fujian"),
        ("36", "江西省", "江西", "Jiangxi"),
        ("37", "山东省", "山东", "Shandong"),
        ("41", "河南省", "河南", "Henan"),
        ("42", "湖北省", "湖北", "Hubei"),
        ("43", "湖南省", "湖南", "Hunan"),
        ("44", "广东省", "广东", "Guangdong"),
        ("45", "广西壮族自治区", "广西", "Guangxi"),
        ("46", "海南省", "海南", "Hainan"),
        ("50", "重庆市", "重庆", "Chongqing"),
        ("51", "四川省", "四川", "Sichuan"),
        ("52", "贵州省", "贵州", "Guizhou"),
        ("53", "云南省", "云南", "Yunnan"),
        ("54", "西藏自治区", "西藏", "Tibet"),
        ("61", "陕西省", "陕西", "Shaanxi"),
        ("62", "甘肃省", "甘肃", "Gansu"),
        ("63", "青海省", "青海", "Qinghai"),
        ("64", "宁夏回族自治区", "宁夏", "Ningxia"),
        ("65", "新疆维吾尔自治区", "新疆", "Xinjiang"),
        ("71", "台湾省", "台湾", "Taiwan"),
        ("81", "香港特别行政区", "香港", "Hong Kong"),
        ("82", "澳门特别行政区", "澳门", "Macao"),
    )
)
BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}
_BY_SHORT_LONGEST = sorted(PROVINCES, key=lambda p: -len(p.short))


def province_of(text: str | None) -> Province | None:
    """The province a free-text region names ("江苏南京" → 江苏), or None."""
    if not text:
        return None
    value = text.strip()
    for p in _BY_SHORT_LONGEST:
        if value.startswith(p.short):
            return p
    return None


def parse_region(code: str) -> Province:
    """A province from "32", "320000" or a name ("江苏", "江苏省"); ValueError names the fix."""
    value = (code or "").strip()
    if value.isdigit() and len(value) in (2, 6) and value[:2] in BY_CODE:
        if len(value) == 6 and value[2:] != "0000":
            raise ValueError(
                f"地区须为省级代码 (region must be a province code): {value!r}，如 320000 或 32"
            )
        return BY_CODE[value[:2]]
    found = province_of(value)
    if found is None:
        raise ValueError(
            f"未知的地区 (unknown region): {value!r}；"
            "请填写省级行政区划代码（如 32）或名称（如 江苏）"
        )
    return found
