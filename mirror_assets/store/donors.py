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
from typing import Any

from mirror_assets.store.bucket import Bucket, Etags, StoredObject
from mirror_assets.store.manifest import OtherArchives, archive_prefix

log = logging.getLogger(__name__)


class ArchiveDonors:
    """The objects of the other archived versions in `index` (versions.json), by content."""

    def __init__(self, bucket: Bucket, version: str, index: dict[str, Any]):
        others = [v["version"] for v in index.get("versions", []) if v["version"] != version]
        self.archives = OtherArchives(bucket, others, log)
        # (size, etag) -> (version, key relative to it); the newest version first.
        self.by_content: dict[tuple[int, str], tuple[str, str]] = {}
        for other, manifest in self.archives.manifests.items():
            for entry in manifest.datastores.values():
                for key, stored in entry.objects.items():
                    self.by_content.setdefault((stored.size, stored.etag), (other, key))

    def find(self, printed: Etags) -> str | None:
        """The key of an archived object with this content, still as its manifest says, or None."""
        for etag in sorted(printed.etags):
            found = self.by_content.get((printed.size, etag))
            if found is None:
                continue
            version, key = found
            if self.archives.listing(version).get(key) == StoredObject(printed.size, etag):
                return archive_prefix(version) + key
            log.warning(
                "publish: %s%s differs from its version's manifest (missing or another ETag); "
                "uploading instead of copying it",
                archive_prefix(version),
                key,
            )
        return None
