"""Rewrite a datastore sorted, in 10k-row row groups, hive-partitioned where configured."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb

from mirror_assets.errors import DatastoreError, one_line
from mirror_assets.files import replace_atomically, tree_files
from mirror_assets.transforms.copy_writers import ExtraWriters, copy_all, gather_writer_folders
from mirror_assets.transforms.datastore import DatastoreSchema, count_rows
from mirror_assets.transforms.duck import (
    one_thread_per_statement,
    quote_ident,
    scratch_name,
    sql_literal,
)
from mirror_assets.transforms.list_tuples import ListDictionary, list_dictionary
from mirror_assets.transforms.sorted_rows import enum_types, sorted_rows_query
from mirror_assets.transforms.write_plans import (
    Lease,
    Reservation,
    WritePlan,
    WriterSlots,
    fallback_plans,
)
from mirror_assets.transforms.write_plans import writers_for as writers_for  # re-exported

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
    # How it was written (see write_plans.WritePlan.describe).
    plan: str = ""


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
def _partitions_table(
    con: duckdb.DuckDBPyConnection, src: Path, partition_cols: list[str]
) -> Iterator[tuple[str, list[int]]]:
    """A table of `src`'s partitions (the partition columns' value tuples, NULLs included),
    numbered from 1 in `__mirror_partition`, with a `__mirror_group` to fill in; and the rows of
    each, in that order."""
    table = scratch_name("partitions")
    cols = ", ".join(quote_ident(c) for c in partition_cols)
    con.execute(
        f"CREATE TABLE {table} AS SELECT row_number() OVER () AS __mirror_partition, *, "
        f"NULL::INTEGER AS __mirror_group "
        f"FROM (SELECT {cols}, count(*) AS __mirror_rows "
        f"FROM read_parquet({sql_literal(src)}) GROUP BY ALL)"
    )
    try:
        rows = con.execute(
            f"SELECT list(__mirror_rows ORDER BY __mirror_partition) FROM {table}"
        ).fetchall()[0][0]
        yield table, rows or []
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _assign_groups(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[int], groups: int
) -> list[int]:
    """Give each partition of `table` a group, `groups` of them balanced by rows (0: one group
    per partition); returns the groups with work, largest first."""
    assigned = balance_partitions(rows, groups) if groups else list(range(len(rows)))
    con.execute(f"UPDATE {table} SET __mirror_group = $1[__mirror_partition]", [assigned])
    loads: dict[int, int] = {}
    for group, count in zip(assigned, rows, strict=True):
        loads[group] = loads.get(group, 0) + count
    return sorted(loads, key=lambda g: (-loads[g], g))


def _group_rows(src: Path, partition_cols: list[str], table: str, group: int) -> str:
    """SQL for the rows of `src` whose partition `table` puts in `group`."""
    match = " AND ".join(
        f"s.{quote_ident(c)} IS NOT DISTINCT FROM g.{quote_ident(c)}" for c in partition_cols
    )
    mine = (
        f"SELECT {', '.join(quote_ident(c) for c in partition_cols)} FROM {table} "
        f"WHERE __mirror_group = {int(group)}"
    )
    return f"(SELECT s.* FROM read_parquet({sql_literal(src)}) s SEMI JOIN ({mine}) g ON {match})"


def _write_with_plan(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    tmp: Path,
    schema: DatastoreSchema,
    partition_cols: list[str],
    order_cols: list[str],
    options: list[str],
    lists: ListDictionary | None,
    enums: dict[str, str],
    partitions: Callable[[], tuple[str, list[int]]] | None,
    plan: WritePlan,
    writers: int,
    more: ExtraWriters | None = None,
) -> None:
    """Write `src` into `tmp` as `plan` says, with up to `writers` writers at once: one file, or
    hive partitions, each group of partitions into a folder of its own whose files are then
    moved into `tmp`. Writers on cursors share the database's memory_limit and spill folder."""
    whole = f"read_parquet({sql_literal(src)})"
    split = partitions is not None and plan.groups != 1
    groups = _assign_groups(con, *partitions(), plan.groups) if split else []
    if len(groups) < 2:
        if more is not None:
            more.keep(0)
        query = sorted_rows_query(whole, schema, order_cols, lists, enums)
        copy_all(con, [(query, tmp)], 1, options, lists)
        return
    table = partitions()[0]
    folders = {g: tmp / f".group-{g}" for g in groups}
    tmp.mkdir()
    copies = [
        (
            sorted_rows_query(
                _group_rows(src, partition_cols, table, g), schema, order_cols, lists, enums
            ),
            folders[g],
        )
        for g in groups
    ]
    copy_all(con, copies, writers, options, lists, more)
    gather_writer_folders(tmp, list(folders.values()), src)


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


@contextmanager
def _insertion_order(con: duckdb.DuckDBPyConnection, keep: bool) -> Iterator[None]:
    """preserve_insertion_order = `keep` for the whole database during a block (only ever
    turned off while nothing else runs: every statement of this stage orders its rows)."""
    before = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    if before == keep:
        yield
        return
    con.execute(f"SET GLOBAL preserve_insertion_order = {str(keep).lower()}")
    try:
        yield
    finally:
        con.execute(f"SET GLOBAL preserve_insertion_order = {str(before).lower()}")


