"""Format parsers on the real shared samples and on hostile files (no database needed)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from shuanglian.errors import ImportFailed
from shuanglian.patents.importers import detect_format, parse_patent_file
from shuanglian.patents.importers.common import RowRejection, split_codes, split_names
from shuanglian.patents.importers.generic_csv import load_mapping
from shuanglian.patents.importers.patentsview import parse_patentsview
from shuanglian.patents.importers.uspto_xml import split_documents
from shuanglian.patents.schemas import PatentIn

from .factories import CNIPA_HEADER, NVIDIA_MAPPING, cnipa_row, read_sample_rows, write_csv

USPTO_FILES = [
    "US07272630B2.xml",
    "US08926509.xml",
    "US08927118.xml",
    "US08930553.xml",
    "US20050004437A1.xml",
    "US20050004974A1.xml",
]


@pytest.fixture
def cnipa_sample(shared_dir: Path) -> Path:
    return shared_dir / "data/samples/cn_patents_research_institute_sample10.csv"


@pytest.fixture
def weekly_xml(shared_dir: Path, tmp_path: Path) -> Path:
    """The six USPTO sample documents concatenated, as in a weekly ipg/ipa bulk file."""
    path = tmp_path / "ipg150106.xml"
    with path.open("wb") as out:
        for name in USPTO_FILES:
            out.write((shared_dir / "data/samples/uspto" / name).read_bytes())
    return path


def _split(items) -> tuple[list[PatentIn], list[RowRejection]]:  # type: ignore[no-untyped-def]
    items = list(items)
    records = [i for i in items if isinstance(i, PatentIn)]
    rejections = [i for i in items if isinstance(i, RowRejection)]
    return records, rejections


# --------------------------------------------------------------------------- CNIPA


def test_cnipa_sample_all_rows(cnipa_sample: Path) -> None:
    records, rejections = _split(parse_patent_file(cnipa_sample))
    assert rejections == []
    assert [r.source_row for r in records] == list(range(2, 12))
    first = records[0]
    assert first.application_key == "CN202223220665"
    assert first.application_number == "CN202223220665.2"
    assert first.publication_number == "CN218751475U"
    assert first.patent_type == "utility_model"
    assert first.filing_date == date(2022, 12, 2)
    assert first.expiry_date == date(2032, 12, 2)
    assert first.applicants == ["中科大数据研究院"]
    assert first.main_ipc == "B64U20/80"
    assert first.ipc_codes == ["B64U20/80", "B64U101/30"]
    assert first.legal_status == "有权-审定授权"
    assert first.transfer_count == 0 and first.licence_count == 0
    assert first.language == "zh"
    # 发明公开;发明授权 in the sample is one invention patent
    assert {r.patent_type for r in records} == {"utility_model", "invention"}


def test_cnipa_gbk_copy_matches(cnipa_sample: Path, tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(cnipa_sample.read_text(encoding="utf-8").encode("gb18030"))
    original, _ = _split(parse_patent_file(cnipa_sample))
    copy, rejections = _split(parse_patent_file(gbk))
    assert rejections == []
    strip = {"source_file"}
    assert [r.model_dump(exclude=strip) for r in copy] == [
        r.model_dump(exclude=strip) for r in original
    ]


def test_cnipa_xlsx_copy_with_date_cells_and_formula(cnipa_sample: Path, tmp_path: Path) -> None:
    rows = read_sample_rows(cnipa_sample)
    wb = Workbook()
    ws = wb.active
    ws.append(CNIPA_HEADER)
    for row in rows:
        cells = [row[h] for h in CNIPA_HEADER]
        cells[2] = datetime.strptime(row["申请日"], "%Y%m%d")  # a real Excel date cell
        ws.append(cells)
    ws.append(["CN202223220665.2", "", "2022-12-02", "实用新型", '=HYPERLINK("http://x","点我")'])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    assert detect_format(path) == "cnipa"
    records, rejections = _split(parse_patent_file(path))
    assert rejections == []
    assert len(records) == 11
    assert records[0].filing_date == date(2022, 12, 2)
    assert records[-1].source_row == 12
    assert records[-1].title == '=HYPERLINK("http://x","点我")'  # literal text, not evaluated


def test_cnipa_aliases(tmp_path: Path) -> None:
    header = [
        "申请号",
        "名称",
        "摘要",
        "申请(专利权)人",
        "发明(设计)人",
        "申请日期",
        "公开(公告)号",
    ]
    header += ["公开(公告)日", "授权日", "权利要求数", "IPC分类号"]
    row = {
        "申请号": "202223220665.2",
        "名称": "一种无人机机载多功能盒",
        "摘要": "摘要文字",
        "申请(专利权)人": "中科大数据研究院；某大学",
        "发明(设计)人": "张三;李四",
        "申请日期": "2022年12月2日",
        "公开(公告)号": "CN218751475U",
        "公开(公告)日": "2023.04.07",
        "授权日": "07.04.2023",
        "权利要求数": "10",
        "IPC分类号": "B64U 20/80, B64U 101/30",
    }
    records, rejections = _split(
        parse_patent_file(write_csv(tmp_path / "a.csv", [row], header=header))
    )
    assert rejections == []
    (record,) = records
    assert record.applicants == ["中科大数据研究院", "某大学"]
    assert record.inventors == ["张三", "李四"]
    assert record.publication_date == record.grant_date == date(2023, 4, 7)
    assert record.claims_count == 10
    assert record.ipc_codes == ["B64U20/80", "B64U101/30"]
    assert record.main_ipc == "B64U20/80"


def test_bad_rows_rejected_good_rows_kept(tmp_path: Path) -> None:
    rows = [
        cnipa_row(),
        cnipa_row(申请号=""),
        cnipa_row(申请号="CN202223220665.9"),
        cnipa_row(申请号="CN202122975192.6", 申请日="去年冬天"),
        cnipa_row(申请号="CN202121635235.X", 专利名称="长" * 10_000),
        cnipa_row(申请号="CN202121635426.6", 专利名称="控制\x07字符\x1b去除"),
        cnipa_row(申请号="CN202121741650.3", 专利类型="软件著作权"),
        cnipa_row(申请号="CN202121762003.0", 许可次数="两次"),
        cnipa_row(申请号="CN202121751980.0", 专利名称=""),
        cnipa_row(申请号="CN202211740332.4", 法律状态="状" * 80),
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    records, rejections = _split(parse_patent_file(path))
    assert [r.source_row for r in records] == [2, 7]
    assert records[1].title == "控制字符去除"
    found = {(r.row, r.field) for r in rejections}
    assert found == {
        (3, "申请号"),
        (4, "申请号"),
        (5, "申请日"),
        (6, "专利名称"),
        (8, "专利类型"),
        (9, "许可次数"),
        (10, "专利名称"),
        (11, "法律状态"),
    }
    messages = {r.row: r.message for r in rejections}
    assert "缺少申请号" in messages[3]
    assert "校验位" in messages[4]
    assert "2022年12月2日" in messages[5]  # the accepted forms are listed
    assert "1000" in messages[6]
    assert "60" in messages[11]


def test_header_only_file_has_no_records(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [])
    assert list(parse_patent_file(path)) == []


def test_empty_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFailed, match="空"):
        parse_patent_file(path, fmt="cnipa")


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    header = [h for h in CNIPA_HEADER if h != "专利名称"]
    path = write_csv(tmp_path / "m.csv", [cnipa_row()], header=header)
    with pytest.raises(ImportFailed, match="专利名称"):
        parse_patent_file(path, fmt="cnipa")


def test_renamed_pdf_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "patents.csv"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(ImportFailed, match="PDF"):
        parse_patent_file(path)


# --------------------------------------------------------------------------- generic CSV


def test_nvidia_sample_through_mapping(shared_dir: Path, tmp_path: Path) -> None:
    sample = shared_dir / "data/samples/en_patents_nvidia_sample150.csv"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(NVIDIA_MAPPING), encoding="utf-8")
    assert detect_format(sample) == "csv"
    records, rejections = _split(parse_patent_file(sample, mapping=mapping))
    assert rejections == []
    assert len(records) == 150
    first = records[0]
    assert first.application_key == "PN:US10032242"
    assert first.publication_number == "US10032242"
    assert first.grant_date == date(2018, 7, 24)
    assert first.applicants == ["NVIDIA CORPORATION"]
    assert first.cpc_codes[:2] == ["G06T1/20", "G06F9/38"]
    assert first.language == "en"
    assert first.patent_type == "invention"
    assert len({r.application_key for r in records}) == 150


def test_generic_csv_needs_mapping(shared_dir: Path) -> None:
    sample = shared_dir / "data/samples/en_patents_nvidia_sample150.csv"
    with pytest.raises(ImportFailed, match="mapping"):
        parse_patent_file(sample)


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"columns": {"title": "title"}}, "application_number"),
        ({"columns": {"title": "t", "publication_number": "p", "colour": "c"}}, "colour"),
        ({"cols": {}}, "columns"),
        ("{not json", "JSON"),
    ],
)
def test_bad_mappings(mapping: object, fragment: str) -> None:
    with pytest.raises(ImportFailed, match=fragment):
        load_mapping(mapping)  # type: ignore[arg-type]


def test_mapping_column_absent_from_file(shared_dir: Path) -> None:
    sample = shared_dir / "data/samples/en_patents_nvidia_sample150.csv"
    mapping = {"columns": {"title": "Title of invention", "publication_number": "patent_id"}}
    with pytest.raises(ImportFailed, match="Title of invention"):
        parse_patent_file(sample, mapping=mapping)


# --------------------------------------------------------------------------- USPTO XML


def test_weekly_file_split_on_xml_declarations(weekly_xml: Path) -> None:
    documents = list(split_documents(weekly_xml))
    assert len(documents) == 6
    assert documents[0][0] == 1
    assert all(doc.startswith(b"<?xml") for _, doc in documents)


def test_uspto_weekly_file(weekly_xml: Path) -> None:
    assert detect_format(weekly_xml) == "uspto-xml"
    records, rejections = _split(parse_patent_file(weekly_xml))
    assert rejections == []
    by_pub = {r.publication_number: r for r in records}
    assert set(by_pub) == {
        "US7272630B2",
        "US8926509B2",
        "US8927118B2",
        "US8930553B2",
        "US20050004437A1",
        "US20050004974A1",
    }
    grant = by_pub["US8926509B2"]
    assert grant.application_key == "US12134151"
    assert grant.title == "Wireless physiological sensor patches and systems"
    assert grant.filing_date == date(2008, 6, 5)
    assert grant.grant_date == date(2015, 1, 6)
    assert grant.claims_count == 31
    assert grant.applicants == ["Hmicro, Inc."]
    assert grant.inventors[0] == "Surendar Magar"
    assert grant.main_ipc == "A61B5/00"
    assert "A61B5/0205" in grant.cpc_codes
    assert grant.abstract and grant.abstract.startswith("The present invention provides")
    old = by_pub["US7272630B2"]  # grant XML v4.2: inventors are applicant-inventors
    assert old.applicants == ["Microsoft Corporation"]
    assert old.inventors == [
        "John R. Douceur",
        "Marvin M. Theimer",
        "Atul Adya",
        "William J. Bolosky",
    ]
    application = by_pub["US20050004437A1"]
    assert application.grant_date is None
    assert application.main_ipc == "A61B5/00"  # edition-7 "A61B005/00" compacted
    assert application.inventors == ["Heiner Kaufmann", "Thomas Vering"]


def test_uspto_broken_document_rejected_rest_kept(shared_dir: Path, tmp_path: Path) -> None:
    good = (shared_dir / "data/samples/uspto/US08930553.xml").read_bytes()
    path = tmp_path / "week.xml"
    path.write_bytes(good + b'<?xml version="1.0"?>\n<us-patent-grant><broken>\n' + good)
    records, rejections = _split(parse_patent_file(path))
    assert len(records) == 2
    (bad,) = rejections
    assert bad.row == good.count(b"\n") + 1
    assert "XML" in bad.message


def test_uspto_unsupported_root(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_text('<?xml version="1.0"?>\n<patent-application-publication/>\n')
    (item,) = list(parse_patent_file(path))
    assert isinstance(item, RowRejection) and "patent-application-publication" in item.message


# --------------------------------------------------------------------------- PatentsView


def _write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def patentsview_dir(shared_dir: Path, tmp_path: Path) -> Path:
    """PatentsView-shaped tables built from the real NVIDIA sample (side tables shuffled)."""
    rows = read_sample_rows(shared_dir / "data/samples/en_patents_nvidia_sample150.csv")[:20]
    folder = tmp_path / "pv"
    folder.mkdir()
    _write_tsv(
        folder / "g_patent.tsv",
        [
            "patent_id",
            "patent_type",
            "patent_date",
            "patent_title",
            "wipo_kind",
            "num_claims",
            "withdrawn",
        ],
        [[r["patent_id"], "utility", r["patent_date"], r["title"], "B2", "20", "0"] for r in rows]
        + [["9999999", "utility", "2018-01-02", "Withdrawn one", "B1", "3", "1"]],
    )
    _write_tsv(
        folder / "g_patent_abstract.tsv",
        ["patent_id", "patent_abstract"],
        [[r["patent_id"], r["abstract"]] for r in reversed(rows)],
    )
    cpc = []
    for r in rows:
        for seq, code in enumerate(r["cpc_groups"].split(";")):
            cpc.append([r["patent_id"], str(seq), code])
    cpc.reverse()
    _write_tsv(folder / "g_cpc_current.tsv", ["patent_id", "cpc_sequence", "cpc_group"], cpc)
    _write_tsv(
        folder / "g_assignee_disambiguated.tsv",
        ["patent_id", "assignee_sequence", "disambig_assignee_organization"],
        [[r["patent_id"], "0", r["assignees"]] for r in rows] + [["123", "0", "Other Inc."]],
    )
    _write_tsv(
        folder / "g_application.tsv",
        ["application_id", "patent_id", "filing_date", "series_code"],
        [["14/123456", rows[0]["patent_id"], "2014-05-06", "14"]],
    )
    return folder


def test_patentsview_join(patentsview_dir: Path, shared_dir: Path) -> None:
    assert detect_format(patentsview_dir) == "patentsview"
    rows = read_sample_rows(shared_dir / "data/samples/en_patents_nvidia_sample150.csv")[:20]
    for chunk in (3, 1000):
        records, rejections = _split(parse_patentsview(patentsview_dir, chunk_size=chunk))
        assert len(records) == 20
        assert [r.field for r in rejections] == ["withdrawn"]
        for record, row in zip(records, rows, strict=True):
            assert record.title == row["title"]
            assert record.abstract == row["abstract"]
            assert record.cpc_codes == split_codes(row["cpc_groups"])
            assert record.applicants == [row["assignees"]]
            assert record.publication_number == f"US{row['patent_id']}B2"
            assert record.claims_count == 20
            assert record.patent_type == "invention"
        assert records[0].application_key == "US14123456"
        assert records[0].filing_date == date(2014, 5, 6)
        assert records[0].expiry_date == date(2034, 5, 6)
        assert records[1].application_key == f"PN:US{rows[1]['patent_id']}"


def test_patentsview_needs_g_patent(tmp_path: Path) -> None:
    (tmp_path / "g_cpc_current.tsv").write_text("patent_id\tcpc_group\n")
    with pytest.raises(ImportFailed, match="g_patent"):
        parse_patent_file(tmp_path, fmt="patentsview")


def test_patentsview_header_in_another_case_is_read(tmp_path: Path) -> None:
    """`Patent_ID` matches the required `patent_id` column; the row reader then looked the
    value up under the canonical name and raised KeyError (found by the importer fuzzer)."""
    path = tmp_path / "g_patent.tsv"
    path.write_text(
        '"Patent_ID"\t"patent_type"\t"patent_date"\t"Patent_Title"\n'
        '"10000000"\t"utility"\t"2018-06-19"\t"Coherent LADAR"\n',
        encoding="utf-8",
    )
    records, rejections = _split(parse_patentsview(path))
    assert rejections == []
    assert [(r.publication_number, r.title) for r in records] == [("US10000000", "Coherent LADAR")]


def test_patentsview_file_list(patentsview_dir: Path) -> None:
    files = [patentsview_dir / "g_patent.tsv", patentsview_dir / "g_patent_abstract.tsv"]
    records, _ = _split(parse_patent_file(files))
    assert len(records) == 20 and all(r.abstract for r in records)
    assert all(r.cpc_codes == [] for r in records)


# --------------------------------------------------------------------------- helpers


def test_split_helpers() -> None:
    assert split_names("NVIDIA Corporation, Inc.; Intel") == ["NVIDIA Corporation, Inc.", "Intel"]
    assert split_names("张三；李四;张三") == ["张三", "李四"]
    assert split_codes("G06F 015/16, H04L29/08；H04L29/08") == ["G06F15/16", "H04L29/08"]


def test_unknown_format() -> None:
    with pytest.raises(ImportFailed, match="未知格式"):
        parse_patent_file(Path("x.csv"), fmt="docx")


def test_language_guessed_without_mapping_default(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "no,title\nUS16123456,Drone dock\nCN202223220665.2,一种无人机\n", encoding="utf-8"
    )
    mapping = {"columns": {"application_number": "no", "title": "title"}}
    records, _ = _split(parse_patent_file(path, mapping=mapping))
    assert [r.language for r in records] == ["en", "zh"]


def test_cnipa_register_with_title_row(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["某某大学存量专利清单"])
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(CNIPA_HEADER)
    row = cnipa_row()
    ws.append([row[h] for h in CNIPA_HEADER])
    path = tmp_path / "register.xlsx"
    wb.save(path)
    assert detect_format(path) == "cnipa"
    records, rejections = _split(parse_patent_file(path))
    assert rejections == []
    assert [(r.source_row, r.application_key) for r in records] == [(4, "CN202223220665")]
