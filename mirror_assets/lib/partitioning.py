"""Rewrite a datastore sorted, in 10k-row row groups, hive-partitioned where configured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.lib.datastore import DatastoreSchema, count_rows
from mirror_assets.lib.duck import quote_ident, sql_literal
from mirror_assets.lib.errors import DatastoreError, one_line
from mirror_assets.lib.files import replace_atomically, tree_files

# DuckDB closes a row group at the first 2048-row vector that reaches ROW_GROUP_SIZE, so a target
# of `limit - 2047` is the largest that never yields a row group above `limit` rows.
DUCKDB_VECTOR_SIZE = 2048


def duckdb_row_group_target(limit: int) -> int:
    """The ROW_GROUP_SIZE to give DuckDB so that no row group holds more than `limit` rows."""
    return max(1, limit - DUCKDB_VECTOR_SIZE + 1)


@dataclass(frozen=True)
class PartitionSummary:
    rows: int
    files: int
    bytes: int


def choose_sort_columns(
    schema: DatastoreSchema,
    cardinalities: dict[str, int],
    partition_cols: list[str],
    count: int,
) -> list[str]:
    """The `count` lowest-cardinality VARCHAR columns that vary and are not partition columns.

    Ties keep the schema's column order, so the choice is deterministic.
    """
    order = {c: i for i, c in enumerate(schema.columns)}
    eligible = [
        c for c in schema.text_columns if c not in partition_cols and cardinalities.get(c, 0) > 1
    ]
    return sorted(eligible, key=lambda c: (cardinalities[c], order[c]))[:count]


def partition_datastore(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    dest: Path,
    schema: DatastoreSchema,
    partition_cols: list[str],
    sort_cols: list[str],
    row_group_size: int,
) -> PartitionSummary:
    """Write `src` to `dest`: one file, or a hive folder `dest/col=value/...` per partition.

    Rows are ordered by the partition columns, then `sort_cols`; no row group exceeds
    `row_group_size` rows.
    """
    missing = [c for c in partition_cols if c not in schema.columns]
    if missing:
        raise DatastoreError(src, f"partition column(s) {', '.join(missing)} not in the table")
    order_by = ", ".join(quote_ident(c) for c in [*partition_cols, *sort_cols])
    query = f"SELECT * FROM read_parquet({sql_literal(src)})"
    if order_by:
        query += f" ORDER BY {order_by}"
    options = ["FORMAT parquet", f"ROW_GROUP_SIZE {duckdb_row_group_target(row_group_size)}"]
    if partition_cols:
        options.append(f"PARTITION_BY ({', '.join(quote_ident(c) for c in partition_cols)})")
    with replace_atomically(dest) as tmp:
        try:
            con.execute(f"COPY ({query}) TO {sql_literal(tmp)} ({', '.join(options)})")
        except duckdb.Error as exc:
            raise DatastoreError(
                src, f"cannot write partitioned datastore: {one_line(exc)}"
            ) from None
    files = tree_files(dest)
    return PartitionSummary(
        rows=count_rows(con, dest, hive=bool(partition_cols)),
        files=len(files),
        bytes=sum(f.stat().st_size for f in files),
    )
