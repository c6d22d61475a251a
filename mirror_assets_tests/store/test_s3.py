"""S3Bucket against real servers: ETags computed locally, reader access, Swift's differences."""

from __future__ import annotations

import logging
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from mirror_assets.config.settings import SettingsError
from mirror_assets.store.access import CORS_RULE, SWIFT_CORS_HEADERS
from mirror_assets.store.publish import publish_version
from mirror_assets.store.s3 import MIB, S3Bucket, parse_s3_url, s3_etags
from mirror_assets_tests.builds import BASE, make_build
from mirror_assets_tests.servers.fixtures import S3Target, direct_client, use_credentials
from mirror_assets_tests.servers.moto_s3 import S3Endpoint

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://catalog", ("catalog", "")),
        ("s3://catalog/", ("catalog", "")),
        ("s3://catalog/mirror/test/", ("catalog", "mirror/test")),
    ],
)
def test_parse_s3_url(url, expected):
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "catalog/prefix"])
def test_parse_s3_url_rejects(url):
    with pytest.raises(SettingsError, match="s3://bucket"):
        parse_s3_url(url)


def test_local_etags_match_what_the_server_lists(tmp_path, s3_target):
    """Below the threshold a plain MD5; above it the multipart ETag for our part size; a server-side
    copy of a multipart object lists as either form, and both are recognised."""
    bucket = s3_target.bucket()
    bucket.setup()
    sizes = {"small": 1000, "edge": 6 * MIB - 1, "parts": 6 * MIB, "three": 11 * MIB}
    files = {}
    for name, size in sizes.items():
        files[name] = tmp_path / name
        files[name].write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    for name, path in files.items():
        bucket.put(f"k/{name}.parquet", path)
        bucket.copy(f"k/{name}.parquet", f"c/{name}.parquet")
    listed = bucket.list("")
    for name, path in files.items():
        printed = bucket.etags(path)
        assert printed == s3_etags(path, 6 * MIB, 5 * MIB)
        assert printed.matches(listed[f"k/{name}.parquet"]), name
        assert printed.matches(listed[f"c/{name}.parquet"]), name
    assert listed["k/three.parquet"].etag.endswith("-3")
    assert listed["k/parts.parquet"].etag.endswith("-2")
    assert "-" not in listed["k/edge.parquet"].etag
    assert s3_target.read("c/three.parquet") == files["three"].read_bytes()


def test_prefix_keeps_the_layout_below_it(tmp_path, s3_target):
    bucket = s3_target.bucket(prefix="mirror/test/")
    publish_version(
        bucket, make_build(tmp_path / "b", {"a": ["p=1"]}), "v2025-01-01", ["a"], BASE, 1
    )
    keys = set(s3_target.listing())
    assert "mirror/test/metacatalog.parquet" in keys
    assert "mirror/test/versions/v2025-01-01/source/a.json" in keys
    assert all(k.startswith("mirror/test/") for k in keys)
    assert "metacatalog.parquet" in bucket.list("")


def test_listing_leaves_timestamps_unparsed(s3_target):
    """A listing's LastModified stays text: nothing reads it, and parsing one per key was most of
    the client's time on a listing."""
    bucket = s3_target.bucket()
    bucket.setup()
    bucket.put("t/a.json", b"{}")
    assert bucket.list("t/")["t/a.json"].size == 2
    answer = bucket.client.list_objects_v2(Bucket=s3_target.bucket_name, Prefix="t/")
    assert isinstance(answer["Contents"][0]["LastModified"], str)


def test_delete_many_objects_in_batches(s3_target, monkeypatch):
    """DeleteObjects carries Content-MD5 (Swift refuses it otherwise) and batches keys."""
    monkeypatch.setattr("mirror_assets.store.s3.DELETE_BATCH", 3)
    bucket = s3_target.bucket()
    bucket.setup()
    for i in range(7):
        bucket.put(f"d/{i}.json", b"{}")
    bucket.put("keep.json", b"{}")
    bucket.delete([f"d/{i}.json" for i in range(7)])
    assert list(s3_target.listing()) == ["keep.json"]
    assert [m for m, p in s3_target.proxy.requests if "?delete" in p] == ["POST"] * 3


def test_setup_creates_the_bucket_public_read_with_cors_on_moto(moto_endpoint, monkeypatch):
    use_credentials(monkeypatch, moto_endpoint)
    target = S3Target(moto_endpoint, None, "mirror-setup", direct_client(moto_endpoint))
    bucket = S3Bucket(target.location())
    assert bucket.setup() == [
        "created bucket mirror-setup",
        "bucket ACL public-read",
        "bucket CORS rule",
    ]
    grants = target.client.get_bucket_acl(Bucket="mirror-setup")["Grants"]
    assert any(
        g["Grantee"].get("URI", "").endswith("/global/AllUsers") and g["Permission"] == "READ"
        for g in grants
    )
    assert target.client.get_bucket_cors(Bucket="mirror-setup")["CORSRules"] == [CORS_RULE]
    assert bucket.setup() == ["bucket ACL public-read", "bucket CORS rule"]


