import hashlib
import os

from mirror_assets.lib.bucket import LocalBucket, md5_file


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
