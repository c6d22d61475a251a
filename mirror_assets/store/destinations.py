"""The destination the settings name, as a plain object: a local folder or an S3 bucket.

The Dagster code location hands it to the assets as the `object_store` resource; `mirror-catalog
publish`, `status` and `verify` (which must start without Dagster) open it through `bucket_for`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from mirror_assets.config.settings import Settings
from mirror_assets.store.bucket import Bucket, LocalBucket
from mirror_assets.store.s3 import S3Bucket, S3Location, is_s3_url


class ObjectStore(ABC):
    """Where the mirrored catalog is published."""

    dry_run: bool

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for messages (never includes credentials)."""

    @abstractmethod
    def bucket(self) -> Bucket:
        """A client for the store's objects."""

    def object_url(self, key: str, public_base_url: str) -> str:
        """Where a user can open the object at `key`: below the public URL the store serves."""
        return f"{public_base_url.rstrip('/')}/{key}"


@dataclass(frozen=True)
class LocalObjectStore(ObjectStore):
    """A local folder laid out like the bucket (the default: ./mirror-output)."""

    root: str
    dry_run: bool = False

    def describe(self) -> str:
        return self.root

    def bucket(self) -> Bucket:
        return LocalBucket(self.root)

    def object_url(self, key: str, public_base_url: str) -> str:
        # The public URL serves the S3 copy, not this folder: point at the file itself.
        return (Path(self.root).resolve() / key).as_uri()


@dataclass(frozen=True)
class S3ObjectStore(ObjectStore):
    """An S3-compatible bucket (Nectar's Swift s3api, AWS, moto), under an optional key prefix.
    Credentials come from the standard AWS chain (env vars, AWS_PROFILE, shared config)."""

    location: S3Location
    dry_run: bool = False

    def describe(self) -> str:
        return self.location.url

    def bucket(self) -> Bucket:
        return S3Bucket(self.location)


def object_store_for(settings: Settings) -> ObjectStore:
    """The destination of `settings`: a local folder, or an S3 bucket under an optional prefix."""
    if is_s3_url(settings.dest):
        return S3ObjectStore(S3Location.of(settings.dest, settings.s3), settings.dry_run)
    return LocalObjectStore(str(Path(settings.dest).resolve()), settings.dry_run)


def bucket_for(settings: Settings) -> Bucket:
    """A client for the objects at the destination of `settings`."""
    return object_store_for(settings).bucket()
