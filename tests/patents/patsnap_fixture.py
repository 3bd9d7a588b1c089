"""A small PatSnap (智慧芽) export, written as .xlsx or .csv, for the importer tests.

Built for these tests in PatSnap's column layout (the headers its analysis export writes). The
bibliographic facts are real, taken from the project's own shared samples: rows 1–2 from
`cn_patents_research_institute_sample10.csv` (CNIPA), row 3 from the CNKI export
`cn_patents_sysu_cnki_export_1467.csv`, row 4 from `en_patents_nvidia_sample150.csv`
(USPTO PatentsView, CC BY 4.0). The second-language titles and abstracts are the shuanglian
developers' own translations (PatSnap's are machine translations too). Row 5 carries an
impossible date, to be rejected. No row comes from the measurement-only bench suites.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

PATSNAP_HEADER = [
    "序号",
    "公开(公告)号",
    "标题(译)(简体中文)",
    "标题(译)(English)",
    "摘要(译)(简体中文)",
    "摘要(译)(English)",
    "[标]当前申请(专利权)人",
    "发明人",
    "申请日",
    "公开(公告)日",
    "专利类型",
    "法律状态/事件",
    "IPC分类号",
    "IPC主分类号",
    "受理局",
]

PATSNAP_ROWS = [
    [
        "1",
        "CN218751475U",
        "一种无人机机载多功能盒",
        "Multifunctional airborne box for an unmanned aerial vehicle",
        "为解决目前无人机在实际的使用过程中不能进行方便快捷的实现飞行路线调整，不能对飞行时的数据"
        "进行实时处理的问题，实用新型提出了一种无人机机载多功能盒，该多功能盒内设置有CPU模块、"
        "4G/5G通信模块以及扩展接口等多种电子器件，可将数据直接发送到云服务器。",
        "A multifunctional box carried by an unmanned aerial vehicle holds a CPU module, a "
        "4G/5G communication module and expansion interfaces, so that flight data can be sent "
        "straight to a cloud server and analysed in real time; a damping structure absorbs "
        "the vibration of flight.",
        "中科大数据研究院",
        "",
        "2022-12-02",
        "2023-04-11",
        "实用新型",
        "授权",
        "B64U20/80 | B64U101/30",
        "B64U20/80",
        "CN",
    ],
    [
        "2",
        "CN216774847U",
        "一种可拍照便携式实时语音播报端测摄像头",
        "Portable edge camera able to take photographs with real-time voice broadcast",
        "本实用新型公开了一种可拍照便携式实时语音播报端测摄像头，包括摄像头壳体，摄像头壳体上设置有"
        "高清摄像头模组、数字拾音器、SD卡、USB接口、扬声器。",
        "A portable edge camera worn on glasses or the head records from the wearer's point of "
        "view and, when the data terminal detects an anomaly, broadcasts voice warnings through "
        "a loudspeaker.",
        "中科大数据研究院",
        "",
        "2021-11-30",
        "2022-06-14",
        "实用新型",
        "授权",
        "H04N5/225 | H04N5/232 | H04N5/76 | H02J7/00",
        "H04N5/225",
        "CN",
    ],
    [
        "3",
        "CN116510786B",
        "一种双核金催化剂及其制备方法和应用",
        "Binuclear gold catalyst, its preparation method and use",
        "本发明属于催化剂技术领域，公开了一种双核金催化剂及其制备方法和应用。该双核金催化剂可用于"
        "催化重氮和胺的氮氢插入反应、烯炔醛的环加成反应和烯炔酮的环化反应。",
        "A binuclear gold catalyst catalyses the N–H insertion of diazo compounds and amines and "
        "the cycloaddition and cyclisation of enynals and enynones, with good stability and "
        "tolerance of water.",
        "中山大学",
        "邹滔滔; 罗和江; 劳羽涵; 钟智; 孟山水; 陈新滋",
        "",
        "2025-03-25",
        "授权发明",
        "授权",
        "B01J31/24 | C07F9/50 | C07C45/45",
        "B01J31/24",
        "CN",
    ],
    [
        "4",
        "US10057849",
        "减少从小区获取系统信息所耗功率的系统和方法",
        "System and method for reducing power consumed obtaining system information from a cell",
        "一种减少从小区获取系统信息所耗功率的系统，包括缓存广播控制信道帧的帧缓存和系统信息校验器。",
        "A system for, and method of, reducing power consumed obtaining system information from a "
        "cell, the system information contained in at least a master information block, a "
        "scheduling information block and a system information block.",
        "NVIDIA CORPORATION",
        "",
        "",
        "2018-08-21",
        "授权发明",
        "授权",
        "H04W52/02",
        "H04W52/02",
        "US",
    ],
    [
        "5",
        "CN216774847U",
        "一种可拍照便携式实时语音播报端测摄像头",
        "",
        "",
        "",
        "中科大数据研究院",
        "",
        "2021-11-31",
        "",
        "实用新型",
        "",
        "",
        "",
        "CN",
    ],
]


def write_patsnap(path: Path, *, header: list[str] | None = None) -> Path:
    """The export as .xlsx (with PatSnap's title line above the header) or as UTF-8 .csv."""
    header = header or PATSNAP_HEADER
    if path.suffix == ".xlsx":
        wb = Workbook()
        ws = wb.active
        ws.title = "检索结果"
        ws.append(["智慧芽专利检索结果导出"])
        ws.append(header)
        for row in PATSNAP_ROWS:
            ws.append(row)
        wb.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(PATSNAP_ROWS)
    return path
