"""The job's destination for the tests in this folder: a folder, moto's S3 or Swift's s3api."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror_assets_tests.destinations import Store, local_store
from mirror_assets_tests.servers.moto_s3 import S3Endpoint


@pytest.fixture(params=["folder", "moto", "swift"])
def s3_endpoint(request: pytest.FixtureRequest) -> S3Endpoint | None:
    """Overrides the S3 tests' endpoint: a folder destination (None), moto, or Swift."""
    if request.param == "folder":
        return None
    if request.param == "moto":
        return request.getfixturevalue("moto_endpoint")
    swift = request.getfixturevalue("swift_cluster")
    return S3Endpoint(swift.endpoint_url, swift.access_key, swift.secret_key)


@pytest.fixture
def store(request: pytest.FixtureRequest, s3_endpoint, tmp_path: Path) -> Store:
    if s3_endpoint is None:
        return local_store(tmp_path / "dest")
    target = request.getfixturevalue("s3_target")
    return Store(
        f"s3://{target.bucket_name}",
        {"s3": {"endpoint_url": target.proxy.endpoint_url}},
        lambda: {k: etag for k, (_, etag) in target.listing().items()},
        target.read,
        lambda key, data: target.client.put_object(Bucket=target.bucket_name, Key=key, Body=data),
        target.proxy,
    )
