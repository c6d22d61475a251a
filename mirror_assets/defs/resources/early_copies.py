"""The `early_copies` resource: the early copies (store/early_copies.py) a run started, kept from
the step that starts them (datastore_sidecars) to the one that takes them (published_catalog).

Run-scoped: each run gets its own, and when the run ends, copies no publish took are deleted.
This needs the steps in one process, as the job's in-process executor runs them; with one process
per step the copies would be deleted as the sidecars step ends and the publish makes them again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import dagster as dg

from mirror_assets.store.archived_builds import ArchivedBuild
from mirror_assets.store.bucket import Bucket
from mirror_assets.store.early_copies import EarlyCopies


class RunEarlyCopies:
    """The early copies of a run, by version, until the publish takes them."""

    def __init__(self) -> None:
        self._started: dict[str, EarlyCopies] = {}
        self._taken: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def start(
        self,
        bucket: Bucket,
        version: str,
        find: Callable[[], dict[str, ArchivedBuild]],
        logger: logging.Logger | logging.LoggerAdapter,
    ) -> None:
        """Start copying the builds `find()` returns into `version`, unless this run already did
        (a retried step)."""
        with self._lock:
            if version not in self._started:
                self._started[version] = EarlyCopies(bucket, version, find, logger)

    def take(self, version: str) -> dict[str, str]:
        """The copies made for `version` (copied key -> archived key), waiting for them; the
        same again for a retried publish; {} if none were started in this run."""
        with self._lock:
            copies = self._started.pop(version, None)
        if copies is None:
            with self._lock:
                return self._taken.get(version, {})
        taken = copies.take()
        with self._lock:
            self._taken[version] = taken
        return taken

    def discard_all(self) -> None:
        """Delete the copies no publish took (the run is ending)."""
        with self._lock:
            left, self._started = list(self._started.values()), {}
        for copies in left:
            copies.discard()


@dg.resource(description="Archived builds copied into the version while it is built.")
def early_copies_resource(_: dg.InitResourceContext) -> Iterator[RunEarlyCopies]:
    copies = RunEarlyCopies()
    try:
        yield copies
    finally:
        copies.discard_all()
