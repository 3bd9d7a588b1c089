"""Kept dashboard pieces as JSON text: decimals and tables survive the round trip.

Its own module because both `summary` (which stores pieces) and `appends` (which adds new rows
to kept ones) need it, and `summary` imports `appends`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from shuanglian.dashboard.tables import Column, Table


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, Table):
        return {"$t": {k: _encode(v) for k, v in asdict(value).items()}}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _table(data: dict[str, Any]) -> Table:
    data = dict(data)
    data["columns"] = [Column(**c) for c in data["columns"]]
    data["extra"] = {k: v if isinstance(v, Table) else _table(v) for k, v in data["extra"].items()}
    return Table(**data)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$d"}:
            return Decimal(value["$d"])
        if set(value) == {"$t"}:
            return _table({k: _decode(v) for k, v in value["$t"].items()})
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return _decode(json.loads(text))
