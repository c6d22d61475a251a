"""Where the mirrored catalog is published: a local folder (the embedded default) or S3."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg

from mirror_assets.lib.bucket import Bucket, LocalBucket


class ObjectStore(dg.ConfigurableResource, ABC):
    """Where the mirrored catalog is published."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for messages (never includes credentials)."""

    @abstractmethod
    def bucket(self) -> Bucket:
        """A client for the store's objects."""

    def object_url(self, key: str, public_base_url: str) -> str:
        """Where a user can open the object at `key`: below the public URL the store serves."""
        return f"{public_base_url.rstrip('/')}/{key}"


class LocalObjectStore(ObjectStore):
    """A local folder laid out like the bucket (the embedded default: ./mirror-output)."""

    root: str

    def describe(self) -> str:
        return self.root

    def bucket(self) -> Bucket:
        return LocalBucket(self.root)

    def object_url(self, key: str, public_base_url: str) -> str:
        # The public URL serves the S3 copy, not this folder: point at the file itself.
        return (Path(self.root).resolve() / key).as_uri()
