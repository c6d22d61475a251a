"""Restructure the metacatalog: one row per datastore name, list columns unioned."""

from __future__ import annotations

from pathlib import Path

import duckdb

from mirror_assets.errors import VersionError, one_line
from mirror_assets.files import replace_atomically
from mirror_assets.transforms.duck import sql_literal

LIST_COLUMNS = ("model", "realm", "frequency", "variable")
TEXT_COLUMNS = ("name", "description", "yaml")


def _check_schema(con: duckdb.DuckDBPyConnection, src: Path) -> None:
    try:
        schema = dict(
            (row[0], row[1])
            for row in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(src)]).fetchall()
        )
    except duckdb.Error as exc:
        raise VersionError(src, f"cannot read metacatalog: {one_line(exc)}") from None
    problems = [f"{c} missing" for c in LIST_COLUMNS + TEXT_COLUMNS if c not in schema]
    problems += [
        f"{c} is {schema[c]}, expected VARCHAR[]"
        for c in LIST_COLUMNS
        if c in schema and schema[c] != "VARCHAR[]"
    ]
    problems += [
        f"{c} is {schema[c]}, expected VARCHAR"
        for c in TEXT_COLUMNS
        if c in schema and schema[c] != "VARCHAR"
    ]
    if problems:
        raise VersionError(src, "wrong metacatalog schema: " + "; ".join(problems))


def check_metacatalog(con: duckdb.DuckDBPyConnection, src: Path) -> None:
    """Fail fast (VersionError) when the version's metacatalog is missing or malformed."""
    if not src.is_file():
        raise VersionError(src, "metacatalog.parquet not found")
    _check_schema(con, src)


def write_without_names(
    con: duckdb.DuckDBPyConnection, src: Path, dest: Path, names: list[str]
) -> None:
    """Copy the restructured metacatalog `src` to `dest` without the rows of `names`."""
    with replace_atomically(dest) as tmp:
        con.execute(
            f"COPY (SELECT * FROM read_parquet(?) WHERE NOT list_contains(?, name) ORDER BY name)"
            f" TO {sql_literal(tmp)} (FORMAT parquet, COMPRESSION zstd)",
            [str(src), names],
        )


def restructure_metacatalog(con: duckdb.DuckDBPyConnection, src: Path, dest: Path) -> list[str]:
    """Write `dest` with one row per name, ordered by name; returns the names.

    List columns become the sorted distinct union of the name's lists (NULLs dropped, [] if none);
    description and yaml take the first non-null value in file order.
    """
    check_metacatalog(con, src)
    unions = ",\n".join(
        f"coalesce(list_sort(list_distinct(flatten(list({c}) FILTER (WHERE {c} IS NOT NULL)))), [])"
        f" AS {c}"
        for c in LIST_COLUMNS
    )
    firsts = ",\n".join(
        f"first({c} ORDER BY file_row_number) FILTER (WHERE {c} IS NOT NULL) AS {c}"
        for c in ("description", "yaml")
    )
    query = f"""
        SELECT name, {unions}, {firsts}
        FROM read_parquet(?, file_row_number = true)
        WHERE name IS NOT NULL
        GROUP BY name
        ORDER BY name
    """
    with replace_atomically(dest) as tmp:
        try:
            con.execute(
                f"COPY ({query}) TO {sql_literal(tmp)} (FORMAT parquet, COMPRESSION zstd)",
                [str(src)],
            )
        except duckdb.Error as exc:
            raise VersionError(src, f"cannot restructure metacatalog: {one_line(exc)}") from None
    return [
        row[0] for row in con.execute("SELECT name FROM read_parquet(?)", [str(dest)]).fetchall()
    ]
