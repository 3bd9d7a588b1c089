"""USPTO full-text XML: weekly bulk files (ipgYYMMDD.xml grants, ipaYYMMDD.xml applications).

A weekly file is not one XML document but thousands concatenated, each starting with its own
`<?xml ...?>` line, so it is split on those lines while reading and each document is parsed on
its own: memory holds one patent (a few MB at most), never the week (~1 GB).

Handled schemas: grant XML v4.x (`us-patent-grant`, 2005–) and application XML v4.x
(`us-patent-application`, 2005–; the 2004 v4.0 samples included). The record's row number is
the line on which its document starts, which is what `grep -n` shows a person looking for it.
The DTDs named in DOCTYPE are never fetched (expat does not load external entities).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shuanglian.errors import ImportFailed
from shuanglian.patents.importers.common import ImportItem, RowRejection, build_record

ROOTS = {
    "us-patent-grant": "us-bibliographic-data-grant",
    "us-patent-application": "us-bibliographic-data-application",
}
_SPACES = re.compile(r"\s+")
DOCUMENT_FIELD = "XML 文档 (document)"


def split_documents(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number of the `<?xml` line, document bytes) for each document in the file."""
    start_line, lines = 0, list[bytes]()
    with Path(path).open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.lstrip().startswith(b"<?xml") and lines:
                yield start_line, b"".join(lines)
                lines = []
            if not lines:
                if not line.strip():
                    continue
                start_line = number
            lines.append(line)
    if lines:
        yield start_line, b"".join(lines)


def parse_uspto_xml(path: Path) -> Iterator[ImportItem]:
    """Stream the patents of a USPTO XML file (one document or a weekly bulk file)."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    if not head:
        raise ImportFailed(f"文件 {path.name} 是空的（the file is empty）")
    if not head.startswith(b"<?xml") and not head.startswith(b"<"):
        raise ImportFailed(f"{path.name} 不是 XML 文件（not an XML file）")
    return _records(path)


def _records(path: Path) -> Iterator[ImportItem]:
    for line, document in split_documents(path):
        yield parse_document(document, row=line, source_file=path.name)


def parse_document(document: bytes, *, row: int, source_file: str | None = None) -> ImportItem:
    """One USPTO XML document → `PatentIn`, or a rejection naming what is wrong."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        return RowRejection(row, DOCUMENT_FIELD, f"XML 格式错误：{exc}（malformed XML: {exc}）")
    except (LookupError, ValueError) as exc:  # e.g. <?xml encoding="UTF-z"?> (found by fuzzing)
        return RowRejection(
            row, DOCUMENT_FIELD, f"XML 声明的编码无效：{exc}（bad encoding declaration: {exc}）"
        )
    biblio_tag = ROOTS.get(root.tag)
    biblio = root.find(biblio_tag) if biblio_tag else None
    if biblio is None:
        return RowRejection(
            row,
            DOCUMENT_FIELD,
            f"不支持的 XML 类型 <{root.tag}>，只支持 USPTO 授权/申请 XML v4"
            f"（unsupported document <{root.tag}>: only USPTO grant/application XML v4）",
        )
    values, columns = _fields(root, biblio, grant=root.tag == "us-patent-grant")
    return build_record(
        row, values, columns, source_file=source_file, country_hint="US", language="en"
    )


def _fields(
    root: ET.Element, biblio: ET.Element, *, grant: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    pub = biblio.find("publication-reference/document-id")
    app_ref = biblio.find("application-reference")
    app = app_ref.find("document-id") if app_ref is not None else None
    values: dict[str, Any] = {
        "application_number": _text(app, "doc-number"),
        "publication_number": _text(pub, "country") + _text(pub, "doc-number") + _text(pub, "kind"),
        "filing_date": _text(app, "date"),
        "publication_date": _text(pub, "date"),
        "title": _all_text(biblio.find("invention-title")),
        "abstract": _all_text(root.find("abstract")),
        "ipc_codes": _ipc(biblio),
        "cpc_codes": _cpc(biblio),
        "applicants": _holders(biblio),
        "inventors": _inventors(biblio),
    }
    if grant:
        values["grant_date"] = values["publication_date"]
        values["claims_count"] = _text(biblio, "number-of-claims")
    appl_type = app_ref.get("appl-type") if app_ref is not None else None
    if appl_type:
        values["patent_type"] = appl_type
    columns = {
        "application_number": "application-reference/doc-number",
        "publication_number": "publication-reference/doc-number",
        "filing_date": "application-reference/date",
        "publication_date": "publication-reference/date",
        "grant_date": "publication-reference/date",
        "title": "invention-title",
        "abstract": "abstract",
        "claims_count": "number-of-claims",
        "patent_type": "application-reference/@appl-type",
    }
    return values, columns


def _text(element: ET.Element | None, path: str) -> str:
    if element is None:
        return ""
    return (element.findtext(path) or "").strip()


def _all_text(element: ET.Element | None) -> str:
    """Text of an element and its children (<i>, <sub>, <p>...), whitespace collapsed."""
    if element is None:
        return ""
    return _SPACES.sub(" ", " ".join(element.itertext())).strip()


def _ipc(biblio: ET.Element) -> list[str]:
    codes = []
    for item in biblio.findall("classifications-ipcr/classification-ipcr"):
        codes.append(_symbol(item))
    if not codes:  # application XML v4.0 (2004): edition-7 IPC as written strings
        old = biblio.find("classification-ipc")
        if old is not None:
            codes.append(_text(old, "main-classification"))
            codes.extend((e.text or "").strip() for e in old.findall("further-classification"))
    return [c for c in codes if c]


def _cpc(biblio: ET.Element) -> list[str]:
    items = biblio.findall("classifications-cpc/main-cpc/classification-cpc")
    items += biblio.findall("classifications-cpc/further-cpc/classification-cpc")
    return [code for code in (_symbol(i) for i in items) if code]


def _symbol(item: ET.Element) -> str:
    """`G` `06` `F` `15` `16` → `G06F15/16`."""
    head = _text(item, "section") + _text(item, "class") + _text(item, "subclass")
    group, subgroup = _text(item, "main-group"), _text(item, "subgroup")
    return f"{head}{group}/{subgroup}" if group and subgroup else head


def _name(party: ET.Element) -> str:
    book = party.find("addressbook")
    if book is None:
        return ""
    org = _text(book, "orgname")
    if org:
        return org
    return " ".join(p for p in (_text(book, "first-name"), _text(book, "last-name")) if p)


def _holders(biblio: ET.Element) -> list[str]:
    """Assignees (the owners); the named applicants when nothing is assigned."""
    names = [_name(a) for a in biblio.findall("assignees/assignee")]
    if not any(names):
        names = [_name(a) for a in biblio.findall("us-parties/us-applicants/us-applicant")]
        names += [_name(a) for a in biblio.findall("parties/applicants/applicant")]
    return [n for n in names if n]


def _inventors(biblio: ET.Element) -> list[str]:
    names = [_name(i) for i in biblio.findall("us-parties/inventors/inventor")]
    names += [_name(i) for i in biblio.findall("parties/inventors/inventor")]
    if not names:  # before v4.3 the inventors are the applicants typed "applicant-inventor"
        for party in biblio.findall("parties/applicants/applicant") + biblio.findall(
            "us-parties/us-applicants/us-applicant"
        ):
            if party.get("app-type") == "applicant-inventor":
                names.append(_name(party))
    return [n for n in names if n]
