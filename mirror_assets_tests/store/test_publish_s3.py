"""The publish layout on real S3 servers over HTTP: moto's server and Swift's s3api.

Every test runs on both (`s3_target` is parametrised); requests go through a proxy that records
them and can answer with 5xx or throttling.
"""

from __future__ import annotations

import json

import pytest

from mirror_assets.errors import MirrorError
from mirror_assets.store.publish import PublishError, publish_version, read_versions_index
from mirror_assets.store.s3 import MIB
from mirror_assets_tests.builds import BASE, make_build

pytestmark = pytest.mark.slow

V1, V2 = "v2025-01-01", "v2025-02-01"


def publish(bucket, build, version, names, **options):
    """Without reuse across versions unless asked, so every object of a build is uploaded."""
    options.setdefault("reuse", False)
    return publish_version(bucket, build, version, sorted(names), BASE, rows=10, **options)


def root_listing(target):
    return {k: v for k, v in target.listing().items() if not k.startswith("versions/")}


def writes(proxy):
    """Requests that would change the bucket."""
    return [(m, p) for m, p in proxy.requests if m in ("PUT", "POST", "DELETE")]


def test_first_publish_archives_promotes_and_types(tmp_path, s3_target):
    build = make_build(
        tmp_path / "b1", {"a": ["realm=ocean", "realm=atmos"], "b": ["x=1"]}, big={"a": 11 * MIB}
    )
    report = publish(s3_target.bucket(), build, V1, ["a", "b"])
    assert report.promoted and report.current == V1
    big = "source/a.parquet/big=1/data_0.parquet"
    assert sorted(root_listing(s3_target)) == sorted(
        [
            "metacatalog.parquet",
            "versions.json",
            big,
            "source/a.parquet/realm=atmos/data_0.parquet",
            "source/a.parquet/realm=ocean/data_0.parquet",
            "source/b.parquet/x=1/data_0.parquet",
        ]
        + [f"source/{n}{s}" for n in "ab" for s in (".json", "_uniqs.parquet", "_metadata.json")]
    )
    # The big file went up in parts (S3's multipart ETag), byte for byte.
    archived = s3_target.listing(f"versions/{V1}/{big}")[f"versions/{V1}/{big}"]
    assert archived[1].strip('"').endswith("-3")
    assert s3_target.read(big) == (build / big).read_bytes()
    spec = json.loads(s3_target.read(f"versions/{V1}/source/a.json"))
    assert spec["catalog_file"] == f"{BASE}/versions/{V1}/source/a.parquet/"
    root_spec = json.loads(s3_target.read("source/a.json"))
    assert root_spec["catalog_file"] == f"{BASE}/source/a.parquet/"
    head = s3_target.client.head_object
    assert head(Bucket=s3_target.bucket_name, Key=big)["ContentType"] == (
        "application/vnd.apache.parquet"
    )
    assert head(Bucket=s3_target.bucket_name, Key="source/a.json")["ContentType"] == (
        "application/json"
    )


def test_versions_json_lists_every_version_and_the_current_one(tmp_path, s3_target):
    bucket = s3_target.bucket()
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1"]}), V1, ["a"])
    publish(bucket, make_build(tmp_path / "h", {"a": ["p=1"]}), ".v2025-03-01", ["a"])
    publish(bucket, make_build(tmp_path / "b2", {"a": ["p=1"], "b": ["p=2"]}), V2, ["a", "b"])
    index = json.loads(s3_target.read("versions.json"))
    assert index == read_versions_index(bucket)
    assert index["current"] == V2
    assert [(v["version"], v["hidden"], v["datastores"]) for v in index["versions"]] == [
        (".v2025-03-01", True, 1),
        (V2, False, 2),
        (V1, False, 1),
    ]
    sizes = {k: size for k, (size, _) in s3_target.listing(f"versions/{V2}/").items()}
    # The catalog's objects: the manifest that records them is not counted.
    del sizes[f"versions/{V2}/manifest.json"]
    assert index["versions"][1]["bytes"] == sum(sizes.values())
    assert index["versions"][1]["rows"] == 10
    assert all(v["published"].endswith("+00:00") for v in index["versions"])


