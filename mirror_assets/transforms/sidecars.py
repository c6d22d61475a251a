"""Sidecars read by the web app: `<name>_uniqs.parquet` and `<name>_metadata.json`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.errors import DatastoreError, one_line
from mirror_assets.files import replace_atomically, write_json
from mirror_assets.transforms.datastore import PATH_COLUMN, DatastoreSchema, count_rows, read_schema
from mirror_assets.transforms.duck import quote_ident, scratch_name, sql_literal
from mirror_assets.transforms.list_tuples import MAX_LIST_TUPLES, distinct_tuples_table
from mirror_assets.transforms.write_plans import WriterSlots

# Parquet needs one column: a datastore with no attribute columns gets this placeholder.
_NO_COLUMNS = "_no_attribute_columns"


@dataclass(frozen=True)
class SidecarSummary:
    rows: int
    # None for an empty datastore.
    project_id: str | None
    # Distinct non-null values per VARCHAR (except path) and VARCHAR[] column.
    cardinalities: dict[str, int]
    schema: DatastoreSchema


def project_id_from_path(path: str | None, src: Path) -> str:
    """`/g/data/xp65/...` -> `xp65`: the fourth `/`-separated field of a datastore path."""
    parts = (path or "").split("/")
    if len(parts) < 4 or not parts[3]:
        raise DatastoreError(src, f"cannot derive project_id from first path {path!r}")
    return parts[3]


def _distinct_values_sql(column: str, is_list: bool) -> str:
    """An aggregate: the column's sorted distinct non-null values (flattened for a list column,
    aggregated over the distinct list tuples rather than the rows)."""
    col = quote_ident(column)
    if is_list:
        values = f"list_distinct(flatten(list({col})))"
    else:
        values = f"list(DISTINCT {col}) FILTER (WHERE {col} IS NOT NULL)"
    return f"coalesce(list_sort({values}), []) AS {col}"


@contextmanager
def _one_column_at_a_time(
    con: duckdb.DuckDBPyConnection, src: Path, columns: list[str]
) -> Iterator[str]:
    """SQL for the one row of `columns`' distinct values, each found by a statement of its own
    into a scratch table: one hash table in memory at a time instead of one per column."""
    tables: list[str] = []
    try:
        for column in columns:
            tables.append(scratch_name("uniqs"))
            con.execute(
                f"CREATE TABLE {tables[-1]} AS SELECT {_distinct_values_sql(column, False)} "
                f"FROM read_parquet({sql_literal(src)})"
            )
        yield f"SELECT * FROM {', '.join(tables)}"
    finally:
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def write_uniqs(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    schema: DatastoreSchema,
    rows: int,
    dest: Path,
    list_tuples: Path | None = None,
    one_column_at_a_time: bool = False,
) -> None:
    """One row: each attribute column's sorted distinct values; num_records in its metadata.

    Text columns are aggregated in one scan of `src`, list columns over the distinct tuples of
    all of them (a datastore repeats a handful of variable lists over millions of rows). Those
    tuples are also written to `list_tuples`, when given and few enough, for the partitioning
    stage (see `list_tuples`); a stale file from an earlier run is removed.
    `one_column_at_a_time` scans `src` once per text column, holding less memory at once.
    DuckDB's out-of-memory error is raised as it is, for the caller to retry.
    """
    text = schema.text_columns
    lists = schema.list_columns
    with ExitStack() as stack:
        try:
            if not text:
                query = f"SELECT NULL AS {_NO_COLUMNS}"
            elif one_column_at_a_time:
                query = stack.enter_context(_one_column_at_a_time(con, src, text))
            else:
                selects = ", ".join(_distinct_values_sql(c, False) for c in text)
                query = f"SELECT {selects} FROM read_parquet({sql_literal(src)})"
            if lists:
                table, count = stack.enter_context(distinct_tuples_table(con, src, lists))
                aggregates = ", ".join(_distinct_values_sql(c, True) for c in lists)
                ordered = ", ".join(
                    quote_ident(c) for c in schema.columns if c in text or c in lists
                )
                query = f"SELECT {ordered} FROM ({query}) t, (SELECT {aggregates} FROM {table}) l"
            if list_tuples is not None:
                list_tuples.unlink(missing_ok=True)
                if lists and count <= MAX_LIST_TUPLES:
                    with replace_atomically(list_tuples) as tmp:
                        con.execute(f"COPY {table} TO {sql_literal(tmp)} (FORMAT parquet)")
            with replace_atomically(dest) as tmp:
                con.execute(
                    f"COPY ({query}) TO {sql_literal(tmp)} "
                    f"(FORMAT parquet, KV_METADATA {{num_records: '{int(rows)}'}})"
                )
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error as exc:
            raise DatastoreError(src, f"cannot compute distinct values: {one_line(exc)}") from None


def read_cardinalities(con: duckdb.DuckDBPyConnection, uniqs: Path) -> dict[str, int]:
    """Distinct-value counts per column, read back from a `_uniqs.parquet` sidecar."""
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(uniqs)]).fetchall()
    columns = [row[0] for row in described if row[0] != _NO_COLUMNS]
    if not columns:
        return {}
    lengths = ", ".join(f"len({quote_ident(c)})" for c in columns)
    counts = con.execute(f"SELECT {lengths} FROM read_parquet(?)", [str(uniqs)]).fetchall()[0]
    return dict(zip(columns, (int(n) for n in counts), strict=True))


def write_sidecars(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    uniqs_dest: Path,
    metadata_dest: Path,
    list_tuples: Path | None = None,
    slots: WriterSlots | None = None,
) -> SidecarSummary:
    """Write both sidecars for the datastore parquet `src` (and its `list_tuples`, see
    `write_uniqs`). An empty datastore gets uniqs with empty lists and a null project_id. With
    `slots`, shared by the datastores of a stage, each holds one; out of
    memory, the datastore is retried holding every slot (nothing alongside), one column at a
    time, and fails only if that runs out of memory too."""
    slots = slots or WriterSlots(1)
    try:
        with slots.hold(1):
            return _write_sidecars(con, src, uniqs_dest, metadata_dest, list_tuples, False)
    except duckdb.OutOfMemoryException:
        pass
    try:
        with slots.hold(slots.total, priority=slots.total):
            return _write_sidecars(con, src, uniqs_dest, metadata_dest, list_tuples, True)
    except duckdb.OutOfMemoryException as exc:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        raise DatastoreError(
            src,
            "cannot compute distinct values: out of memory even with the smallest plan "
            f"(one column at a time, nothing alongside; memory_limit {limit}): {one_line(exc)}",
        ) from None


def _write_sidecars(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    uniqs_dest: Path,
    metadata_dest: Path,
    list_tuples: Path | None,
    one_column_at_a_time: bool,
) -> SidecarSummary:
    schema = read_schema(con, src)
    if PATH_COLUMN not in schema.columns:
        raise DatastoreError(src, "no 'path' column, so project_id cannot be derived")
    rows = count_rows(con, src)
    # An experiment whose output is not there yet has an empty datastore: it is published with
    # empty uniqs and no project_id (null in `_metadata.json`).
    project_id = None
    if rows:
        first_path = con.execute(
            f"SELECT {quote_ident(PATH_COLUMN)} FROM read_parquet(?) LIMIT 1", [str(src)]
        ).fetchall()[0][0]
        project_id = project_id_from_path(first_path, src)
    write_uniqs(con, src, schema, rows, uniqs_dest, list_tuples, one_column_at_a_time)
    cardinalities = read_cardinalities(con, uniqs_dest)
    write_json(metadata_dest, {"project_id": project_id, "num_records": rows})
    return SidecarSummary(rows, project_id, cardinalities, schema)
