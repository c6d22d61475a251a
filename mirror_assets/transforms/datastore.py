"""Read what a datastore parquet holds: its schema and row count, with one-line errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.errors import DatastoreError, one_line

PATH_COLUMN = "path"


@dataclass(frozen=True)
class DatastoreSchema:
    """Column names by kind, in file order."""

    columns: dict[str, str]

    @property
    def text_columns(self) -> list[str]:
        """VARCHAR columns other than `path`: the datastore's attributes."""
        return [c for c, t in self.columns.items() if t == "VARCHAR" and c != PATH_COLUMN]

    @property
    def list_columns(self) -> list[str]:
        return [c for c, t in self.columns.items() if t == "VARCHAR[]"]


def read_schema(con: duckdb.DuckDBPyConnection, src: Path) -> DatastoreSchema:
    """The parquet schema of `src`; a truncated or non-parquet file raises DatastoreError."""
    if not src.is_file():
        raise DatastoreError(src, "file not found")
    try:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(src)]).fetchall()
    except duckdb.Error as exc:
        raise DatastoreError(src, f"not a readable parquet file: {one_line(exc)}") from None
    return DatastoreSchema(columns={row[0]: row[1] for row in rows})


def count_rows(con: duckdb.DuckDBPyConnection, src: Path | str, hive: bool = False) -> int:
    """Rows in a parquet file, or in every parquet file under a hive-partitioned folder."""
    target = f"{src}/**/*.parquet" if hive else str(src)
    try:
        result = con.execute("SELECT count(*) FROM read_parquet(?)", [target]).fetchall()
    except duckdb.Error as exc:
        raise DatastoreError(src, f"cannot count rows: {one_line(exc)}") from None
    return int(result[0][0])
