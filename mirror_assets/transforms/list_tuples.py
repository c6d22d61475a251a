"""Number the distinct tuples of a datastore's list columns, so that a sort can carry a small id
instead of the lists.

A datastore repeats a few variable lists over millions of rows. Sorting the lists themselves needs
several KB per row, which a bounded memory_limit cannot hold (DuckDB runs out of memory rather than
spill them), so rows are sorted with the id of their list tuple and the lists are put back after
the sort. The sidecar stage finds the distinct tuples anyway (the uniqs of list columns) and keeps
them in a small file that the partitioning stage reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mirror_assets.transforms.duck import quote_ident, scratch_name, sql_literal

# Above this many distinct tuples the lists are sorted as they are, and no tuple file is kept.
MAX_LIST_TUPLES = 100_000
# Every writer's cursor holds the lists in a variable, outside DuckDB's memory accounting: a
# dictionary whose lists take more than this fraction of memory_limit (in their text form, about
# what they hold) is not used either.
MAX_DICTIONARY_SHARE_OF_MEMORY = 1 / 16
TUPLE_ID = "__mirror_list_id"
_TUPLE_HASH = "__mirror_list_hash"


def tuple_hash(columns: list[str], alias: str = "") -> str:
    """SQL for a 64-bit hash of a row's list tuple. DuckDB's list hash alone collides by
    structure (`hash([]) = hash(NULL)`, `hash(['a', 'b'], ['c']) = hash(['a'], ['b', 'c'])`),
    so each list's length and NULL-ness go in too. It only ever stands for a tuple after a check
    that no two distinct tuples of the datastore share it."""
    prefix = f"{alias}." if alias else ""
    parts = []
    for column in columns:
        col = prefix + quote_ident(column)
        parts += [col, f"len({col})", f"{col} IS NULL"]
    return f"hash({', '.join(parts)})"


def _distinct_tuples(src: Path, columns: list[str]) -> str:
    cols = ", ".join(quote_ident(c) for c in columns)
    return f"SELECT DISTINCT {cols} FROM read_parquet({sql_literal(src)})"


@contextmanager
def distinct_tuples_table(
    con: duckdb.DuckDBPyConnection, src: Path, columns: list[str]
) -> Iterator[tuple[str, int]]:
    """A scratch table of the distinct tuples of `columns` in `src`, and how many there are."""
    table = scratch_name("list_tuples")
    con.execute(f"CREATE TABLE {table} AS {_distinct_tuples(src, columns)}")
    try:
        yield table, con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _variable(index: int) -> str:
    return f"__mirror_lists_{index}"


@dataclass(frozen=True)
class ListDictionary:
    """A table numbering the distinct tuples of a datastore's list columns (`TUPLE_ID`, from 1).

    With `by_hash`, no two tuples share a `tuple_hash`: rows find their id by an integer join on
    it rather than by comparing lists.
    """

    table: str
    columns: list[str]
    by_hash: bool

    def load(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Hold each list column's lists, in tuple-id order, in a variable of `cursor`."""
        for i, col in enumerate(self.columns):
            cursor.execute(
                f"SET VARIABLE {_variable(i)} = "
                f"(SELECT list({quote_ident(col)} ORDER BY {TUPLE_ID}) FROM {self.table})"
            )

    def unload(self, cursor: duckdb.DuckDBPyConnection) -> None:
        for i in range(len(self.columns)):
            cursor.execute(f"RESET VARIABLE {_variable(i)}")

    def lookup(self, column: str) -> str:
        """SQL for the lists of `column` by the tuple id (needs `load` on the cursor)."""
        return f"getvariable('{_variable(self.columns.index(column))}')[{TUPLE_ID}]"

    def join(self, source: str) -> str:
        """SQL joining `source` (alias `s`) to the dictionary (alias `d`), for `d.TUPLE_ID`.
        A row whose tuple is missing (the tuple file is not of this datastore) is an error."""
        if self.by_hash:
            match = f"d.{_TUPLE_HASH} = {tuple_hash(self.columns, 's')}"
        else:
            match = " AND ".join(
                f"s.{quote_ident(c)} IS NOT DISTINCT FROM d.{quote_ident(c)}" for c in self.columns
            )
        return f"{source} s LEFT JOIN {self.table} d ON {match}"

    def tuple_id(self) -> str:
        return (
            f"coalesce(d.{TUPLE_ID}, error('a list tuple is missing from the tuple file'))"
            f" AS {TUPLE_ID}"
        )


@contextmanager
def list_dictionary(
    con: duckdb.DuckDBPyConnection, src: Path, columns: list[str], tuples: Path | None = None
) -> Iterator[ListDictionary | None]:
    """Number the distinct tuples of `columns` in a table every cursor of `con` can read, from
    the sidecar stage's `tuples` file when there is one, else from `src`.

    Yields None when there are no list columns, or too many distinct tuples, or tuples too
    large for every writer to hold beside memory_limit.
    """
    if not columns:
        yield None
        return
    if tuples is not None and tuples.is_file():
        found = f"read_parquet({sql_literal(tuples)})"
    else:
        found = f"({_distinct_tuples(src, columns)})"
    table = scratch_name("list_dictionary")
    con.execute(
        f"CREATE TABLE {table} AS SELECT row_number() OVER () AS {TUPLE_ID}, "
        f"{tuple_hash(columns)} AS {_TUPLE_HASH}, * FROM {found}"
    )
    size = " + ".join(f"coalesce(strlen({quote_ident(c)}::VARCHAR), 0)" for c in columns)
    try:
        count, hashes, size, limit = con.execute(
            f"SELECT count(*), count(DISTINCT {_TUPLE_HASH}), coalesce(sum({size}), 0), "
            f"parse_formatted_bytes(current_setting('memory_limit')) FROM {table}"
        ).fetchall()[0]
        fits = count <= MAX_LIST_TUPLES and size <= limit * MAX_DICTIONARY_SHARE_OF_MEMORY
        yield ListDictionary(table, columns, by_hash=hashes == count) if fits else None
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")
