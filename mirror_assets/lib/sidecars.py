"""Sidecars read by the web app: `<name>_uniqs.parquet` and `<name>_metadata.json`."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.lib.datastore import PATH_COLUMN, DatastoreSchema, count_rows, read_schema
from mirror_assets.lib.duck import quote_ident, sql_literal
from mirror_assets.lib.errors import DatastoreError, one_line
from mirror_assets.lib.files import replace_atomically, write_json
from mirror_assets.lib.list_tuples import MAX_LIST_TUPLES, distinct_tuples_table

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


def write_uniqs(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    schema: DatastoreSchema,
    rows: int,
    dest: Path,
    list_tuples: Path | None = None,
) -> None:
    """One row: each attribute column's sorted distinct values; num_records in its metadata.

    Text columns are aggregated in one scan of `src`, list columns over the distinct tuples of
    all of them (a datastore repeats a handful of variable lists over millions of rows). Those
    tuples are also written to `list_tuples`, when given and few enough, for the partitioning
    stage (see `list_tuples`); a stale file from an earlier run is removed.
    """
    text = schema.text_columns
    lists = schema.list_columns
    if text:
        selects = ", ".join(_distinct_values_sql(c, False) for c in text)
        query = f"SELECT {selects} FROM read_parquet({sql_literal(src)})"
    else:
        query = f"SELECT NULL AS {_NO_COLUMNS}"
    with ExitStack() as stack:
        try:
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
) -> SidecarSummary:
    """Write both sidecars for the datastore parquet `src` (and its `list_tuples`, see
    `write_uniqs`). An empty datastore gets uniqs with empty lists and a null project_id."""
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
    write_uniqs(con, src, schema, rows, uniqs_dest, list_tuples)
    cardinalities = read_cardinalities(con, uniqs_dest)
    write_json(metadata_dest, {"project_id": project_id, "num_records": rows})
    return SidecarSummary(rows, project_id, cardinalities, schema)
