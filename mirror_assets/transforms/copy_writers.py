"""Single-threaded COPY writers on cursors of one database, started as writer slots come free."""

from __future__ import annotations

import shutil
import threading
from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path

import duckdb

from mirror_assets.errors import DatastoreError
from mirror_assets.transforms.duck import sql_literal
from mirror_assets.transforms.list_tuples import ListDictionary
from mirror_assets.transforms.write_plans import Lease, Reservation


def gather_writer_folders(tmp: Path, folders: list[Path], src: Path) -> None:
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


def copy_query(
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


class ExtraWriters:
    """The slots of a datastore's writers beyond the first, reserved (queued) when it starts, so
    that smaller datastores arriving later do not take them."""

    def __init__(self, reservations: list[Reservation]):
        self._pending = reservations
        self._lock = threading.Lock()

    def take(self, cancel: threading.Event) -> AbstractContextManager[Lease]:
        """The next reserved slot, held for a block (none once `cancel` is set)."""
        with self._lock:
            reservation = self._pending.pop(0) if self._pending else None
        return reservation.held(cancel) if reservation else nullcontext(Lease(None, 0))

    def keep(self, count: int) -> None:
        """Withdraw every reservation beyond the first `count`: their writers will not run."""
        with self._lock:
            dropped, self._pending = self._pending[count:], self._pending[:count]
        for reservation in dropped:
            reservation.withdraw()


def copy_all(
    con: duckdb.DuckDBPyConnection,
    copies: list[tuple[str, Path]],
    writers: int,
    options: list[str],
    lists: ListDictionary | None,
    more: ExtraWriters | None = None,
) -> None:
    """Run the COPYs `(query, target)`, `writers` at a time, each writer on its own cursor and
    Python thread (DuckDB releases the GIL). The first writer's slot is held already; each other
    writer first takes one of `more` (none needed without it), so the writers start as slots
    come free. The first failure interrupts the other writers and is the one raised."""
    writers = min(writers, len(copies))
    if more is not None:
        more.keep(writers - 1)
    if writers <= 1:
        for query, target in copies:
            copy_query(con, query, target, options, lists)
        return
    queue = iter(copies)
    lock = threading.Lock()
    errors: list[BaseException] = []
    finished = threading.Event()

    def work(cursor: duckdb.DuckDBPyConnection, index: int) -> None:
        with ExitStack() as held:
            if index > 0 and more is not None and not held.enter_context(more.take(finished)).count:
                return
            while True:
                with lock:
                    job = None if errors else next(queue, None)
                if job is None:
                    finished.set()
                    return
                try:
                    copy_query(cursor, job[0], job[1], options, lists)
                except BaseException as exc:
                    with lock:
                        first = not errors
                        errors.append(exc)
                    if first:
                        finished.set()
                        for other in cursors:
                            if other is not cursor:
                                other.interrupt()
                    return

    with ExitStack() as stack:
        cursors = [stack.enter_context(con.cursor()) for _ in range(min(writers, len(copies)))]
        threads = [threading.Thread(target=work, args=(c, i)) for i, c in enumerate(cursors)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
