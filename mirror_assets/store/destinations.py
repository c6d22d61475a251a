"""Open the configured destination without Dagster (for the commands that only read it)."""

from __future__ import annotations

from pathlib import Path

from mirror_assets.config.settings import Settings
from mirror_assets.store.bucket import Bucket, LocalBucket
from mirror_assets.store.s3 import MIB, S3Bucket, S3Location, is_s3_url, parse_s3_url


def bucket_for(settings: Settings) -> Bucket:
    """The destination of `settings`: a local folder, or an S3 bucket under an optional prefix."""
    if not is_s3_url(settings.dest):
        return LocalBucket(Path(settings.dest).resolve())
    name, prefix = parse_s3_url(settings.dest)
    s3 = settings.s3
    return S3Bucket(
        S3Location(
            bucket=name,
            prefix=prefix,
            endpoint_url=s3.endpoint_url or None,
            region=s3.region or None,
            concurrency=s3.concurrency,
            multipart_threshold=s3.multipart_threshold_mib * MIB,
            part_size=s3.part_size_mib * MIB,
            max_attempts=s3.max_attempts,
        )
    )
