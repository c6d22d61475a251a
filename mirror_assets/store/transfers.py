"""Run one call per item on a thread pool; the first failure stops the rest and is raised."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Executor, wait
from typing import TypeVar

from mirror_assets.errors import MirrorError, one_line


class TransferError(MirrorError):
    """An object could not be transferred (after the client's own retries)."""


T = TypeVar("T")


def run_all(
    pool: Executor, action: str, call: Callable[[str], T], keys: Iterable[str]
) -> dict[str, T]:
    """`call(key)` for every key concurrently, results by key; on the first failure, cancel what
    has not started, let what is running finish, and raise a `TransferError` naming the key."""
    futures = {pool.submit(call, key): key for key in keys}
    if not futures:
        return {}
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    failed = [f for f in done if f.exception() is not None]
    if not failed:
        return {key: future.result() for future, key in futures.items()}
    for future in pending:
        future.cancel()
    wait(pending)
    first = failed[0]
    exc = first.exception()
    if isinstance(exc, MirrorError):
        raise exc
    raise TransferError(futures[first], f"{action} failed: {type(exc).__name__}: {one_line(exc)}")
