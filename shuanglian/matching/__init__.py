"""Glue between the store and the matching engine.

`service`: build_index / refresh_index (both indexes under settings.index_dir), match_patent,
match_enterprise, match_demand, match_text, match_patents_bulk; `schemas`: the Match shape the
API, CLI and pages render.
"""
