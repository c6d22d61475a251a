"""Retry transient failures of the outside edges; fail at once on bad input or a broken machine."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from mirror_assets.lib.errors import MirrorError
from mirror_assets.lib.outcomes import environment_failure
from mirror_assets.lib.publish import PublishError

# 1 s, 2 s, 4 s (each ±jitter): long enough for a dropped connection or a throttled store.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# Paths that cannot become writable by waiting.
_PERMANENT_ERRNOS = {errno.ENOTDIR, errno.EISDIR}


def _permanent_reason(exc: Exception) -> str | None:
    if isinstance(exc, PublishError):
        return None  # an unverified upload may well succeed the next time
    if isinstance(exc, MirrorError):
        return str(exc)
    if isinstance(exc, OSError):
        reason = environment_failure(exc) or (
            exc.strerror if exc.errno in _PERMANENT_ERRNOS else None
        )
        if reason:
            return f"{exc.filename}: {reason}" if exc.filename else reason
    return None


@contextmanager
def retry_only_transient() -> Iterator[None]:
    """Let the step's RetryPolicy retry transient errors; bad input or a full/unwritable disk
    fails the step at once with its one-line message."""
    try:
        yield
    except Exception as exc:
        reason = _permanent_reason(exc)
        if reason is None:
            raise
        raise dg.Failure(description=reason, allow_retries=False) from exc
