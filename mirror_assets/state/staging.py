"""Where a version lives in the local staging folder while it is fetched and built."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mirror_assets.files import write_json

METACATALOG = "metacatalog.parquet"
# The datastores the source holds for the version, as the last fetch listed them.
SOURCE_DATASTORES = "source.json"


@dataclass(frozen=True)
class VersionStaging:
    """`<staging>/<version>/`: `raw/` as fetched, `build/` as published, `status/` per stage."""

    root: Path

    @classmethod
    def of(cls, staging_root: str | Path, version: str) -> VersionStaging:
        return cls(Path(staging_root).resolve() / version)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def status(self) -> Path:
        return self.root / "status"

    @property
    def spill(self) -> Path:
        return self.root / "spill"

    def raw_file(self, name: str, suffix: str) -> Path:
        return self.raw / "source" / f"{name}{suffix}"

    def raw_bytes(self, name: str) -> int:
        """The fetched datastore's size (0 if missing): how stages guess the work it takes."""
        src = self.raw_file(name, ".parquet")
        return src.stat().st_size if src.is_file() else 0

    def built_datastore(self, name: str) -> Path:
        return self.build / "source" / f"{name}.parquet"

    def built_spec(self, name: str) -> Path:
        return self.build / "source" / f"{name}.json"

    def uniqs(self, name: str) -> Path:
        return self.build / "source" / f"{name}_uniqs.parquet"

    def list_tuples(self, name: str) -> Path:
        """The distinct tuples of a datastore's list columns (not published; see list_tuples)."""
        return self.root / "list_tuples" / f"{name}.parquet"

    def metadata_json(self, name: str) -> Path:
        return self.build / "source" / f"{name}_metadata.json"

    def record_source_datastores(self, names: list[str]) -> None:
        """Record the datastores the source holds (fetched or not, whole or broken)."""
        write_json(self.status / SOURCE_DATASTORES, sorted(set(names)))

    def source_datastores(self) -> list[str] | None:
        """The datastores the source held at the last fetch; None if it was never recorded."""
        path = self.status / SOURCE_DATASTORES
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
