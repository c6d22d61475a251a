"""The `Bucket` protocol on an S3-compatible endpoint (boto3): AWS, moto, or Swift's s3api.

Credentials come from boto3's standard chain only (environment, AWS_PROFILE, shared config) and
never appear in messages. Swift's S3 layer needs path-style addressing, and refuses DeleteObjects
without a Content-MD5 header, which boto3 no longer sends by default (it adds one here).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.parsers
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from mirror_assets.config.settings import S3Settings, SettingsError
from mirror_assets.store.access import open_to_readers
from mirror_assets.store.bucket import (
    Etags,
    Payload,
    StoredObject,
    content_type,
    md5_etags,
)

log = logging.getLogger(__name__)

MIB = 1 << 20
MAX_PARTS = 10_000
DELETE_BATCH = 1000
MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


@dataclass(frozen=True)
class S3Location:
    """Where and how to reach the bucket; holds no credentials."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    concurrency: int = 16
    multipart_threshold: int = 16 * MIB
    part_size: int = 8 * MIB
    max_attempts: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @classmethod
    def of(cls, url: str, s3: S3Settings) -> S3Location:
        """`s3://bucket[/prefix]`, reached as the `[s3]` settings say."""
        bucket, prefix = parse_s3_url(url)
        return cls(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=s3.endpoint_url or None,
            region=s3.region or None,
            concurrency=s3.concurrency,
            multipart_threshold=s3.multipart_threshold_mib * MIB,
            part_size=s3.part_size_mib * MIB,
            max_attempts=s3.max_attempts,
        )

    @property
    def url(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket[/prefix]` -> (bucket, prefix)."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket:
        raise SettingsError(f"{url}: expected an S3 destination of the form s3://bucket[/prefix]")
    return bucket, prefix.strip("/")


def is_s3_url(dest: str) -> bool:
    return dest.startswith("s3://")


def part_size_for(size: int, part_size: int) -> int:
    """The part size used for an object of `size` bytes: grown so it needs ≤ 10,000 parts."""
    return max(part_size, math.ceil(size / MAX_PARTS))


def s3_etags(payload: Payload, multipart_threshold: int, part_size: int) -> Etags:
    """Size plus the etags S3 reports: MD5 of the whole (single PUT or server-side copy) and, for
    multipart uploads, MD5 of the parts' MD5 digests with `-<parts>` appended."""
    if isinstance(payload, bytes):
        return md5_etags(payload)
    size = payload.stat().st_size
    whole = hashlib.md5(usedforsecurity=False)
    if size < multipart_threshold:
        with payload.open("rb") as fh:
            while chunk := fh.read(MIB):
                whole.update(chunk)
        return Etags(size, frozenset({whole.hexdigest()}))
    part = part_size_for(size, part_size)
    digests = []
    with payload.open("rb") as fh:
        while data := fh.read(part):
            whole.update(data)
            digests.append(hashlib.md5(data, usedforsecurity=False).digest())
    of_parts = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    multipart = f"{of_parts}-{len(digests)}"
    return Etags(size, frozenset({whole.hexdigest(), multipart}))


def _add_content_md5(request: Any, **_: Any) -> None:
    """DeleteObjects: Swift's s3api (and older S3 servers) refuse it without Content-MD5."""
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    request.headers["Content-MD5"] = base64.b64encode(digest).decode()


_LOADER_LOCK = threading.Lock()
_LOADER = botocore.loaders.create_loader()
# Timestamps (a listing's LastModified, every key's) stay text: nothing here reads them, and
# botocore's default parses each with dateutil, two thirds of the client's time on a listing.
_PARSERS = botocore.parsers.ResponseParserFactory()
_PARSERS.set_parser_defaults(timestamp_parser=str)


def make_client(location: S3Location) -> Any:
    config = Config(
        region_name=location.region,
        # Path-style for Swift. No SHA-256 of every body for the signature: content integrity is
        # checked instead against the MD5 etags of a listing before anything is promoted.
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        retries={"mode": "standard", "max_attempts": location.max_attempts},
        connect_timeout=location.connect_timeout,
        read_timeout=location.read_timeout,
        # Parts run in a second pool beside whole objects: room for both.
        max_pool_connections=2 * location.concurrency + 2,
        # Flexible checksums only where the API demands them: S3-compatible servers (Swift 2.x)
        # predate them, and every upload is verified against the listing's etags anyway.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A fresh session resolves credentials through the standard chain each time; the shared
    # loader keeps the parsed service model, so a client costs ~15 ms instead of ~150 ms.
    with _LOADER_LOCK:  # the loader's cache is not meant for concurrent first use
        botocore_session = botocore.session.get_session()
        botocore_session.register_component("data_loader", _LOADER)
        botocore_session.register_component("response_parser_factory", _PARSERS)
        session = boto3.session.Session(botocore_session=botocore_session)
        client = session.client("s3", endpoint_url=location.endpoint_url, config=config)
    client.meta.events.register("before-sign.s3.DeleteObjects", _add_content_md5)
    return client


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in MISSING


class S3Bucket:
    """Objects under `s3://bucket/prefix/` on an S3-compatible endpoint."""

    def __init__(self, location: S3Location, client: Any | None = None):
        self.location = location
        self.name = location.bucket
        self.prefix = f"{location.prefix.strip('/')}/" if location.prefix.strip("/") else ""
        self.concurrency = location.concurrency
        self.etag_scheme = f"s3-md5:{location.multipart_threshold}:{location.part_size}"
        self.client = client or make_client(location)
        self._parts = ThreadPoolExecutor(location.concurrency, thread_name_prefix="s3-part")

    def describe(self) -> str:
        return self.location.url

    def _key(self, key: str) -> str:
        return self.prefix + key

    def setup(self) -> list[str]:
        done = []
        try:
            self.client.head_bucket(Bucket=self.name)
        except ClientError as exc:
            if not _is_missing(exc):
                raise
            options: dict[str, Any] = {}
            region = self.client.meta.region_name
            if region and region != "us-east-1":
                options["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.client.create_bucket(Bucket=self.name, **options)
            done.append(f"created bucket {self.name}")
        return done + open_to_readers(self.client, self.name)

    def list(self, prefix: str) -> dict[str, StoredObject]:
        found = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=self._key(prefix)
        )
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"].removeprefix(self.prefix)
                    found[key] = StoredObject(obj["Size"], obj["ETag"].strip('"'))
        except ClientError as exc:
            if _is_missing(exc):
                return {}
            raise
        return found

    def etags(self, payload: Payload) -> Etags:
        return s3_etags(payload, self.location.multipart_threshold, self.location.part_size)

    def put(self, key: str, payload: Payload) -> None:
        if isinstance(payload, bytes):
            self.client.put_object(
                Bucket=self.name, Key=self._key(key), Body=payload, ContentType=content_type(key)
            )
        elif payload.stat().st_size < self.location.multipart_threshold:
            with payload.open("rb") as body:
                self.client.put_object(
                    Bucket=self.name, Key=self._key(key), Body=body, ContentType=content_type(key)
                )
        else:
            self._put_multipart(key, payload)

    def _put_multipart(self, key: str, path: Path) -> None:
        size = path.stat().st_size
        part = part_size_for(size, self.location.part_size)

        def upload_part(target: dict[str, str], upload_id: str, number: int) -> str:
            with path.open("rb") as fh:
                fh.seek((number - 1) * part)
                data = fh.read(part)
            answer = self.client.upload_part(
                **target, UploadId=upload_id, PartNumber=number, Body=data
            )
            return answer["ETag"]

        self._multipart(key, math.ceil(size / part), upload_part)

    def _multipart(
        self, key: str, parts: int, send_part: Callable[[dict[str, str], str, int], str]
    ) -> None:
        """A multipart upload of `parts` parts, each sent by `send_part(target, upload_id,
        number)` (which returns the part's ETag), concurrently; aborted on any failure."""
        target = {"Bucket": self.name, "Key": self._key(key)}
        upload_id = self.client.create_multipart_upload(**target, ContentType=content_type(key))[
            "UploadId"
        ]
        futures = []
        try:
            futures = [
                self._parts.submit(send_part, target, upload_id, n) for n in range(1, parts + 1)
            ]
            done = [{"PartNumber": n, "ETag": f.result()} for n, f in enumerate(futures, 1)]
            self.client.complete_multipart_upload(
                **target, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
        except BaseException:
            for future in futures:
                future.cancel()
            try:
                self.client.abort_multipart_upload(**target, UploadId=upload_id)
            except ClientError as exc:
                log.warning("s3: could not abort the multipart upload of %s: %s", key, exc)
            raise

    def copy(self, src_key: str, dest_key: str, size: int | None = None) -> None:
        """Server-side copy: CopyObject, or a multipart copy (UploadPartCopy, the same parts as an
        upload of `size` bytes would have) from the multipart threshold on."""
        source = {"Bucket": self.name, "Key": self._key(src_key)}
        if size is None:
            size = self.client.head_object(**source)["ContentLength"]
        if size < self.location.multipart_threshold:
            self.client.copy_object(
                Bucket=self.name,
                Key=self._key(dest_key),
                CopySource=source,
                ContentType=content_type(dest_key),
                MetadataDirective="REPLACE",
            )
            return
        part = part_size_for(size, self.location.part_size)
        self._multipart(
            dest_key,
            math.ceil(size / part),
            lambda target, upload_id, number: self.client.upload_part_copy(
                **target,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={(number - 1) * part}-{min(number * part, size) - 1}",
            )["CopyPartResult"]["ETag"],
        )

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = self.client.delete_objects(
                Bucket=self.name,
                Delete={"Objects": [{"Key": self._key(k)} for k in batch], "Quiet": True},
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"s3://{self.name}/{first.get('Key')}: delete failed: "
                    f"{first.get('Code')} {first.get('Message')} ({len(errors)} object(s))"
                )

    def get_bytes(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.name, Key=self._key(key))
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise
        return answer["Body"].read()

    def close(self) -> None:
        self._parts.shutdown(wait=False, cancel_futures=True)
