"""The query that sorts a datastore's rows while carrying small stand-ins for wide values."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from mirror_assets.transforms.datastore import DatastoreSchema
from mirror_assets.transforms.duck import quote_ident, scratch_name, sql_literal
from mirror_assets.transforms.list_tuples import ListDictionary
from mirror_assets.transforms.sidecars import read_cardinalities


def sorted_rows_query(
    source: str,
    schema: DatastoreSchema,
    order_cols: list[str],
    lists: ListDictionary | None,
    enums: dict[str, str] | None = None,
) -> str:
    """SELECT every column of `source` (SQL for a relation) in order, rows ordered by `order_cols`.

    The sort carries small stand-ins for wide values, and a projection after it (which keeps the
    sorted order) puts the values back: with `lists` (see `list_tuples`) the list columns'
    tuple id, and for each column of `enums` (column -> ENUM type, see `enum_types`) the value's
    position in the column's sorted distinct values, which also sorts like the text.
    """
    order_by = f" ORDER BY {', '.join(quote_ident(c) for c in order_cols)}" if order_cols else ""
    enums = enums or {}
    if lists is None and not enums:
        return f"SELECT * FROM {source}{order_by}"
    list_cols = lists.columns if lists else []
    inner_cols = [
        f"CAST(s.{quote_ident(c)} AS {enums[c]}) AS {quote_ident(c)}"
        if c in enums
        else f"s.{quote_ident(c)}"
        for c in schema.columns
        if c not in list_cols
    ]

    def restored(column: str) -> str:
        if lists is not None and column in list_cols:
            return f"{lists.lookup(column)} AS {quote_ident(column)}"
        if column in enums:
            return f"CAST({quote_ident(column)} AS VARCHAR) AS {quote_ident(column)}"
        return quote_ident(column)

    outer_cols = [restored(c) for c in schema.columns]
    joined = f"{source} s"
    if lists is not None:
        inner_cols.append(lists.tuple_id())
        joined = lists.join(source)
    inner = f"SELECT {', '.join(inner_cols)} FROM {joined}{order_by}"
    return f"SELECT {', '.join(outer_cols)} FROM ({inner})"


# Text columns with at most this many distinct values are sorted as ENUMs built from the uniqs
# sidecar: one or two bytes a value instead of a 16-byte string with its characters, so the sort
# holds about half as much and spills less under memory_limit.
MAX_ENUM_VALUES = 65_535


@contextmanager
def enum_types(
    con: duckdb.DuckDBPyConnection, uniqs: Path | None, columns: list[str]
) -> Iterator[dict[str, str]]:
    """An ENUM type per column of `columns` with few enough distinct values, its values those of
    the `uniqs` sidecar in sorted order; yields column -> type name, and drops the types."""
    if uniqs is None or not columns:
        yield {}
        return
    counts = read_cardinalities(con, uniqs)
    types: dict[str, str] = {}
    try:
        for column in columns:
            if not 0 < counts.get(column, 0) <= MAX_ENUM_VALUES:
                continue
            name = scratch_name(f"enum_{len(types)}")
            con.execute(
                f"CREATE TYPE {name} AS ENUM (SELECT unnest(list_sort({quote_ident(column)})) "
                f"FROM read_parquet({sql_literal(uniqs)}))"
            )
            types[column] = name
        yield types
    finally:
        for name in types.values():
            con.execute(f"DROP TYPE IF EXISTS {name}")
