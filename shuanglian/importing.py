"""The report every importer returns; the CLI prints it as JSON with `--json`.

A file of a million bad rows must not become a million objects in memory or a 180 MB answer:
the report keeps the first `ERRORS_KEPT` row errors, counts all of them, and writes the ones
after that, as they come, to a temporary CSV file (`overflow`) that the web copies into the
downloadable error list. The temporary file disappears when closed or collected.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

# Row errors a report holds in memory (and an API answer carries); the rest go to disk.
ERRORS_KEPT = 200


@dataclass
class RowError:
    """One rejected row: `row` is the line / sheet row a person sees; `field` the file's header."""

    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # The first ERRORS_KEPT row errors; `error_count` says how many there were in all.
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False
    # Where the uploader downloads every error as CSV (web uploads with errors; else None).
    errors_csv: str | None = None

    def __post_init__(self) -> None:
        # Not a dataclass field, so API answers and `as_dict` never carry it.
        self._overflow: IO[str] | None = None

    def reject(self, row: int, field_name: str, message: str) -> None:
        """Count a rejected row and note why."""
        self.rejected += 1
        self.add_error(row, field_name, message)

    def add_error(self, row: int, field_name: str, message: str) -> None:
        """Note one more error of a row (a row may have several; `reject` counts the row)."""
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(RowError(row=row, field=field_name, message=message))
            return
        if self._overflow is None:
            self._overflow = tempfile.TemporaryFile(  # noqa: SIM115 - lives as long as the report
                "w+", encoding="utf-8", newline=""
            )
        csv.writer(self._overflow).writerow([row, field_name, message])

    def all_errors(self) -> Iterator[RowError]:
        """Every error: the kept ones, then the overflow read back from disk, one at a time."""
        yield from self.errors
        if self._overflow is None:
            return
        self._overflow.flush()
        self._overflow.seek(0)
        for row, field_name, message in csv.reader(self._overflow):
            yield RowError(row=int(row), field=field_name, message=message)
        self._overflow.seek(0, 2)

    def close(self) -> None:
        """Delete the overflow file now (it would go when the report is collected anyway)."""
        if self._overflow is not None:
            self._overflow.close()
            self._overflow = None

    def as_dict(self) -> dict[str, object]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
            "error_count": self.error_count,
            "dry_run": self.dry_run,
        }