def _clear(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


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
    slots: WriterSlots | None = None,
    reserved: list[Reservation] | None = None,
) -> PartitionSummary:
    """Write `src` to `dest`: one file, or a hive folder `dest/col=value/...` per partition
    written by up to `writers` writers at once. Run it inside `partitioned_writes(con)`.
    `uniqs`, the datastore's uniqs sidecar, lets the sort carry small ENUMs for text values;
    `list_tuples`, the distinct tuples of its list columns found with it, saves finding them.
    `slots`, shared by the datastores of a stage, bounds the writers running at once across
    them (`reserved`, when given: its writers' places in their queue, taken earlier); an
    out-of-memory error retries the write with the next of `fallback_plans`.

    Rows are ordered by the partition columns, then `sort_cols`, within every file; no row group
    exceeds `row_group_size` rows.
    """
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    if threads != 1:
        raise ValueError("partition_datastore needs one thread per statement: partitioned_writes")
    missing = [c for c in partition_cols if c not in schema.columns]
    if missing:
        raise DatastoreError(src, f"partition column(s) {', '.join(missing)} not in the table")
    slots = slots or WriterSlots(writers)
    options = ["FORMAT parquet", f"ROW_GROUP_SIZE {duckdb_row_group_target(row_group_size)}"]
    if partition_cols:
        options.append(f"PARTITION_BY ({', '.join(quote_ident(c) for c in partition_cols)})")
    with ExitStack() as held:
        # Every writer's slot is queued first thing, so that the datastores planned for the
        # most writers are served first, even when others are quicker to prepare.
        queued = reserved or [slots.reserve(1, priority=writers) for _ in range(max(1, writers))]
        for reservation in queued:
            held.callback(reservation.withdraw)
        more = ExtraWriters(queued[1:])
        held.callback(more.keep, 0)
        first = held.enter_context(queued[0].held())
        plan = _write_prepared(
            con,
            src,
            dest,
            schema,
            partition_cols,
            sort_cols,
            options,
            writers,
            uniqs,
            list_tuples,
            slots,
            first,
            more,
        )
    files = tree_files(dest)
    return PartitionSummary(
        rows=count_rows(con, dest, hive=bool(partition_cols)),
        files=len(files),
        bytes=sum(f.stat().st_size for f in files),
        plan=plan.describe(),
    )


def _write_prepared(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    dest: Path,
    schema: DatastoreSchema,
    partition_cols: list[str],
    sort_cols: list[str],
    options: list[str],
    writers: int,
    uniqs: Path | None,
    list_tuples: Path | None,
    slots: WriterSlots,
    first: Lease,
    more: ExtraWriters,
) -> WritePlan:
    """`partition_datastore` once its first writer holds a slot: the scratch tables and types
    the sort needs, then the write, falling back as needed; returns the plan that worked."""
    with replace_atomically(dest) as tmp:
        try:
            with ExitStack() as stack:
                lists = stack.enter_context(
                    list_dictionary(con, src, schema.list_columns, list_tuples)
                )
                enums = stack.enter_context(enum_types(con, uniqs, schema.text_columns))
                found: list[tuple[str, list[int]]] = []

                def partitions() -> tuple[str, list[int]]:
                    # Counted only when a plan splits the partitions, once.
                    if not found:
                        found.append(
                            stack.enter_context(_partitions_table(con, src, partition_cols))
                        )
                    return found[0]

                write = partial(
                    _write_with_plan,
                    con,
                    src,
                    tmp,
                    schema,
                    partition_cols,
                    [*partition_cols, *sort_cols],
                    options,
                    lists,
                    enums,
                    partitions if partition_cols else None,
                )
                plan = _write_falling_back(
                    con,
                    src,
                    tmp,
                    write,
                    writers,
                    slots,
                    first,
                    more,
                    partitions if partition_cols else None,
                )
        except duckdb.Error as exc:
            raise DatastoreError(
                src, f"cannot write partitioned datastore: {one_line(exc)}"
            ) from None
    return plan


def _write_falling_back(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    tmp: Path,
    write: Callable[[WritePlan, int, ExtraWriters | None], None],
    writers: int,
    slots: WriterSlots,
    first: Lease,
    more: ExtraWriters,
    partitions: Callable[[], tuple[str, list[int]]] | None,
) -> WritePlan:
    """`write(plan, writers at once, more slots)` with the planned plan, its first writer on
    the `first` lease's slot and the others each taking one of `more` as it comes free; then,
    after each out-of-memory error, with the next of `fallback_plans`, every slot it needs held
    before it starts. Returns the plan that worked."""
    plan = WritePlan(max(1, writers), max(1, writers))
    try:
        write(plan, plan.writers, more)
        return plan
    except duckdb.OutOfMemoryException:
        more.keep(0)
        first.release()
    count = len(partitions()[1]) if partitions is not None else 0
    plans = fallback_plans(writers, count)[1:]
    for plan in plans:
        _clear(tmp)
        try:
            held_count = slots.total if plan.exclusive else plan.writers
            with (
                slots.hold(held_count, priority=held_count) as lease,
                _insertion_order(con, plan.keep_insertion_order),
            ):
                write(plan, min(plan.writers, lease.count), None)
            return plan
        except duckdb.OutOfMemoryException as exc:
            if plan is plans[-1]:
                raise DatastoreError(
                    src,
                    f"cannot write partitioned datastore: out of memory even with the smallest "
                    f"plan ({plan.describe()}; memory_limit {_memory_limit(con)}): "
                    f"{one_line(exc)}",
                ) from None
    raise AssertionError("fallback_plans is never empty")
