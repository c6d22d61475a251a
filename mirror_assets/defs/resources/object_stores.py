"""Where the mirrored catalog is published: a local folder (the embedded default) or S3."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg

from mirror_assets.store.bucket import Bucket, LocalBucket
from mirror_assets.store.s3 import MIB, S3Bucket, S3Location


class ObjectStore(dg.ConfigurableResource, ABC):
    """Where the mirrored catalog is published."""

    dry_run: bool = False

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


class S3ObjectStore(ObjectStore):
    """An S3-compatible bucket (Nectar's Swift s3api, AWS, moto), under an optional key prefix.
    Credentials come from the standard AWS chain (env vars, AWS_PROFILE, shared config)."""

    bucket_name: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    concurrency: int = 16
    multipart_threshold_mib: int = 16
    part_size_mib: int = 8
    max_attempts: int = 5

    def _location(self) -> S3Location:
        return S3Location(
            bucket=self.bucket_name,
            prefix=self.prefix,
            endpoint_url=self.endpoint_url or None,
            region=self.region or None,
            concurrency=self.concurrency,
            multipart_threshold=self.multipart_threshold_mib * MIB,
            part_size=self.part_size_mib * MIB,
            max_attempts=self.max_attempts,
        )

    def describe(self) -> str:
        return self._location().url

    def bucket(self) -> Bucket:
        return S3Bucket(self._location())
