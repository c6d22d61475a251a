"""End to end: `mirror-catalog` (the Dagster job) and `mirror-catalog publish` on the sample
catalog, publishing to moto's S3 server over HTTP."""

from __future__ import annotations

import json
import uuid

import pytest

from mirror_assets_tests import cli_runner
from mirror_assets_tests.servers.fixtures import direct_client

pytestmark = pytest.mark.slow


def run_cli(*args, cwd, endpoint):
    """With the test server's credentials only: no AWS or OpenStack settings of the developer's."""
    return cli_runner.run_cli(*args, cwd=cwd, env=cli_runner.s3_cli_env(endpoint))


def keys(client, bucket, prefix=""):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def test_mirror_catalog_publishes_to_s3_then_publish_subcommand_promotes(tmp_path, moto_endpoint):
    bucket = f"catalog-{uuid.uuid4().hex[:8]}"
    dest = ["--dest", f"s3://{bucket}/mirror", "--endpoint-url", moto_endpoint.endpoint_url]
    client = direct_client(moto_endpoint)

    first = run_cli(
        "--catalog-version", "v2025-01-29", *dest, "--staging", "stage", cwd=tmp_path,
        endpoint=moto_endpoint,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    index = json.loads(client.get_object(Bucket=bucket, Key="mirror/versions.json")["Body"].read())
    assert index["current"] == "v2025-01-29"
    published = keys(client, bucket, "mirror/")
    assert "mirror/metacatalog.parquet" in published
    # 5 rows: one object, partition table or not (single_file_max_records).
    assert "mirror/source/cmip6_oi10.parquet" in published
    assert "mirror/versions/v2025-01-29/metacatalog.parquet" in published
    assert not (tmp_path / "mirror-output").exists()

    # Build the next version without publishing it to S3 (a local destination), then publish it.
    local = run_cli(
        "--catalog-version", "v2025-02-28", "--staging", "stage", "--dest", "local",
        cwd=tmp_path, endpoint=moto_endpoint,
    )  # fmt: skip
    assert local.returncode == 0, local.stderr
    before = keys(client, bucket)
    dry = run_cli(
        "publish", "--catalog-version", "v2025-02-28", "--staging", "stage", *dest, "--dry-run",
        cwd=tmp_path, endpoint=moto_endpoint,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert keys(client, bucket) == before
    lines = dry.stdout.splitlines()
    assert "would upload versions/v2025-02-28/metacatalog.parquet" in lines
    assert "would copy versions/v2025-02-28/metacatalog.parquet -> metacatalog.parquet" in lines
    assert "root would be promoted: True" in lines[-1]

    done = run_cli(
        "publish", "--catalog-version", "v2025-02-28", "--staging", "stage", *dest,
        cwd=tmp_path, endpoint=moto_endpoint,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    index = json.loads(client.get_object(Bucket=bucket, Key="mirror/versions.json")["Body"].read())
    assert index["current"] == "v2025-02-28"
    assert [v["version"] for v in index["versions"]] == ["v2025-02-28", "v2025-01-29"]
    spec = json.loads(
        client.get_object(Bucket=bucket, Key="mirror/source/cmip6_oi10.json")["Body"].read()
    )
    assert spec["catalog_file"].endswith("/source/cmip6_oi10.parquet")
    # The same root files as the local publish of that version, byte for byte.
    for path in (tmp_path / "local").rglob("*"):
        rel = path.relative_to(tmp_path / "local").as_posix()
        if path.is_file() and not rel.startswith("versions") and rel != "versions.json":
            body = client.get_object(Bucket=bucket, Key=f"mirror/{rel}")["Body"].read()
            assert body == path.read_bytes(), rel

    again = run_cli(
        "publish", "--catalog-version", "v2025-02-28", "--staging", "stage", *dest,
        cwd=tmp_path, endpoint=moto_endpoint,
    )  # fmt: skip
    assert again.returncode == 0 and " 0 objects uploaded" in again.stdout


def test_publish_subcommand_without_a_build_names_the_path(tmp_path, moto_endpoint):
    result = run_cli(
        "publish", "--catalog-version", "v2025-01-29", "--staging", "empty",
        "--dest", "s3://nothing", "--endpoint-url", moto_endpoint.endpoint_url,
        cwd=tmp_path, endpoint=moto_endpoint,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"{tmp_path}/empty/v2025-01-29/build/metacatalog.parquet" in result.stderr
    assert "no built version" in result.stderr
    bad = run_cli(
        "publish", "--catalog-version", "2025-01-29", cwd=tmp_path, endpoint=moto_endpoint
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
