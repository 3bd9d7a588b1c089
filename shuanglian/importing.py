"""The report every importer returns; the CLI prints it as JSON with `--json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    def reject(self, row: int, field_name: str, message: str) -> None:
        self.rejected += 1
        self.errors.append(RowError(row=row, field=field_name, message=message))

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        return {
            "inserted": data["inserted"],
            "updated": data["updated"],
            "unchanged": data["unchanged"],
            "rejected": data["rejected"],
            "errors": data["errors"],
            "dry_run": data["dry_run"],
        }
