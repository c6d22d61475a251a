"""The manifest of an archived version: what `versions/<v>/` holds, datastore by datastore.

`versions/<v>/manifest.json` is written after the version's objects are uploaded and verified.
For each datastore it records its objects (key below the version, size, ETag as the store lists
it), rows, the digests of the inputs it was built from, the fingerprints of the stages that shaped
it (code versions and settings included) and its state. A later run trusts the manifest, not a
local staging folder: a datastore it does not rebuild keeps the objects the manifest names.

Archives published before manifests existed are read from their listing instead
(`from_listing`): a datastore's objects are found by their names.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from mirror_assets.store.bucket import Bucket, StoredObject

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
ARCHIVE_PREFIX = "versions/"

# States of a datastore in the manifest.
BUILT = "ok"  # built from the version's source as it is
KEPT = "kept"  # its rebuild failed in a later run: the objects of the last good build were kept


def archive_prefix(version: str) -> str:
    """Where a version is archived in the bucket."""
    return f"{ARCHIVE_PREFIX}{version}/"


@dataclass
class ArchivedDatastore:
    """One datastore of an archived version. `objects` keys are relative to the version."""

    objects: dict[str, StoredObject]
    rows: int | None = None
    state: str = BUILT
    inputs: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    cause: str = ""
    # Each build stage's seconds when the datastore was built, carried by builds reused from it:
    # what a version that takes this build does not spend.
    seconds: dict[str, float] = field(default_factory=dict)

    def present_in(self, listing: dict[str, StoredObject]) -> bool:
        """Every object is in `listing` (relative keys) with the recorded size and ETag."""
        return bool(self.objects) and all(listing.get(k) == o for k, o in self.objects.items())

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["objects"] = dict(sorted(document["objects"].items()))
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ArchivedDatastore:
        objects = {k: StoredObject(**o) for k, o in document.get("objects", {}).items()}
        return cls(**{**document, "objects": objects})


@dataclass
class Manifest:
    version: str
    datastores: dict[str, ArchivedDatastore]
    metacatalog: StoredObject | None = None

    @property
    def rows(self) -> int:
        return sum(d.rows or 0 for d in self.datastores.values())

    @property
    def bytes(self) -> int:
        sizes = [o.size for d in self.datastores.values() for o in d.objects.values()]
        return sum(sizes) + (self.metacatalog.size if self.metacatalog else 0)

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT,
            "version": self.version,
            "metacatalog": asdict(self.metacatalog) if self.metacatalog else None,
            "datastores": {n: d.to_json() for n, d in sorted(self.datastores.items())},
        }
        return (json.dumps(document, indent=2, sort_keys=False) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        document = json.loads(raw)
        meta = document.get("metacatalog")
        return cls(
            version=document["version"],
            datastores={
                n: ArchivedDatastore.from_json(d) for n, d in document["datastores"].items()
            },
            metacatalog=StoredObject(**meta) if meta else None,
        )


def datastore_keys(name: str, keys: list[str] | dict[str, Any]) -> list[str]:
    """The keys among `keys` (relative to a version) that belong to datastore `name`: its spec,
    sidecars, and its parquet file or the files of its hive folder."""
    own = {f"source/{name}{s}" for s in (".json", "_uniqs.parquet", "_metadata.json", ".parquet")}
    folder = f"source/{name}.parquet/"
    return sorted(k for k in keys if k in own or k.startswith(folder))


def input_files(name: str) -> tuple[str, str]:
    """The staged inputs of datastore `name`, relative to the version folder."""
    return (f"source/{name}.parquet", f"source/{name}.json")


def from_listing(
    listing: dict[str, StoredObject], names: list[str] | None = None
) -> dict[str, ArchivedDatastore]:
    """The datastores an archive without a manifest holds (a spec and its parquet present), read
    from its listing (keys relative to the version): those among `names`, or every one with a
    spec."""
    if names is None:
        names = [
            k.removeprefix("source/").removesuffix(".json")
            for k in listing
            if k.startswith("source/")
            and k.endswith(".json")
            and not k.endswith("_metadata.json")
            and k.count("/") == 1
        ]
    found = {}
    for name in names:
        keys = datastore_keys(name, listing)
        has_data = any(k.startswith(f"source/{name}.parquet") for k in keys)
        if f"source/{name}.json" in keys and has_data:
            found[name] = ArchivedDatastore({k: listing[k] for k in keys})
    return found


class OtherArchives:
    """Archived versions' manifests, read concurrently once (in the order given; a missing or
    unreadable one is left out, an unreadable one with a warning), and their listings, each read
    once when first asked for, keys relative to the version."""

    def __init__(
        self,
        bucket: Bucket,
        versions: list[str],
        logger: logging.Logger | logging.LoggerAdapter = log,
        workers: int = 8,
    ):
        self.bucket, self.logger = bucket, logger
        with ThreadPoolExecutor(max(1, min(workers, len(versions) or 1))) as pool:
            read = list(pool.map(self._read, versions))
        self.manifests = {v: m for v, m in zip(versions, read, strict=True) if m is not None}
        self._listings: dict[str, dict[str, StoredObject]] = {}
        self._lock = threading.Lock()

    def _read(self, version: str) -> Manifest | None:
        raw = self.bucket.get_bytes(archive_prefix(version) + MANIFEST)
        try:
            return Manifest.from_bytes(raw) if raw is not None else None
        except (ValueError, KeyError, TypeError):
            self.logger.warning(
                "archive: %s%s is unreadable; nothing is reused from it",
                archive_prefix(version),
                MANIFEST,
            )
            return None

    def listing(self, version: str) -> dict[str, StoredObject]:
        with self._lock:
            if version not in self._listings:
                prefix = archive_prefix(version)
                self._listings[version] = {
                    k.removeprefix(prefix): o for k, o in self.bucket.list(prefix).items()
                }
            return self._listings[version]
