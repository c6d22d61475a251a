"""One process at a time per catalog version: an advisory lock on `<staging>/<version>/.lock`.

The lock is a `flock` on the open file, so the kernel drops it when its holder exits, however it
exits (kill -9 included): a lock file left behind with nobody holding it is not a lock. The
holder writes who it is into the file, so a refused process can name it. Within one process the
lock is re-entrant: `mirror-catalog` takes it, then the run it executes in process takes it again
through the staging resource, for the run's duration.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from mirror_assets.errors import MirrorError

LOCK_FILE = ".lock"


class VersionLockHeld(MirrorError):
    """Another process holds the lock on a version's staging folder."""


@dataclass
class _Held:
    fd: int
    holders: list[str] = field(default_factory=list)

    def describe(self) -> None:
        """Write `pid N (holder; holder)` into the lock file; a full disk leaves it blank."""
        text = f"pid {os.getpid()} ({'; '.join(self.holders)})\n".encode()
        with suppress(OSError):
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, text, 0)


# Locks this process holds, by lock file: a second `open` + `flock` of the same file from this
# process would conflict with the first (flock belongs to the open file, not the process).
_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lock_holder(path: Path) -> str:
    """Who holds the lock at `path`, as its holder wrote it."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not written its name yet"


def _acquire(path: Path, holder: str) -> _Held | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        # A staging folder this process cannot write into (read-only, full, a file in the way)
        # is one it cannot corrupt either: the run stops at its first write, with the disk's own
        # message, as it would without the lock.
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        version = path.parent.name
        raise VersionLockHeld(
            path,
            f"held by {lock_holder(path)}: another run of {version} is in progress with this "
            "staging folder; wait for it to finish",
        ) from None
    except BaseException:
        os.close(fd)
        raise
    held = _Held(fd, [holder])
    held.describe()
    return held


@contextmanager
def version_lock(version_root: str | Path, holder: str) -> Iterator[None]:
    """Hold the lock on `version_root` (a version's staging folder) for the block.

    `holder` says who takes it (`mirror-catalog`, `run <id>`). Raises `VersionLockHeld`, naming
    the holder and the lock file, when another process holds it; this process may take it again.
    """
    path = Path(version_root).resolve() / LOCK_FILE
    with _guard:
        held = _held.get(path)
        if held is None:
            held = _acquire(path, holder)
            if held is not None:
                _held[path] = held
        else:
            held.holders.append(holder)
            held.describe()
    if held is None:
        yield
        return
    try:
        yield
    finally:
        with _guard:
            held.holders.pop()
            if held.holders:
                held.describe()
            else:
                del _held[path]
                # Blank it while still held, so nobody reads a stale name; closing unlocks.
                with suppress(OSError):
                    os.ftruncate(held.fd, 0)
                os.close(held.fd)
