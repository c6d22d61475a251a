"""The publish layout on the local-folder store (the S3 store is tested against real servers)."""

import json

import pytest

from mirror_assets.lib.bucket import LocalBucket
from mirror_assets.lib.publish import publish_version, read_versions_index
from mirror_assets_tests.builds import BASE, make_build


def publish(bucket, build, version, names):
    return publish_version(bucket, build, version, sorted(names), BASE, rows=len(names))


def root_keys(dest):
    return sorted(
        p.relative_to(dest).as_posix()
        for p in dest.rglob("*")
        if p.is_file() and not p.relative_to(dest).as_posix().startswith("versions/")
    )


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "dest"


def test_first_publish_archives_then_promotes(tmp_path, dest):
    build = make_build(tmp_path / "b1", {"a": ["realm=ocean", "realm=atmos"]})
    bucket = LocalBucket(dest)
    report = publish(bucket, build, "v2025-01-01", ["a"])
    assert report.promoted and report.current == "v2025-01-01"
    assert root_keys(dest) == [
        "metacatalog.parquet",
        "source/a.json",
        "source/a.parquet/realm=atmos/data_0.parquet",
        "source/a.parquet/realm=ocean/data_0.parquet",
        "source/a_metadata.json",
        "source/a_uniqs.parquet",
        "versions.json",
    ]
    archived = json.loads((dest / "versions/v2025-01-01/source/a.json").read_text())
    assert archived["catalog_file"] == f"{BASE}/versions/v2025-01-01/source/a.parquet"
    root_spec = json.loads((dest / "source/a.json").read_text())
    assert root_spec["catalog_file"] == f"{BASE}/source/a.parquet"
    index = read_versions_index(bucket)
    assert index["current"] == "v2025-01-01"
    assert [v["version"] for v in index["versions"]] == ["v2025-01-01"]
    assert index["versions"][0]["datastores"] == 1


def test_unchanged_republish_uploads_nothing(tmp_path, dest):
    build = make_build(tmp_path / "b1", {"a": ["realm=ocean"]})
    bucket = LocalBucket(dest)
    publish(bucket, build, "v2025-01-01", ["a"])
    again = publish(bucket, build, "v2025-01-01", ["a"])
    assert again.uploaded == [] and again.root_written == [] and again.root_deleted == []


def test_new_version_replaces_root_and_drops_vanished_partitions(tmp_path, dest):
    bucket = LocalBucket(dest)
    publish(
        bucket,
        make_build(tmp_path / "b1", {"a": ["realm=ocean", "realm=atmos"], "b": ["x=1"]}),
        "v2025-01-01",
        ["a", "b"],
    )
    build2 = make_build(tmp_path / "b2", {"a": ["realm=ocean"], "c": ["x=1"]}, marker="2")
    report = publish(bucket, build2, "v2025-02-01", ["a", "c"])
    assert report.promoted
    keys = root_keys(dest)
    assert "source/a.parquet/realm=atmos/data_0.parquet" not in keys
    assert not any(k.startswith("source/b") for k in keys)
    assert "source/c.parquet/x=1/data_0.parquet" in keys
    # The old version stays archived, whole.
    assert (dest / "versions/v2025-01-01/source/a.parquet/realm=atmos/data_0.parquet").is_file()
    assert (dest / "metacatalog.parquet").read_text().startswith("meta 2")


def test_backfilling_an_older_version_leaves_the_root_alone(tmp_path, dest):
    bucket = LocalBucket(dest)
    publish(
        bucket, make_build(tmp_path / "new", {"a": ["p=1"]}, marker="new"), "v2025-02-01", ["a"]
    )
    before = {k: (dest / k).read_bytes() for k in root_keys(dest) if k != "versions.json"}
    report = publish(
        bucket, make_build(tmp_path / "old", {"z": ["p=1"]}, marker="old"), "v2024-01-01", ["z"]
    )
    assert not report.promoted and report.current == "v2025-02-01"
    assert {k: (dest / k).read_bytes() for k in root_keys(dest) if k != "versions.json"} == before
    index = read_versions_index(bucket)
    assert [v["version"] for v in index["versions"]] == ["v2025-02-01", "v2024-01-01"]
    assert index["current"] == "v2025-02-01"


def test_hidden_versions_are_archived_but_never_current(tmp_path, dest):
    bucket = LocalBucket(dest)
    report = publish(bucket, make_build(tmp_path / "h", {"a": ["p=1"]}), ".v2025-03-01", ["a"])
    assert not report.promoted and report.current is None
    assert root_keys(dest) == ["versions.json"]
    assert read_versions_index(bucket)["versions"][0]["hidden"] is True


def test_datastore_left_out_is_not_published(tmp_path, dest):
    build = make_build(tmp_path / "b", {"a": ["p=1"], "broken": ["p=1"]})
    publish(LocalBucket(dest), build, "v2025-01-01", ["a"])
    assert not any("broken" in k for k in root_keys(dest))
    assert not any("broken" in p.name for p in (dest / "versions").rglob("*"))
