"""How a datastore's sorted write is run: how many single-threaded writers at once, over which
groups of partitions, and what to fall back to when DuckDB runs out of memory.

Every writer holds memory DuckDB cannot spill: a buffer of `partitioned_write_flush_threshold`
rows for each partition it has open, and the row group its parquet reader decodes. Writers share
their database's `memory_limit`, so what fits depends on what else runs at the same moment. An
out-of-memory error is the machine's limit, not the datastore's fault: the write is retried with
the next plan of `fallback_plans`, each holding less at once, and fails only when the last
(one partition at a time, nothing alongside) does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class Lease:
    """Slots held from a `WriterSlots`, until `release` (idempotent) or the end of the block."""

    def __init__(self, slots: WriterSlots | None, count: int):
        self.slots = slots
        self.count = count

    def release(self) -> None:
        if self.count and self.slots is not None:
            self.slots._give_back(self.count)
            self.count = 0


class Reservation:
    """A place in a `WriterSlots` queue, taken with `held` or given up with `withdraw`."""

    def __init__(self, slots: WriterSlots, waiter: tuple[int, int], count: int):
        self.slots = slots
        self.waiter = waiter
        self.count = count

    @contextmanager
    def held(self, cancel: threading.Event | None = None) -> Iterator[Lease]:
        """Wait for the slots and hold them for a block; a lease of none if `cancel` is set
        first or the reservation was withdrawn."""
        lease = Lease(self.slots, self.slots._take(self.waiter, self.count, cancel))
        try:
            yield lease
        finally:
            lease.release()

    def withdraw(self) -> None:
        """Leave the queue (nothing, once taken)."""
        self.slots._withdraw(self.waiter)


class WriterSlots:
    """The single-threaded writers a stage may run at once (its database's thread count),
    shared by every datastore it writes. Waiting requests are served by priority (a datastore's
    planned writers), then in the order they were made, and none overtakes the first: the
    dominant datastore's writers take each slot that comes free, and a retry waiting for every
    slot is not overtaken by small datastores that would keep one busy."""

    def __init__(self, total: int):
        self.total = max(1, total)
        self._free = self.total
        self._next_ticket = 0
        self._waiting: list[tuple[int, int]] = []
        self._changed = threading.Condition()

    def reserve(self, count: int, priority: int = 0) -> Reservation:
        """Queue a request for `count` slots (at most all of them) now, to be taken later: the
        requests queued behind it wait for it to be taken or withdrawn."""
        with self._changed:
            waiter = (-priority, self._next_ticket)
            self._next_ticket += 1
            self._waiting.append(waiter)
        return Reservation(self, waiter, max(1, min(count, self.total)))

    @contextmanager
    def hold(
        self, count: int, priority: int = 0, cancel: threading.Event | None = None
    ) -> Iterator[Lease]:
        """Hold `count` slots (at most all of them) for a block, or until the lease's release.
        A lease of no slots when `cancel` is set before they are granted."""
        with self.reserve(count, priority).held(cancel) as lease:
            yield lease

    def _take(self, waiter: tuple[int, int], count: int, cancel: threading.Event | None) -> int:
        with self._changed:
            if waiter not in self._waiting:
                return 0
            while not (min(self._waiting) == waiter and self._free >= count):
                if cancel is not None and cancel.is_set():
                    count = 0
                    break
                # A cancel is not notified: look again now and then.
                self._changed.wait(timeout=0.05 if cancel is not None else None)
            self._waiting.remove(waiter)
            self._free -= count
            self._changed.notify_all()
            return count

    def _withdraw(self, waiter: tuple[int, int]) -> None:
        with self._changed:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
                self._changed.notify_all()

    def _give_back(self, count: int) -> None:
        with self._changed:
            self._free += count
            self._changed.notify_all()


@dataclass(frozen=True)
class WritePlan:
    """`groups` disjoint groups of partitions balanced by rows (0: one group per partition),
    written `writers` at a time; `exclusive` holds every slot of the stage, so nothing else
    runs alongside; `keep_insertion_order` False lets DuckDB drop the order-keeping buffers of
    statements whose order is explicit (every statement sorts)."""

    writers: int
    groups: int
    exclusive: bool = False
    keep_insertion_order: bool = True

    def describe(self) -> str:
        if self.groups == 0:
            parts = "one partition at a time"
        elif self.groups == 1:
            parts = "one writer"
        elif self.writers == 1:
            parts = f"{self.groups} partition groups one at a time"
        else:
            parts = f"{self.groups} partition groups, {self.writers} writers at once"
        extras = [parts]
        if self.exclusive:
            extras.append("nothing alongside")
        if not self.keep_insertion_order:
            extras.append("insertion order off")
        return ", ".join(extras)


def fallback_plans(writers: int, partitions: int) -> list[WritePlan]:
    """The plans to try in turn for a datastore planned for `writers` writers with `partitions`
    partitions (0 for an unpartitioned one): the planned one, then ones holding less at once."""
    planned = WritePlan(writers=max(1, writers), groups=max(1, writers))
    if partitions <= 1:
        smallest = WritePlan(1, 1, exclusive=True, keep_insertion_order=False)
        return [planned, smallest]
    plans = [planned]
    # Then about sqrt(partitions) groups of about as many partitions, one at a time: far fewer
    # partition buffers open at once, for few more scans of the source.
    groups = math.isqrt(partitions - 1) + 1
    if max(1, writers) < groups < partitions:
        plans.append(WritePlan(1, groups, exclusive=True))
    plans.append(WritePlan(1, 0, exclusive=True, keep_insertion_order=False))
    return plans


def writers_for(size: int, total: int, slots: int) -> int:
    """Writers for a datastore of `size` (rows, or bytes) among `total`, with `slots` writers at
    once: one, unless its single writer would take longer than the others' share of the slots."""
    if total <= 0 or size <= 0:
        return 1
    return max(1, min(slots, math.ceil(slots * size / total)))
