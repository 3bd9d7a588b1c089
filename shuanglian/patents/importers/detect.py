"""Guess which importer a patent file needs, from its name, first bytes and header."""

from __future__ import annotations

from pathlib import Path

from shuanglian.errors import ImportFailed
from shuanglian.patents.importers.cnipa import looks_like_cnipa
from shuanglian.patents.importers.cnki import looks_like_cnki
from shuanglian.patents.importers.patentsview import TABLES, is_patentsview
from shuanglian.patents.importers.patsnap import looks_like_patsnap
from shuanglian.tabular import read_table

FORMATS = ("cnipa", "cnki", "patsnap", "patentsview", "uspto-xml", "csv")


def _known_header(header: list[str]) -> bool:
    return looks_like_patsnap(header) or looks_like_cnki(header) or looks_like_cnipa(header)


def detect_format(path: Path) -> str:
    """'cnipa' | 'cnki' | 'patsnap' | 'patentsview' | 'uspto-xml' | 'csv' (the last needs a
    column mapping).

    PatSnap is tested before CNIPA: its headers (公开(公告)号, 申请号, 标题) would also satisfy the
    CNIPA aliases, but only PatSnap writes 标题(译)(English) or [标]当前申请(专利权)人.
    """
    path = Path(path)
    if path.is_dir():
        if is_patentsview(path):
            return "patentsview"
        raise ImportFailed(
            f"文件夹 {path.name} 中没有 PatentsView 的 g_patent.tsv"
            "（folder holds no PatentsView g_patent.tsv）"
        )
    if not path.is_file():
        raise ImportFailed(f"找不到文件 {path.name}（file not found）")
    with path.open("rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() == ".xml" or head.startswith(b"<?xml"):
        return "uspto-xml"
    if path.stem.lower() in TABLES:
        return "patentsview"
    header, rows = read_table(path, is_header=_known_header)
    rows.close()
    if looks_like_patsnap(header):
        return "patsnap"
    if looks_like_cnki(header):
        return "cnki"
    if looks_like_cnipa(header):
        return "cnipa"
    if {"patent_id", "patent_title"} <= set(header):
        return "patentsview"
    return "csv"
