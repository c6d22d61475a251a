import os

import pytest

from mirror_assets.errors import VersionError
from mirror_assets.fetch.local import (
    VersionNotFoundError,
    fetch_local_version,
    list_local_versions,
)


def test_lists_bundled_versions_newest_first(sample_catalog):
    (sample_catalog / "not-a-version").mkdir()
    (sample_catalog / ".v2025-03-01").mkdir()
    assert list_local_versions(sample_catalog) == [".v2025-03-01", "v2025-02-28", "v2025-01-29"]


def test_fetch_copies_pairs_then_skips_unchanged_and_prunes_removed(sample_catalog, tmp_path):
    raw = tmp_path / "raw"
    report = fetch_local_version(sample_catalog, "v2025-02-28", raw)
    assert len(report.datastores) == 7
    assert len(report.transferred) == 15
    src = sample_catalog / "v2025-02-28"
    for relpath in report.transferred:
        assert (raw / relpath).read_bytes() == (src / relpath).read_bytes()
    again = fetch_local_version(sample_catalog, "v2025-02-28", raw)
    assert again.transferred == [] and len(again.skipped) == 15
    (src / "source" / "by473.json").unlink()
    (src / "source" / "notes.txt").write_text("x")
    os.utime(src / "metacatalog.parquet", (1, 1))
    third = fetch_local_version(sample_catalog, "v2025-02-28", raw)
    assert third.transferred == ["metacatalog.parquet"]
    assert [p.name for p in third.problems] == ["by473"]
    assert third.ignored == ["notes.txt"]
    assert not (raw / "source" / "by473.parquet").exists()
    assert not list(raw.rglob(".*"))


def test_missing_version_and_missing_metacatalog(sample_catalog, tmp_path):
    with pytest.raises(VersionNotFoundError, match="v2031-01-01: catalog version not found"):
        fetch_local_version(sample_catalog, "v2031-01-01", tmp_path)
    (sample_catalog / "v2025-02-28" / "metacatalog.parquet").unlink()
    with pytest.raises(VersionError, match="metacatalog.parquet: metacatalog.parquet not found"):
        fetch_local_version(sample_catalog, "v2025-02-28", tmp_path)
