import functools
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from mirror_assets.store.bucket import LocalBucket, md5_file


def test_a_local_put_links_the_built_file_instead_of_copying_it(tmp_path):
    built = tmp_path / "build" / "data_0.parquet"
    built.parent.mkdir()
    built.write_bytes(b"rows")
    bucket = LocalBucket(tmp_path / "dest")
    bucket.put("versions/v2025-02-28/source/x.parquet/data_0.parquet", built)
    bucket.copy(
        "versions/v2025-02-28/source/x.parquet/data_0.parquet", "source/x.parquet/data_0.parquet"
    )
    published = tmp_path / "dest" / "source" / "x.parquet" / "data_0.parquet"
    assert published.read_bytes() == b"rows"
    assert os.path.samefile(published, built)
    listed = bucket.list("source/")
    assert listed["source/x.parquet/data_0.parquet"].etag == hashlib.md5(b"rows").hexdigest()


def test_a_remembered_md5_follows_a_replaced_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"one")
    assert md5_file(path) == hashlib.md5(b"one").hexdigest()
    new = tmp_path / "f.new"
    new.write_bytes(b"two")
    os.replace(new, path)
    assert md5_file(path) == hashlib.md5(b"two").hexdigest()


def _concurrently(calls):
    """Run `calls` on as many threads, released together, so they interleave."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        call()

    with ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(run, call) for call in calls]:
            future.result()


def test_a_file_becoming_a_folder_takes_many_concurrent_puts(tmp_path):
    """A datastore turning from one file into a hive folder: every upload into the new folder
    first clears the old file, all at once on the publish thread pool."""
    built = tmp_path / "build"
    built.mkdir()
    parts = []
    for i in range(16):
        part = built / f"data_{i}.parquet"
        part.write_bytes(f"rows {i}".encode())
        parts.append(part)
    bucket = LocalBucket(tmp_path / "dest")
    for round in range(20):
        bucket.put("source/x.parquet", b"one file")
        _concurrently(
            [
                functools.partial(bucket.put, f"source/x.parquet/realm={i}/data_0.parquet", part)
                for i, part in enumerate(parts)
            ]
        )
        listed = bucket.list("source/")
        assert sorted(listed) == sorted(
            f"source/x.parquet/realm={i}/data_0.parquet" for i in range(16)
        ), round
        bucket.delete(sorted(listed))
        assert not (tmp_path / "dest" / "source").exists()


def test_deleting_a_folder_empty_takes_concurrent_puts_beside_it(tmp_path):
    """Deleting the last object of a folder removes the folder; a put into that folder at the
    same time still lands."""
    bucket = LocalBucket(tmp_path / "dest")
    for round in range(50):
        bucket.put("a/b/old.json", b"old")
        _concurrently(
            [functools.partial(bucket.delete, ["a/b/old.json"])]
            + [functools.partial(bucket.put, f"a/b/new_{i}.json", b"new") for i in range(7)]
        )
        assert sorted(bucket.list("a/")) == [f"a/b/new_{i}.json" for i in range(7)], round
        bucket.delete([f"a/b/new_{i}.json" for i in range(7)])
        assert not (tmp_path / "dest" / "a").exists()
