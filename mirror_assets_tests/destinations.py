"""A destination the whole job publishes to (a folder, or an S3 bucket behind a recording proxy),
read back as a reader sees it."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from mirror_assets.config.settings import Settings, load_settings
from mirror_assets_tests.pipeline import BASE_URL
from mirror_assets_tests.servers.fault_proxy import FaultProxy


@dataclass
class Store:
    """A destination as a reader sees it: every key with its ETag (md5 for a folder). For S3 the
    job goes through `proxy`, which records every request."""

    dest: str
    overrides: dict[str, Any]
    listing_of: Callable[[], dict[str, str]]
    read: Callable[[str], bytes]
    write: Callable[[str, bytes], None]
    proxy: FaultProxy | None = None

    def listing(self, prefix: str = "") -> dict[str, str]:
        return {k: v for k, v in self.listing_of().items() if k.startswith(prefix)}

    def json(self, key: str) -> Any:
        return json.loads(self.read(key))

    def metacatalog_names(self, prefix: str = "") -> list[str]:
        table = pq.read_table(io.BytesIO(self.read(f"{prefix}metacatalog.parquet")))
        return sorted(table.column("name").to_pylist())


def _replace(path: Path, data: bytes) -> None:
    """A new file at `path` (as a bucket replaces an object), not a write into the old one, which
    the staging folder may share through a hard link."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_bytes(data)
    tmp.replace(path)


def local_store(dest: Path) -> Store:
    def listing() -> dict[str, str]:
        return {
            p.relative_to(dest).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
            for p in dest.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }

    return Store(
        str(dest),
        {},
        listing,
        lambda key: (dest / key).read_bytes(),
        lambda key, data: _replace(dest / key, data),
    )


def settings(source: Path, staging: Path, store: Store, **overrides: Any) -> Settings:
    return load_settings(
        overrides={
            "source": str(source),
            "dest": store.dest,
            "staging": str(staging),
            "public_base_url": BASE_URL,
            **store.overrides,
            **overrides,
        },
        environ={},
    )
