"""What a fetch must transfer: shared by every CatalogSource so they skip and resume alike."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mirror_assets.fetch.inventory import Problem


@dataclass(frozen=True)
class RemoteFile:
    """A file at the source: its path relative to the version folder, size and mtime (seconds)."""

    relpath: str
    size: int
    mtime: int


@dataclass
class FetchReport:
    """`datastores`: the pairs fetched (the selected ones, in a limited run); `available`: every
    complete pair at the source, selected or not."""

    datastores: list[str]
    available: list[str] = field(default_factory=list)
    transferred: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_transferred: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def is_current(local: Path, remote: RemoteFile) -> bool:
    """True when `local` already holds `remote` (same size and modification time)."""
    try:
        stat = local.stat()
    except FileNotFoundError:
        return False
    return stat.st_size == remote.size and int(stat.st_mtime) == remote.mtime


def finish_transfer(tmp: Path, dest: Path, remote: RemoteFile) -> None:
    """Check a completed temporary file against the source, stamp its mtime and move it in place."""
    size = tmp.stat().st_size
    if size != remote.size:
        raise OSError(f"{remote.relpath}: transferred {size} bytes, source has {remote.size}")
    os.utime(tmp, (remote.mtime, remote.mtime))
    os.replace(tmp, dest)


def prune_stale(raw_dir: Path, keep: set[str]) -> None:
    """Remove staged files the source no longer has, so a re-fetch mirrors the source exactly."""
    for path in sorted(raw_dir.rglob("*")):
        if path.is_file() and path.relative_to(raw_dir).as_posix() not in keep:
            path.unlink()
