"""The publish layout on the local-folder store (the S3 store is tested against real servers)."""

import json

import pytest

from mirror_assets.errors import MirrorError
from mirror_assets.store.bucket import LocalBucket
from mirror_assets.store.publish import publish_version, read_versions_index
from mirror_assets_tests.builds import BASE, make_build


def publish(bucket, build, version, names):
    """Without reuse across versions, so every object of a build is uploaded (tests of reuse:
    defs/test_reuse_across_versions.py)."""
    return publish_version(
        bucket, build, version, sorted(names), BASE, rows=len(names), reuse=False
    )


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
    # A hive folder's URL ends in / (polars reads a hive dataset only then).
    assert archived["catalog_file"] == f"{BASE}/versions/v2025-01-01/source/a.parquet/"
    root_spec = json.loads((dest / "source/a.json").read_text())
    assert root_spec["catalog_file"] == f"{BASE}/source/a.parquet/"
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


def tree_bytes(dest):
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}


def test_dry_run_lists_the_plan_and_changes_nothing(tmp_path, dest):
    bucket = LocalBucket(dest)
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1", "p=2"]}), "v2025-01-01", ["a"])
    before = tree_bytes(dest)
    build2 = make_build(tmp_path / "b2", {"a": ["p=1"], "c": ["q=1"]}, marker="2")
    report = publish_version(
        bucket, build2, "v2025-02-01", ["a", "c"], BASE, 2, dry_run=True, reuse=False
    )
    assert tree_bytes(dest) == before
    assert report.dry_run and not report.promoted and report.current == "v2025-02-01"
    copied = [
        "metacatalog.parquet",
        "source/a.parquet/p=1/data_0.parquet",
        "source/c.parquet/q=1/data_0.parquet",
        "source/c_metadata.json",
        "source/c_uniqs.parquet",
    ]
    assert report.actions() == (
        [f"upload versions/v2025-02-01/{k}" for k in sorted(version_keys(build2))]
        + ["upload source/c.json"]  # a.json at the root is unchanged
        + [f"copy versions/v2025-02-01/{k} -> {k}" for k in copied]
        + ["delete source/a.parquet/p=2/data_0.parquet"]
    )
    # Nothing there yet: a dry run on a missing folder creates nothing.
    fresh = publish_version(
        LocalBucket(tmp_path / "none"), build2, "v2025-02-01", ["a"], BASE, 1, dry_run=True
    )
    assert not (tmp_path / "none").exists() and fresh.current == "v2025-02-01"


def version_keys(build):
    return [p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()]


def test_failure_part_way_leaves_the_root_and_a_rerun_completes(tmp_path, dest):
    class Failing(LocalBucket):
        puts = 0

        def put(self, key, payload):
            Failing.puts += 1
            if Failing.puts > 2:
                raise OSError(28, "No space left on device")
            super().put(key, payload)

    publish(LocalBucket(dest), make_build(tmp_path / "b1", {"a": ["p=1"]}), "v2025-01-01", ["a"])
    before = tree_bytes(dest)
    build2 = make_build(tmp_path / "b2", {"a": ["p=2"]}, marker="2")
    with pytest.raises(MirrorError, match="upload failed: OSError"):
        publish(Failing(dest, concurrency=1), build2, "v2025-02-01", ["a"])
    after = tree_bytes(dest)
    assert {k: v for k, v in after.items() if not k.startswith("versions/v2025-02-01/")} == before
    report = publish(LocalBucket(dest), build2, "v2025-02-01", ["a"])
    assert report.promoted and len(report.uploaded) == 5 - 2
    assert (dest / "source/a.parquet/p=2/data_0.parquet").read_text() == "a p=2 2"
    assert not (dest / "source/a.parquet/p=1").exists()


def make_single_file_build(root, name, marker):
    """A build whose datastore `name` is one parquet file rather than a hive folder."""
    build = make_build(root, {name: []}, marker=marker)
    (build / "source" / f"{name}.parquet").write_text(f"{name} single {marker}")
    return build


def test_datastore_switching_between_file_and_hive_folder_is_promoted_both_ways(tmp_path, dest):
    bucket = LocalBucket(dest)

    def archived_url(version):
        spec = dest / "versions" / version / "source" / "a.json"
        return json.loads(spec.read_text())["catalog_file"]

    publish(bucket, make_single_file_build(tmp_path / "b1", "a", "1"), "v2025-01-01", ["a"])
    assert (dest / "source/a.parquet").read_text() == "a single 1"
    publish(bucket, make_build(tmp_path / "b2", {"a": ["p=1", "p=2"]}, "2"), "v2025-02-01", ["a"])
    assert sorted(p.name for p in (dest / "source/a.parquet").iterdir()) == ["p=1", "p=2"]
    publish(bucket, make_single_file_build(tmp_path / "b3", "a", "3"), "v2025-03-01", ["a"])
    assert (dest / "source/a.parquet").read_text() == "a single 3"
    assert read_versions_index(bucket)["current"] == "v2025-03-01"
    # Each archived spec follows its own build: a file's URL as it is, a folder's with a /.
    assert archived_url("v2025-01-01") == f"{BASE}/versions/v2025-01-01/source/a.parquet"
    assert archived_url("v2025-02-01") == f"{BASE}/versions/v2025-02-01/source/a.parquet/"
    assert archived_url("v2025-03-01") == f"{BASE}/versions/v2025-03-01/source/a.parquet"


def test_promotion_is_marked_until_it_completes(tmp_path, dest, monkeypatch):
    bucket = LocalBucket(dest)
    publish(bucket, make_build(tmp_path / "b1", {"a": ["p=1"]}, "1"), "v2025-01-01", ["a"])
    assert "promoting" not in read_versions_index(bucket)
    real_copy = bucket.copy

    def copy_then_fail(src, dest_key, size=None):
        if dest_key == "metacatalog.parquet":
            raise OSError("connection lost")
        real_copy(src, dest_key)

    monkeypatch.setattr(bucket, "copy", copy_then_fail)
    build2 = make_build(tmp_path / "b2", {"a": ["p=1"]}, "2")
    with pytest.raises(MirrorError):
        publish(bucket, build2, "v2025-02-01", ["a"])
    index = read_versions_index(bucket)
    assert (index["current"], index["promoting"]) == ("v2025-01-01", "v2025-02-01")
    monkeypatch.setattr(bucket, "copy", real_copy)
    report = publish(bucket, build2, "v2025-02-01", ["a"])
    assert report.uploaded == [] and report.root_written == ["metacatalog.parquet"]
    index = read_versions_index(bucket)
    assert index["current"] == "v2025-02-01" and "promoting" not in index