def test_unchanged_republish_sends_nothing_but_listings(tmp_path, s3_target):
    build = make_build(tmp_path / "b1", {"a": ["realm=ocean"]}, big={"a": 11 * MIB})
    publish(s3_target.bucket(), build, V1, ["a"])
    before = s3_target.listing()
    s3_target.proxy.clear()
    again = publish(s3_target.bucket(), build, V1, ["a"])
    assert again.uploaded == [] and again.root_written == [] and again.root_deleted == []
    assert again.unchanged == 6
    # Setup (ACL, CORS) aside: no object written, and no per-object HEAD.
    setup = {"acl", "cors"}
    sent = [(m, p) for m, p in s3_target.proxy.requests if p.split("?")[-1] not in setup]
    assert [m for m, _ in sent if m != "GET"] == ["HEAD"]  # the bucket's HEAD only
    assert sum(1 for m, p in sent if m == "GET" and "list-type=2" in p) == 3
    assert s3_target.listing() == before


def test_changed_datastore_reuploads_only_its_objects(tmp_path, s3_target):
    bucket = s3_target.bucket()
    publish(
        bucket, make_build(tmp_path / "b1", {"a": ["p=1"], "b": ["p=1", "p=2"]}), V1, ["a", "b"]
    )
    rebuilt = make_build(tmp_path / "b1", {"a": ["p=1"], "b": ["p=1", "p=2"]})
    (rebuilt / "source/b.parquet/p=2/data_0.parquet").write_text("b p=2 fixed")
    (rebuilt / "source/b_uniqs.parquet").write_text("uniqs b fixed")
    report = publish(bucket, rebuilt, V1, ["a", "b"])
    assert report.uploaded == [
        f"versions/{V1}/source/b.parquet/p=2/data_0.parquet",
        f"versions/{V1}/source/b_uniqs.parquet",
    ]
    assert report.root_written == ["source/b.parquet/p=2/data_0.parquet", "source/b_uniqs.parquet"]
    assert s3_target.read("source/b_uniqs.parquet") == b"uniqs b fixed"


def test_vanished_partition_folder_is_gone_from_the_root(tmp_path, s3_target):
    bucket = s3_target.bucket()
    publish(
        bucket, make_build(tmp_path / "b1", {"a": ["r=atmos", "r=ocean"], "b": ["x=1"]}), V1, "ab"
    )
    report = publish(bucket, make_build(tmp_path / "b2", {"a": ["r=ocean"]}, marker="2"), V2, "a")
    assert report.promoted
    root = root_listing(s3_target)
    assert "source/a.parquet/r=atmos/data_0.parquet" not in root
    assert not any(k.startswith("source/b") for k in root)
    assert s3_target.read("metacatalog.parquet").startswith(b"meta 2")
    # The older version stays whole in its archive.
    assert f"versions/{V1}/source/a.parquet/r=atmos/data_0.parquet" in s3_target.listing()


def test_backfilling_an_older_version_leaves_the_root_alone(tmp_path, s3_target):
    bucket = s3_target.bucket()
    publish(bucket, make_build(tmp_path / "new", {"a": ["p=1"]}, marker="new"), V2, ["a"])
    before = {k: v for k, v in root_listing(s3_target).items() if k != "versions.json"}
    report = publish(bucket, make_build(tmp_path / "old", {"z": ["p=1"]}, marker="old"), V1, "z")
    assert not report.promoted and report.current == V2
    assert {k: v for k, v in root_listing(s3_target).items() if k != "versions.json"} == before
    index = read_versions_index(bucket)
    assert [v["version"] for v in index["versions"]] == [V2, V1] and index["current"] == V2


def test_hidden_versions_are_archived_but_never_current(tmp_path, s3_target):
    bucket = s3_target.bucket()
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1"]}), V1, ["a"])
    report = publish(
        bucket, make_build(tmp_path / "h", {"b": ["p=1"]}, marker="h"), ".v2025-09-09", "b"
    )
    assert not report.promoted and report.current == V1
    assert not any(k.startswith("source/b") for k in root_listing(s3_target))
    assert "versions/.v2025-09-09/source/b.json" in s3_target.listing()


class FailingAfter:
    """The real bucket, except that the upload after the first `n` raises."""

    def __init__(self, bucket, n):
        self.inner, self.n, self.calls = bucket, n, 0
        self.concurrency = bucket.concurrency

    def put(self, key, payload):
        self.calls += 1
        if self.calls > self.n and key.startswith("versions/"):
            raise RuntimeError("injected failure")
        self.inner.put(key, payload)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("after", [0, 3])
