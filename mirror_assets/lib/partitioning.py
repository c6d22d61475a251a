"""Rewrite a datastore sorted, in 10k-row row groups, hive-partitioned where configured."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.lib.datastore import DatastoreSchema, count_rows
from mirror_assets.lib.duck import (
    one_thread_per_statement,
    quote_ident,
    scratch_name,
    sql_literal,
)
from mirror_assets.lib.errors import DatastoreError, one_line
from mirror_assets.lib.files import replace_atomically, tree_files
from mirror_assets.lib.list_tuples import ListDictionary, list_dictionary
from mirror_assets.lib.sorted_rows import enum_types, sorted_rows_query

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


def balance_partitions(rows: list[int], writers: int) -> list[int]:
    """Assign partitions of `rows` rows each to `writers` groups, largest first to the lightest.

    Returns each partition's group (0-based); deterministic for equal inputs.
    """
    loads = [0] * writers
    groups = [0] * len(rows)
    for index in sorted(range(len(rows)), key=lambda i: (-rows[i], i)):
        group = min(range(writers), key=lambda g: (loads[g], g))
        groups[index] = group
        loads[group] += rows[index]
    return groups


@contextmanager
def _partition_groups(
    con: duckdb.DuckDBPyConnection, src: Path, partition_cols: list[str], writers: int
) -> Iterator[tuple[str, list[int]] | None]:
    """A table of `src`'s partitions (the partition columns' value tuples, NULLs included), each
    with the writer `__mirror_writer` that writes it, balanced by row count.

    Yields the table and the writers with work, or None when fewer than two would have any
    (without counting the partitions when only one writer is allowed).
    """
    if writers < 2:
        yield None
        return
    table = scratch_name("partitions")
    cols = ", ".join(quote_ident(c) for c in partition_cols)
    con.execute(
        f"CREATE TABLE {table} AS SELECT row_number() OVER () AS __mirror_partition, * "
        f"FROM (SELECT {cols}, count(*) AS __mirror_rows "
        f"FROM read_parquet({sql_literal(src)}) GROUP BY ALL)"
    )
    try:
        rows = con.execute(
            f"SELECT list(__mirror_rows ORDER BY __mirror_partition) FROM {table}"
        ).fetchall()[0][0]
        groups = balance_partitions(rows or [], writers)
        if len(set(groups)) < 2:
            yield None
            return
        con.execute(f"ALTER TABLE {table} ADD COLUMN __mirror_writer INTEGER")
        con.execute(f"UPDATE {table} SET __mirror_writer = $1[__mirror_partition]", [groups])
        yield table, sorted(set(groups))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _writer_rows(src: Path, partition_cols: list[str], groups: str, writer: int) -> str:
    """SQL for the rows of `src` whose partition `groups` gives to `writer`."""
    match = " AND ".join(
        f"s.{quote_ident(c)} IS NOT DISTINCT FROM g.{quote_ident(c)}" for c in partition_cols
    )
    mine = (
        f"SELECT {', '.join(quote_ident(c) for c in partition_cols)} FROM {groups} "
        f"WHERE __mirror_writer = {int(writer)}"
    )
    return f"(SELECT s.* FROM read_parquet({sql_literal(src)}) s SEMI JOIN ({mine}) g ON {match})"


def _gather_writer_folders(tmp: Path, folders: list[Path], src: Path) -> None:
    """Move every file the writers wrote into the same place under `tmp`; partitions are
    disjoint, so a file already there means a partition was written twice."""
    for folder in folders:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = tmp / file.relative_to(folder)
            if target.exists():
                raise DatastoreError(
                    src, f"partition {target.parent.relative_to(tmp)} written by two writers"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            file.rename(target)
        shutil.rmtree(folder)


def _copy(
    cursor: duckdb.DuckDBPyConnection,
    query: str,
    target: Path,
    options: list[str],
    lists: ListDictionary | None,
) -> None:
    """COPY `query` to `target` on `cursor`, with the list variables it needs."""
    if lists is not None:
        lists.load(cursor)
    try:
        cursor.execute(f"COPY ({query}) TO {sql_literal(target)} ({', '.join(options)})")
    finally:
        if lists is not None:
            lists.unload(cursor)


def _write_partitioned(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    tmp: Path,
    schema: DatastoreSchema,
    partition_cols: list[str],
    order_cols: list[str],
    options: list[str],
    lists: ListDictionary | None,
    enums: dict[str, str],
    writers: int,
) -> None:
    """Hive-partition `src` into the folder `tmp` with up to `writers` single-threaded writers.

    Each writer, on its own cursor and Python thread (DuckDB releases the GIL), writes a
    disjoint group of partitions into a folder of its own; the files are then moved into `tmp`.
    Cursors share the database, so the writers share its memory_limit and spill folder.
    """
    with _partition_groups(con, src, partition_cols, writers) as groups:
        if groups is None:
            query = sorted_rows_query(
                f"read_parquet({sql_literal(src)})", schema, order_cols, lists, enums
            )
            _copy(con, query, tmp, options, lists)
            return
        table, chosen = groups
        folders = {w: tmp / f".writer-{w}" for w in chosen}
        tmp.mkdir()
        with ExitStack() as stack, ThreadPoolExecutor(len(chosen)) as pool:
            cursors = {w: stack.enter_context(con.cursor()) for w in chosen}
            jobs = [
                pool.submit(
                    _copy,
                    cursors[w],
                    sorted_rows_query(
                        _writer_rows(src, partition_cols, table, w),
                        schema,
                        order_cols,
                        lists,
                        enums,
                    ),
                    folders[w],
                    options,
                    lists,
                )
                for w in chosen
            ]
            done, pending = wait(jobs, return_when=FIRST_EXCEPTION)
            failed = next((job for job in done if job.exception()), None)
            if failed:
                for cursor in cursors.values():
                    cursor.interrupt()
                wait(pending)
                raise failed.exception()
        _gather_writer_folders(tmp, list(folders.values()), src)


@contextmanager
def partitioned_writes(con: duckdb.DuckDBPyConnection, row_group_size: int) -> Iterator[int]:
    """Set the database up for `partition_datastore`, and yield how many writers to run at once
    (its thread count, whether they write different datastores or one's partition groups).

    Every statement runs on one thread: with several, DuckDB's partitioned writer appends each
    thread's share of the sorted stream in flush order, so files come out with rows out of order
    (seen from 300k rows). The default flush buffer of 512k rows per partition spills under
    memory_limit and doubles the work; a row group's worth at a time does not (measured in
    benchmarks/). Both settings belong to the whole database, so they are set once, here.
    """
    with one_thread_per_statement(con, partitioned_write_flush_threshold=row_group_size) as threads:
        yield threads


def writers_for(size: int, total: int, slots: int) -> int:
    """Writers for a datastore of `size` bytes among `total`, with `slots` writers at once: one,
    unless its single writer would take longer than the others' share of the slots."""
    if total <= 0 or size <= 0:
        return 1
    return max(1, min(slots, math.ceil(slots * size / total)))


