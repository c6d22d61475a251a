"""The `early_copies` resource: the early copies (store/early_copies.py) a run started, kept from
the step that starts them (datastore_sidecars) to the one that takes them (published_catalog).

Run-scoped: each run gets its own; when the run ends, copies no publish took are deleted. With
an executor that runs each step in its own process, the publish does not see them and does the
copies itself (they are then already in place)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import dagster as dg

from mirror_assets.store.early_copies import EarlyCopies


class RunEarlyCopies:
    """The early copies of a run, by version, until the publish takes them."""

    def __init__(self) -> None:
        self._started: dict[str, EarlyCopies] = {}
        self._lock = threading.Lock()

    def start(self, version: str, start: Callable[[], EarlyCopies]) -> None:
        """`start()` the copies of `version`, unless this run already did (a retried step)."""
        with self._lock:
            if version not in self._started:
                self._started[version] = start()

    def take(self, version: str) -> dict[str, str]:
        """The copies made for `version` (copied key -> archived key), waiting for them; {} if
        none were started in this run."""
        with self._lock:
            copies = self._started.pop(version, None)
        return copies.take() if copies is not None else {}

    def discard_all(self) -> None:
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
