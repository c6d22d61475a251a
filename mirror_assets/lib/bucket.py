"""The object-store interface the publisher needs, and its local-folder implementation."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CONTENT_TYPES = {".parquet": "application/vnd.apache.parquet", ".json": "application/json"}


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(Path(key).suffix, "application/octet-stream")


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str


class Bucket(Protocol):
    """Keys are `/`-separated paths below the destination root."""

    def list(self, prefix: str) -> dict[str, StoredObject]: ...

    def local_etag(self, path: Path) -> str:
        """The etag this store would report for the content of a local file."""
        ...

    def bytes_etag(self, data: bytes) -> str: ...

    def put_file(self, key: str, path: Path) -> None: ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def copy(self, src_key: str, dest_key: str) -> None: ...

    def delete(self, keys: list[str]) -> None: ...

    def get_bytes(self, key: str) -> bytes | None: ...


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class LocalBucket:
    """A folder laid out like the bucket; every write lands by rename, never half-written."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

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

    def local_etag(self, path: Path) -> str:
        return md5_file(path)

    def bytes_etag(self, data: bytes) -> str:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()

    def _landing(self, key: str) -> tuple[Path, Path]:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return dest, dest.with_name(f".{dest.name}.part-{os.getpid()}")

    def put_file(self, key: str, path: Path) -> None:
        dest, tmp = self._landing(key)
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)

    def put_bytes(self, key: str, data: bytes) -> None:
        dest, tmp = self._landing(key)
        tmp.write_bytes(data)
        os.replace(tmp, dest)

    def copy(self, src_key: str, dest_key: str) -> None:
        self.put_file(dest_key, self._path(src_key))

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None
