"""Retry transient failures of the outside edges; fail at once on bad input or a broken machine."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from mirror_assets.errors import MirrorError
from mirror_assets.state.outcomes import StagingError, staging_failure
from mirror_assets.store.publish import PublishError

# 1 s, 2 s, 4 s (each ±jitter): long enough for a dropped connection or a throttled store.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# Paths that cannot become writable by waiting.
_PERMANENT_ERRNOS = {errno.ENOTDIR, errno.EISDIR}


def _permanent_reason(exc: Exception, stage: str, workdir: str) -> str | None:
    if isinstance(exc, PublishError):
        return None  # an unverified upload may well succeed the next time
    stop = staging_failure(exc, stage, workdir)
    if stop is not None and not isinstance(exc, StagingError):
        return str(stop)
    if isinstance(exc, MirrorError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _PERMANENT_ERRNOS:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return None


@contextmanager
def retry_only_transient(stage: str, workdir: Path) -> Iterator[None]:
    """Let the step's RetryPolicy retry transient errors; bad input or a full/unwritable disk
    fails the step at once with its one-line message."""
    try:
        yield
    except Exception as exc:
        reason = _permanent_reason(exc, stage, str(workdir))
        if reason is None:
            raise
        raise dg.Failure(description=reason, allow_retries=False) from exc


@contextmanager
def stop_on_full_disk(stage: str, workdir: Path) -> Iterator[None]:
    """Turn a full or unwritable staging disk, however deep it surfaced, into a StagingError."""
    try:
        yield
    except Exception as exc:
        stop = staging_failure(exc, stage, workdir)
        if stop is None or isinstance(exc, StagingError):
            raise
        raise stop from exc
