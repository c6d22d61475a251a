"""Reused builds copied into a version's archive before its publish: only objects missing there,
reported for the publish to take, deleted again when no publish takes them."""

import logging

import pytest

from mirror_assets.store.archived_builds import ArchivedBuilds, builds_to_reuse
from mirror_assets.store.bucket import LocalBucket
from mirror_assets.store.early_copies import EarlyCopies
from mirror_assets_tests.store.test_archived_builds import PRINTS, _archive

V1, V2 = "v2025-01-01", "v2025-02-01"


@pytest.fixture
def bucket(tmp_path):
    return LocalBucket(tmp_path / "dest")


def _early(bucket, names):
    return EarlyCopies(
        bucket, V2, lambda: builds_to_reuse(ArchivedBuilds(bucket, V2), names, lambda _: PRINTS)
    )


def test_missing_objects_are_copied_and_reported(bucket, caplog):
    _archive(bucket, V1, "a", folder=True)
    # Already in the version: left as it is, not reported as copied.
    bucket.put(f"versions/{V2}/source/a_uniqs.parquet", b"already here")

    with caplog.at_level(logging.INFO):
        copied = _early(bucket, ["a"]).take()

    data = "source/a.parquet/realm=atmos/data_0.parquet"
    assert copied == {f"versions/{V2}/{data}": f"versions/{V1}/{data}"}
    assert bucket.get_bytes(f"versions/{V2}/{data}") == bucket.get_bytes(f"versions/{V1}/{data}")
    assert bucket.get_bytes(f"versions/{V2}/source/a_uniqs.parquet") == b"already here"
    # The spec is this version's own: never copied.
    assert bucket.get_bytes(f"versions/{V2}/source/a.json") is None
    assert f"early copies: 1 object(s) of 1 reused datastore(s) copied into versions/{V2}/" in (
        caplog.text
    )


def test_discard_deletes_only_what_was_copied(bucket):
    _archive(bucket, V1, "a")
    bucket.put(f"versions/{V2}/source/a_uniqs.parquet", b"already here")

    _early(bucket, ["a"]).discard()

    assert sorted(bucket.list(f"versions/{V2}/")) == [f"versions/{V2}/source/a_uniqs.parquet"]
    assert sorted(bucket.list(f"versions/{V1}/")) == [
        f"versions/{V1}/{k}"
        for k in ("manifest.json", "source/a.json", "source/a.parquet", "source/a_uniqs.parquet")
    ]


def test_a_failure_to_find_builds_means_no_early_copies(bucket, caplog):
    def broken():
        raise OSError("archive unreadable")

    with caplog.at_level(logging.WARNING):
        assert EarlyCopies(bucket, V2, broken).take() == {}
    assert "early copies: not made (archive unreadable); the publish does them" in caplog.text