def partition_datastore(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    dest: Path,
    schema: DatastoreSchema,
    partition_cols: list[str],
    sort_cols: list[str],
    row_group_size: int,
    writers: int = 1,
    uniqs: Path | None = None,
    list_tuples: Path | None = None,
) -> PartitionSummary:
    """Write `src` to `dest`: one file, or a hive folder `dest/col=value/...` per partition
    written by up to `writers` writers at once. Run it inside `partitioned_writes(con)`.
    `uniqs`, the datastore's uniqs sidecar, lets the sort carry small ENUMs for text values;
    `list_tuples`, the distinct tuples of its list columns found with it, saves finding them.

    Rows are ordered by the partition columns, then `sort_cols`, within every file; no row group
    exceeds `row_group_size` rows.
    """
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    if threads != 1:
        raise ValueError("partition_datastore needs one thread per statement: partitioned_writes")
    missing = [c for c in partition_cols if c not in schema.columns]
    if missing:
        raise DatastoreError(src, f"partition column(s) {', '.join(missing)} not in the table")
    options = ["FORMAT parquet", f"ROW_GROUP_SIZE {duckdb_row_group_target(row_group_size)}"]
    order_cols = [*partition_cols, *sort_cols]
    with replace_atomically(dest) as tmp:
        try:
            with (
                list_dictionary(con, src, schema.list_columns, list_tuples) as lists,
                enum_types(con, uniqs, schema.text_columns) as enums,
            ):
                if partition_cols:
                    options.append(
                        f"PARTITION_BY ({', '.join(quote_ident(c) for c in partition_cols)})"
                    )
                    _write_partitioned(
                        con,
                        src,
                        tmp,
                        schema,
                        partition_cols,
                        order_cols,
                        options,
                        lists,
                        enums,
                        writers,
                    )
                else:
                    source = f"read_parquet({sql_literal(src)})"
                    query = sorted_rows_query(source, schema, order_cols, lists, enums)
                    _copy(con, query, tmp, options, lists)
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
