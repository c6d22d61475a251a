"""The run-scoped early copies: taken by the publish (again, the same, by a retried publish),
deleted at the run's end when no publish took them."""

import logging

from mirror_assets.defs.resources import RunEarlyCopies
from mirror_assets.store.archived_builds import ArchivedBuilds, builds_to_reuse
from mirror_assets.store.bucket import LocalBucket
from mirror_assets_tests.store.test_archived_builds import PRINTS, _archive

V1, V2, V3 = "v2025-01-01", "v2025-02-01", "v2025-03-01"
LOG = logging.getLogger(__name__)


def _start(run: RunEarlyCopies, bucket: LocalBucket, version: str) -> None:
    run.start(
        bucket,
        version,
        lambda: builds_to_reuse(ArchivedBuilds(bucket, version), ["a"], lambda _: PRINTS),
        LOG,
    )


def test_a_retried_publish_takes_the_same_copies_and_the_run_end_keeps_them(tmp_path):
    bucket = LocalBucket(tmp_path / "dest")
    _archive(bucket, V1, "a")
    run = RunEarlyCopies()
    _start(run, bucket, V2)

    taken = run.take(V2)
    assert taken == {
        f"versions/{V2}/source/{k}": f"versions/{V1}/source/{k}"
        for k in ("a.parquet", "a_uniqs.parquet")
    }
    assert run.take(V2) == taken
    run.discard_all()
    assert sorted(bucket.list(f"versions/{V2}/")) == sorted(taken)


def test_copies_no_publish_took_are_deleted_at_the_run_end(tmp_path):
    bucket = LocalBucket(tmp_path / "dest")
    _archive(bucket, V1, "a")
    run = RunEarlyCopies()
    _start(run, bucket, V3)

    run.discard_all()

    assert bucket.list(f"versions/{V3}/") == {}
    assert run.take(V3) == {}
