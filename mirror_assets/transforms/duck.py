"""DuckDB connections with bounded memory that spill to the staging disk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column name) for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def connect(memory_limit: str, threads: int, spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection limited to `memory_limit` that spills into `spill_dir`."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"memory_limit": memory_limit})
    con.execute("SET temp_directory = ?", [str(spill_dir)])
    if threads > 0:
        con.execute(f"SET threads = {int(threads)}")
    return con


def scratch_name(purpose: str) -> str:
    """A quoted table or type name of its own: cursors share the database, so no TEMP tables."""
    return quote_ident(f"__mirror_{purpose}_{uuid.uuid4().hex}")


def sql_literal(value: str | Path) -> str:
    """A quoted SQL string literal, where DuckDB takes no bound parameter (COPY TO)."""
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def temporary_settings(con: duckdb.DuckDBPyConnection, **values: int) -> Iterator[None]:
    """Apply integer DuckDB settings to the whole database, every cursor included, for the
    duration of a block, then restore the old values. (A plain SET of some settings, such as
    partitioned_write_flush_threshold, holds for the connection it ran on only.)"""
    previous = {
        name: con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0] for name in values
    }
    try:
        for name, value in values.items():
            con.execute(f"SET GLOBAL {name} = {int(value)}")
        yield
    finally:
        for name, value in previous.items():
            con.execute(f"SET GLOBAL {name} = {int(value)}")


@contextmanager
def one_thread_per_statement(con: duckdb.DuckDBPyConnection, **settings: int) -> Iterator[int]:
    """Run every statement on one thread (plus any other integer `settings`) for the duration of
    a block, and yield the thread count the database had: as many statements to run at once, on
    cursors of their own. For many independent datastores this beats one at a time on every
    thread: no sort merges, and no thread idle at a datastore's single-threaded parts."""
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    with temporary_settings(con, threads=1, **settings):
        yield threads
