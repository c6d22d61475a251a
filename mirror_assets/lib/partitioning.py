"""Rewrite a datastore sorted, in 10k-row row groups, hive-partitioned where configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.lib.datastore import DatastoreSchema, count_rows
from mirror_assets.lib.duck import quote_ident, sql_literal, temporary_settings
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


# A datastore repeats a few variable lists over millions of rows. Sorting the lists themselves
# needs several KB per row, which a bounded memory_limit cannot hold (DuckDB runs out of memory
# rather than spill them), so rows are sorted with a small id of their list tuple and the lists put
# back after the sort. Above this many distinct tuples the lists are sorted as they are.
MAX_LIST_TUPLES = 100_000
_LIST_ID = "__mirror_list_id"
_LIST_TABLE = "__mirror_list_tuples"


def _list_variable(index: int) -> str:
    return f"__mirror_lists_{index}"


@contextmanager
def _list_dictionary(
    con: duckdb.DuckDBPyConnection, src: Path, list_cols: list[str]
) -> Iterator[bool]:
    """Number the distinct tuples of `list_cols` and hold each column's lists in a variable.

    Yields whether the dictionary is in place (False: too many distinct tuples, or no lists).
    """
    if not list_cols:
        yield False
        return
    cols = ", ".join(quote_ident(c) for c in list_cols)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_LIST_TABLE} AS "
        f"SELECT row_number() OVER () AS {_LIST_ID}, * "
        f"FROM (SELECT DISTINCT {cols} FROM read_parquet({sql_literal(src)}))"
    )
    try:
        tuples = con.execute(f"SELECT count(*) FROM {_LIST_TABLE}").fetchall()[0][0]
        if tuples > MAX_LIST_TUPLES:
            yield False
            return
        for i, col in enumerate(list_cols):
            con.execute(
                f"SET VARIABLE {_list_variable(i)} = "
                f"(SELECT list({quote_ident(col)} ORDER BY {_LIST_ID}) FROM {_LIST_TABLE})"
            )
        yield True
    finally:
        for i in range(len(list_cols)):
            con.execute(f"RESET VARIABLE {_list_variable(i)}")
        con.execute(f"DROP TABLE IF EXISTS {_LIST_TABLE}")


def sorted_rows_query(
    src: Path, schema: DatastoreSchema, order_cols: list[str], list_ids: bool
) -> str:
    """SELECT every column of `src` in its order, rows ordered by `order_cols`.

    With `list_ids` (see `_list_dictionary`) the list columns are swapped for their tuple id
    before the sort and looked up again after it; a projection keeps the sorted order.
    """
    source = f"read_parquet({sql_literal(src)})"
    order_by = f" ORDER BY {', '.join(quote_ident(c) for c in order_cols)}" if order_cols else ""
    if not list_ids:
        return f"SELECT * FROM {source}{order_by}"
    lists = schema.list_columns
    match = " AND ".join(
        f"s.{quote_ident(c)} IS NOT DISTINCT FROM d.{quote_ident(c)}" for c in lists
    )
    inner = (
        f"SELECT s.* EXCLUDE ({', '.join(quote_ident(c) for c in lists)}), d.{_LIST_ID} "
        f"FROM {source} s JOIN {_LIST_TABLE} d ON {match}{order_by}"
    )
    outer = ", ".join(
        f"getvariable('{_list_variable(lists.index(c))}')[{_LIST_ID}] AS {quote_ident(c)}"
        if c in lists
        else quote_ident(c)
        for c in schema.columns
    )
    return f"SELECT {outer} FROM ({inner})"


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

    Rows are ordered by the partition columns, then `sort_cols`, within every file; no row group
    exceeds `row_group_size` rows.
    """
    missing = [c for c in partition_cols if c not in schema.columns]
    if missing:
        raise DatastoreError(src, f"partition column(s) {', '.join(missing)} not in the table")
    options = ["FORMAT parquet", f"ROW_GROUP_SIZE {duckdb_row_group_target(row_group_size)}"]
    settings = {}
    if partition_cols:
        options.append(f"PARTITION_BY ({', '.join(quote_ident(c) for c in partition_cols)})")
        # With several threads the partitioned writer appends each thread's share of the sorted
        # stream in flush order, so files come out with rows out of order (seen from 300k rows).
        # Its default per-thread buffer of 512k rows spills under memory_limit and doubles the
        # work; a row group's worth at a time does not (measured in benchmarks/).
        settings = {"threads": 1, "partitioned_write_flush_threshold": row_group_size}
    with replace_atomically(dest) as tmp:
        try:
            with _list_dictionary(con, src, schema.list_columns) as list_ids:
                query = sorted_rows_query(src, schema, [*partition_cols, *sort_cols], list_ids)
                with temporary_settings(con, **settings):
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
