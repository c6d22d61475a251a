"""The object-store interface the publisher needs, and its local-folder implementation."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CONTENT_TYPES = {".parquet": "application/vnd.apache.parquet", ".json": "application/json"}

# What is uploaded: a local file, or bytes built in memory (the rewritten specs, versions.json).
Payload = Path | bytes


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(Path(key).suffix, "application/octet-stream")


@dataclass(frozen=True)
class StoredObject:
    """An object as one listing reports it."""

    size: int
    etag: str


@dataclass(frozen=True)
class Etags:
    """A content's size and every etag a store may report for it (upload or server-side copy)."""

    size: int
    etags: frozenset[str]

    def matches(self, stored: StoredObject | None) -> bool:
        return stored is not None and stored.size == self.size and stored.etag in self.etags


class Bucket(Protocol):
    """Keys are `/`-separated paths below the destination root."""

    concurrency: int
    # Names how `etags` computes them, so remembered etags are reused only alike.
    etag_scheme: str

    def describe(self) -> str:
        """Where the bucket is, for messages (never includes credentials)."""
        ...

    def setup(self) -> list[str]:
        """Create the bucket if needed and open it to anonymous readers; what was done."""
        ...

    def list(self, prefix: str) -> dict[str, StoredObject]:
        """Every object whose key starts with `prefix` (one listing, no per-object request)."""
        ...

    def etags(self, payload: Payload) -> Etags:
        """What a listing would show for `payload` once uploaded here."""
        ...

    def put(self, key: str, payload: Payload) -> None: ...

    def copy(self, src_key: str, dest_key: str, size: int | None = None) -> None:
        """Server-side copy; `size` (the source's, when known) saves asking for it."""
        ...

    def delete(self, keys: list[str]) -> None: ...

    def get_bytes(self, key: str) -> bytes | None: ...


# md5 by file identity: a local publish links the built file into the archive and the root, and
# lists both, so each file is hashed once per process. Files are only ever replaced, never
# rewritten in place, so identity, size and mtime change with the content. (Not ctime: a new
# link to the file changes it.)
_md5_by_identity: dict[tuple[int, ...], str] = {}
_md5_lock = threading.Lock()


def md5_file(path: Path) -> str:
    stat = path.stat()
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _md5_lock:
        known = _md5_by_identity.get(identity)
    if known is not None:
        return known
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    with _md5_lock:
        _md5_by_identity[identity] = digest.hexdigest()
    return digest.hexdigest()


def md5_etags(payload: Payload) -> Etags:
    if isinstance(payload, bytes):
        digest = hashlib.md5(payload, usedforsecurity=False).hexdigest()
        return Etags(len(payload), frozenset({digest}))
    return Etags(payload.stat().st_size, frozenset({md5_file(payload)}))


def _link_or_placeholder(src: Path, dest: Path) -> bool:
    """A hard link where the filesystem allows one (no bytes copied), else an empty `dest` for
    the caller to copy into; whether it linked. Nothing in the pipeline or the bucket writes into
    an existing file, so the two names never diverge."""
    try:
        os.link(src, dest)
        return True
    except OSError:
        dest.touch()
        return False


class LocalBucket:
    """A folder laid out like the bucket; every write lands by rename, never half-written.

    Transfers run on a thread pool, and a bucket's keys do not map one to one onto a folder's
    structure: putting `a/b` removes a file `a`, deleting `a/b` removes `a` once empty. So the
    changes to the folder structure (clearing room, creating folders, deleting) happen under one
    lock, until the temporary file exists in its folder (a non-empty folder is never removed);
    the bytes are written outside it."""

    def __init__(self, root: str | Path, concurrency: int = 8):
        self.root = Path(root).resolve()
        self.concurrency = concurrency
        self.etag_scheme = "md5"
        self._structure = threading.Lock()

    def describe(self) -> str:
        return str(self.root)

    def setup(self) -> list[str]:
        self.root.mkdir(parents=True, exist_ok=True)
        return []

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{key}: key escapes the destination folder")
        return path

    def list(self, prefix: str) -> dict[str, StoredObject]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            files = [base]
        elif base.is_dir():
            files = [p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")]
        else:
            files = []
        return {
            p.relative_to(self.root).as_posix(): StoredObject(p.stat().st_size, md5_file(p))
            for p in files
        }

    def etags(self, payload: Payload) -> Etags:
        return md5_etags(payload)

    def _make_room(self, dest: Path) -> None:
        """Clear what a folder cannot hold beside `dest` but a bucket can: a file where `dest`
        needs a folder, or a folder where it is a file (a datastore changing between a single
        file and a hive folder). Both are objects of the version being replaced."""
        for parent in reversed(dest.relative_to(self.root).parents[:-1]):
            if (self.root / parent).is_file():
                (self.root / parent).unlink()
        if dest.is_dir():
            shutil.rmtree(dest)

    def put(self, key: str, payload: Payload) -> None:
        dest = self._path(key)
        # One name per thread: two threads never write the same temporary file.
        tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}-{threading.get_native_id()}")
        with self._structure:
            self._make_room(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(payload, Path):
                linked = _link_or_placeholder(payload, tmp)
            else:
                linked = False
                tmp.touch()
        if isinstance(payload, bytes):
            tmp.write_bytes(payload)
        elif not linked:
            shutil.copyfile(payload, tmp)
        os.replace(tmp, dest)

    def copy(self, src_key: str, dest_key: str, size: int | None = None) -> None:
        self.put(dest_key, self._path(src_key))

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            path = self._path(key)
            with self._structure:
                try:
                    path.unlink(missing_ok=True)
                except (NotADirectoryError, IsADirectoryError):
                    continue  # replaced by a file or folder of the new version: gone already
                parent = path.parent
                while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None
