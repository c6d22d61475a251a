"""pytest fixtures for the S3 tests: moto and Swift over HTTP, a fault proxy, a fresh bucket each.

Credentials reach boto3 through the standard AWS chain (environment variables), as in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mirror_assets.store.s3 import MIB, S3Bucket, S3Location
from mirror_assets_tests.servers.fault_proxy import FaultProxy
from mirror_assets_tests.servers.moto_s3 import S3Endpoint, threaded_moto
from mirror_assets_tests.servers.swift_aio import SwiftAllInOne, missing_reason


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[S3Endpoint]:
    with threaded_moto() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def swift_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwiftAllInOne]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    swift = SwiftAllInOne(tmp_path_factory.mktemp("swift")).start()
    try:
        yield swift
    finally:
        swift.stop()


@pytest.fixture(params=["moto", "swift"])
def s3_endpoint(request: pytest.FixtureRequest) -> S3Endpoint:
    """Each S3 test runs against moto's server and against Swift's s3api."""
    if request.param == "moto":
        return request.getfixturevalue("moto_endpoint")
    swift: SwiftAllInOne = request.getfixturevalue("swift_cluster")
    return S3Endpoint(swift.endpoint_url, swift.access_key, swift.secret_key)


def use_credentials(monkeypatch: pytest.MonkeyPatch, endpoint: S3Endpoint) -> None:
    """Put the endpoint's keys in the environment, and nothing else from the caller's AWS setup."""
    for var in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_CA_BUNDLE",
        "OS_STORAGE_URL",
        "OS_AUTH_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", endpoint.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", endpoint.region)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class S3Target:
    """A fresh bucket on one server, reached through a fault proxy if any; `client` goes direct."""

    endpoint: S3Endpoint
    proxy: FaultProxy | None
    bucket_name: str
    client: Any

    def location(self, **options: Any) -> S3Location:
        settings = {
            "bucket": self.bucket_name,
            "endpoint_url": (self.proxy or self.endpoint).endpoint_url,
            "region": self.endpoint.region,
            "concurrency": 8,
            "multipart_threshold": 6 * MIB,
            "part_size": 5 * MIB,
            "max_attempts": 4,
            **options,
        }
        return S3Location(**settings)

    def bucket(self, **options: Any) -> S3Bucket:
        return S3Bucket(self.location(**options))

    def listing(self, prefix: str = "") -> dict[str, tuple[int, str]]:
        """Every object (key -> size, etag), read directly from the server."""
        found = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name, Prefix=prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                found[obj["Key"]] = (obj["Size"], obj["ETag"])
        return found

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket_name, Key=key)["Body"].read()


def direct_client(endpoint: S3Endpoint) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint.endpoint_url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


@pytest.fixture
def s3_target(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Target]:
    use_credentials(monkeypatch, s3_endpoint)
    port = int(s3_endpoint.endpoint_url.rsplit(":", 1)[1])
    proxy = FaultProxy(port).start()
    try:
        yield S3Target(
            s3_endpoint, proxy, f"mirror-{uuid.uuid4().hex[:12]}", direct_client(s3_endpoint)
        )
    finally:
        proxy.stop()
