"""Objects other archived versions already hold, so a publish copies them server-side instead of
uploading them again.

Every archived version's manifest names its objects with size and ETag. An object this publish
would upload whose content (size and one of the ETags the store would report for it) equals an
object of another version's manifest is copied from there (CopyObject, or a multipart copy for a
large one): the bytes never pass through the client. Before a copy the donor object is checked
against its version's listing; one that is missing or has another ETag than its manifest says is
not used (a warning), and the object is uploaded.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mirror_assets.store.bucket import Bucket, Etags, StoredObject
from mirror_assets.store.manifest import MANIFEST, Manifest, archive_prefix

log = logging.getLogger(__name__)


class ArchiveDonors:
    """The objects of the other archived versions in `index` (versions.json), by content."""

    def __init__(self, bucket: Bucket, version: str, index: dict[str, Any], workers: int = 8):
        self.bucket = bucket
        others = [v["version"] for v in index.get("versions", []) if v["version"] != version]
        with ThreadPoolExecutor(max(1, min(workers, len(others) or 1))) as pool:
            manifests = list(pool.map(self._manifest, others))
        # (size, etag) -> (version, key relative to it); the newest version first.
        self.by_content: dict[tuple[int, str], tuple[str, str]] = {}
        for other, manifest in zip(others, manifests, strict=True):
            if manifest is None:
                continue
            for entry in manifest.datastores.values():
                for key, stored in entry.objects.items():
                    self.by_content.setdefault((stored.size, stored.etag), (other, key))
        self._listings: dict[str, dict[str, StoredObject]] = {}
        self._lock = threading.Lock()

    def _manifest(self, version: str) -> Manifest | None:
        raw = self.bucket.get_bytes(archive_prefix(version) + MANIFEST)
        try:
            return Manifest.from_bytes(raw) if raw is not None else None
        except (ValueError, KeyError, TypeError):
            log.warning("publish: %s%s is unreadable; not copying from it", version, MANIFEST)
            return None

    def _listing(self, version: str) -> dict[str, StoredObject]:
        with self._lock:
            if version not in self._listings:
                prefix = archive_prefix(version)
                self._listings[version] = {
                    k.removeprefix(prefix): o for k, o in self.bucket.list(prefix).items()
                }
            return self._listings[version]

    def find(self, printed: Etags) -> str | None:
        """The key of an archived object with this content, still as its manifest says, or None."""
        for etag in sorted(printed.etags):
            found = self.by_content.get((printed.size, etag))
            if found is None:
                continue
            version, key = found
            if self._listing(version).get(key) == StoredObject(printed.size, etag):
                return archive_prefix(version) + key
            log.warning(
                "publish: %s%s differs from its version's manifest (missing or another ETag); "
                "uploading instead of copying it",
                archive_prefix(version),
                key,
            )
        return None
