"""Reference data: GB/T 4754-2017 industries, IPC codes and titles, WIPO fields, IPC ↔ industry.

Import from the submodules; nothing is loaded until first use, then each table once per process:

* `shuanglian.reference.gbt4754` — 国民经济行业分类 lookups, code validation, name search;
* `shuanglian.reference.ipc` — canonical IPC spelling, hierarchy, English titles, WIPO fields;
* `shuanglian.reference.industry_link` — approximate IPC ↔ GB/T 4754 大类 weights and matrix.

The tables ship in `data/` with their sources and licences in `data/PROVENANCE.md`.
"""

from __future__ import annotations


def summary() -> dict[str, int]:
    """Load every shipped table once and count its entries (for `shuanglian init` and checks)."""
    from shuanglian.reference import gbt4754, industry_link, ipc

    matrix = industry_link.industry_link_matrix()
    return {
        "gbt4754_codes": sum(len(gbt4754.industries_at_level(level)) for level in gbt4754.LEVELS),
        "gbt4754_divisions": len(gbt4754.industries_at_level("大类")),
        "ipc_titles": ipc.ipc_title_count(),
        "wipo_fields": len(ipc.technology_field_names()),
        "ipc_industry_rows": len(matrix.ipc_codes),
    }