def test_credentials_never_appear_in_messages(tmp_path, s3_target, caplog):
    caplog.set_level(logging.DEBUG, logger="mirror_assets")
    bucket = s3_target.bucket()
    report = publish_version(
        bucket, make_build(tmp_path / "b", {"a": ["p=1"]}), "v2025-01-01", ["a"], BASE, 1
    )
    secret = s3_target.endpoint.secret_key
    shown = caplog.text + bucket.describe() + repr(report) + repr(bucket.location)
    assert secret not in shown and s3_target.endpoint.access_key not in shown


# --- Swift only: what a browser sees through the Swift URL --------------------------------------


@pytest.fixture
def swift_target(swift_cluster, monkeypatch):
    endpoint = S3Endpoint(
        swift_cluster.endpoint_url, swift_cluster.access_key, swift_cluster.secret_key
    )
    use_credentials(monkeypatch, endpoint)
    return S3Target(endpoint, None, f"mirror-{uuid.uuid4().hex[:12]}", direct_client(endpoint))


def test_swift_anonymous_range_get_with_cors(tmp_path, swift_cluster, swift_target, monkeypatch):
    monkeypatch.setenv("OS_STORAGE_URL", swift_cluster.storage_url)
    monkeypatch.setenv("OS_AUTH_TOKEN", swift_cluster.auth_token())
    bucket = S3Bucket(swift_target.location())
    build = make_build(tmp_path / "b", {"a": ["p=1"]}, big={"a": 300})
    report = publish_version(bucket, build, "v2025-01-01", ["a"], BASE, 1)
    assert report.setup[-1] == "container CORS metadata (Swift API)"

    key = "source/a.parquet/big=1/data_0.parquet"
    url = f"{swift_cluster.storage_url}/{swift_target.bucket_name}/{key}"
    origin = "https://catalog.example"
    request = urllib.request.Request(url, headers={"Range": "bytes=0-99", "Origin": origin})
    with urllib.request.urlopen(request, timeout=10) as response:  # no token: anonymous
        assert response.status == 206
        assert response.read() == (build / key).read_bytes()[:100]
        assert response.headers["Content-Range"] == "bytes 0-99/300"
        assert response.headers["Access-Control-Allow-Origin"] in ("*", origin)
        exposed = {
            h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")
        }
        assert {"content-range", "accept-ranges", "content-length"} <= exposed

    preflight = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range",
        },
    )
    with urllib.request.urlopen(preflight, timeout=10) as response:
        assert response.status == 200
        assert "range" in response.headers["Access-Control-Allow-Headers"].lower()

    # The metacatalog at the root is readable the same way.
    with urllib.request.urlopen(
        f"{swift_cluster.storage_url}/{swift_target.bucket_name}/metacatalog.parquet"
    ) as r:
        assert r.read() == (build / "metacatalog.parquet").read_bytes()


def test_swift_without_swift_api_warns_with_the_headers(
    tmp_path, swift_cluster, swift_target, caplog
):
    caplog.set_level(logging.WARNING, logger="mirror_assets")
    swift_target.bucket_name = "mirror-no-cors"
    bucket = S3Bucket(swift_target.location())
    assert bucket.setup() == ["created bucket mirror-no-cors", "bucket ACL public-read"]
    warnings = [r for r in caplog.records if "PutBucketCors" in r.getMessage()]
    assert len(warnings) == 1
    for header in SWIFT_CORS_HEADERS:
        assert header in warnings[0].getMessage()
    # Public anyway: anonymous reads work, CORS does not until the headers are set.
    bucket.put("x.json", b"{}")
    request = urllib.request.Request(
        f"{swift_cluster.storage_url}/mirror-no-cors/x.json",
        headers={"Origin": "https://a.example"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"{}"
        assert "Access-Control-Allow-Origin" not in response.headers


def test_swift_refuses_delete_objects_without_content_md5(swift_cluster, swift_target):
    """Why the Content-MD5 hook exists: a client without it is refused by Swift's s3api."""
    bucket = S3Bucket(swift_target.location())
    bucket.setup()
    bucket.put("gone.json", b"{}")
    plain = direct_client(swift_target.endpoint)
    with pytest.raises(Exception, match="Content-MD5"):
        plain.delete_objects(
            Bucket=swift_target.bucket_name, Delete={"Objects": [{"Key": "gone.json"}]}
        )
    bucket.delete(["gone.json"])
    assert bucket.list("") == {}


def test_swift_wrong_credentials_fail_without_echoing_them(
    swift_cluster, swift_target, monkeypatch
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "definitely-wrong-secret-value")
    bucket = S3Bucket(swift_target.location(max_attempts=1))
    with pytest.raises(ClientError) as raised:
        bucket.setup()
    assert "definitely-wrong-secret-value" not in str(raised.value)
    assert "definitely-wrong-secret-value" not in bucket.describe()
