import os

from mirror_assets.state.digests import (
    build_fingerprint,
    fingerprint,
    load_input_digests,
    record_input_digests,
)


def test_digests_are_reused_until_size_or_mtime_change(tmp_path):
    raw, status = tmp_path / "raw", tmp_path / "status"
    (raw / "source").mkdir(parents=True)
    (raw / "source" / "a.parquet").write_bytes(b"one")
    first = record_input_digests(raw, ["source/a.parquet"], status, keep_others=False)
    # Same size and mtime: the recorded digest is trusted (the file is not read again).
    stat = (raw / "source" / "a.parquet").stat()
    (raw / "source" / "a.parquet").write_bytes(b"two")
    os.utime(raw / "source" / "a.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert record_input_digests(raw, ["source/a.parquet"], status, keep_others=False) == first
    os.utime(raw / "source" / "a.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    changed = record_input_digests(raw, ["source/a.parquet"], status, keep_others=False)
    assert changed["source/a.parquet"].sha256 != first["source/a.parquet"].sha256
    assert load_input_digests(status) == changed


def test_limited_record_keeps_other_digests(tmp_path):
    raw, status = tmp_path / "raw", tmp_path / "status"
    raw.mkdir()
    (raw / "a").write_bytes(b"a")
    (raw / "b").write_bytes(b"b")
    record_input_digests(raw, ["a", "b"], status, keep_others=False)
    assert set(record_input_digests(raw, ["a"], status, keep_others=True)) == {"a", "b"}
    assert set(record_input_digests(raw, ["a"], status, keep_others=False)) == {"a"}


def test_fingerprint_changes_with_inputs_code_and_settings(tmp_path):
    base = fingerprint("partitioned", "1", ["d1"], {"row_group_size": 10000})
    assert base == fingerprint("partitioned", "1", ["d1"], {"row_group_size": 10000})
    assert base != fingerprint("partitioned", "2", ["d1"], {"row_group_size": 10000})
    assert base != fingerprint("partitioned", "1", ["d2"], {"row_group_size": 10000})
    assert base != fingerprint("partitioned", "1", ["d1"], {"row_group_size": 5000})
    assert base != fingerprint("sidecars", "1", ["d1"], {"row_group_size": 10000})


def test_input_fingerprint_needs_every_input_digested(tmp_path):
    raw, status = tmp_path / "raw", tmp_path / "status"
    raw.mkdir()
    (raw / "a").write_bytes(b"a")
    digests = record_input_digests(raw, ["a"], status, keep_others=False)
    assert build_fingerprint(digests, ["a"], "specs", "1", {})
    try:
        build_fingerprint(digests, ["missing"], "specs", "1", {})
    except KeyError:
        pass
    else:
        raise AssertionError("a missing digest must not yield a fingerprint")