def test_exception_after_n_uploads_leaves_the_root_and_a_rerun_completes(
    tmp_path, s3_target, after
):
    bucket = s3_target.bucket(concurrency=2)
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1", "p=2"]}), V1, ["a"])
    before = root_listing(s3_target)
    build2 = make_build(tmp_path / "b2", {"a": ["p=1", "p=3"], "c": ["q=1"]}, marker="2")
    with pytest.raises(MirrorError, match="injected failure"):
        publish(FailingAfter(bucket, after), build2, V2, ["a", "c"])
    assert root_listing(s3_target) == before
    report = publish(bucket, build2, V2, ["a", "c"])
    assert report.promoted and read_versions_index(bucket)["current"] == V2
    assert len(report.uploaded) == 10 - after
    assert "source/c.parquet/q=1/data_0.parquet" in root_listing(s3_target)


def test_dry_run_reports_and_changes_nothing(tmp_path, s3_target):
    bucket = s3_target.bucket()
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1", "p=2"]}), V1, ["a"])
    before = s3_target.listing()
    s3_target.proxy.clear()
    build2 = make_build(tmp_path / "b2", {"a": ["p=1"], "c": ["q=1"]}, marker="2")
    report = publish(bucket, build2, V2, ["a", "c"], dry_run=True)
    assert writes(s3_target.proxy) == [] and s3_target.listing() == before
    assert report.dry_run and not report.promoted and report.current == V2
    assert len(report.uploaded) == 9
    assert (
        "copy versions/v2025-02-01/metacatalog.parquet -> metacatalog.parquet" in report.actions()
    )
    assert report.root_deleted == ["source/a.parquet/p=2/data_0.parquet"]
    assert report.actions()[-1] == "delete source/a.parquet/p=2/data_0.parquet"
    # A dry run on a bucket that does not exist yet reads nothing and fails on nothing.
    empty = s3_target.bucket(bucket="never-created-" + s3_target.bucket_name[-8:])
    fresh = publish(empty, build2, V2, ["a", "c"], dry_run=True)
    assert len(fresh.uploaded) == 9 and fresh.root_deleted == []


def test_throttling_and_5xx_are_retried(tmp_path, s3_target):
    bucket = s3_target.bucket(concurrency=4)
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1"]}), V1, ["a"])
    proxy = s3_target.proxy
    throttled = proxy.inject(503, "SlowDown", method="PUT", times=3)
    failing = proxy.inject(500, "InternalError", method="PUT", path_contains="metacatalog", times=2)
    listing = proxy.inject(
        503, "ServiceUnavailable", method="GET", path_contains="list-type", times=1
    )
    report = publish(bucket, make_build(tmp_path / "b2", {"a": ["p=2"]}, marker="2"), V2, ["a"])
    assert report.promoted and read_versions_index(bucket)["current"] == V2
    assert (throttled.injected, failing.injected, listing.injected) == (3, 2, 1)
    assert s3_target.read("source/a.parquet/p=2/data_0.parquet") == b"a p=2 2"


def test_timeouts_are_retried(tmp_path, s3_target):
    bucket = s3_target.bucket(concurrency=4, read_timeout=1.0)
    slow = s3_target.proxy.inject(method="PUT", path_contains="metacatalog", times=1, delay=2.5)
    report = publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1"]}), V1, ["a"])
    assert report.promoted and slow.injected == 1
    assert (
        s3_target.read("metacatalog.parquet") == (tmp_path / "b1/metacatalog.parquet").read_bytes()
    )


def test_persistent_failure_leaves_the_root_as_it_was(tmp_path, s3_target):
    bucket = s3_target.bucket(max_attempts=2)
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1"]}), V1, ["a"])
    before = root_listing(s3_target)
    s3_target.proxy.inject(503, "SlowDown", method="PUT", path_contains=f"/versions/{V2}/source/a_")
    with pytest.raises(MirrorError, match="SlowDown"):
        publish(bucket, make_build(tmp_path / "b2", {"a": ["p=2"]}, marker="2"), V2, ["a"])
    assert root_listing(s3_target) == before
    assert read_versions_index(bucket)["current"] == V1


def test_verification_catches_an_object_changed_behind_our_back(tmp_path, s3_target):
    """Uploads are checked against a fresh listing before anything is promoted."""

    class Tampering(FailingAfter):
        def put(self, key, payload):
            self.inner.put(key, b"tampered" if key.endswith("a_uniqs.parquet") else payload)

    bucket = s3_target.bucket()
    with pytest.raises(PublishError, match="upload not verified"):
        publish(Tampering(bucket, 0), make_build(tmp_path / "b1", {"a": ["p=1"]}), V1, ["a"])
    assert root_listing(s3_target) == {}
