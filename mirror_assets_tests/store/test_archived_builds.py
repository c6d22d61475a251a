"""Builds of archived versions a datastore is taken from: by both fingerprints, objects checked
against a listing, copies renamed to the datastore that takes them."""

import json
import logging

import duckdb
import pytest

from mirror_assets.state.outcomes import Outcome, save_outcomes
from mirror_assets.state.staging import VersionStaging
from mirror_assets.store.archived_builds import (
    ArchivedBuild,
    ArchivedBuilds,
    load_archived_builds,
    partitioned_from_archive,
    record_archived_builds,
    sidecars_from_archive,
    taken_from_archive,
)
from mirror_assets.store.bucket import LocalBucket, StoredObject, md5_etags
from mirror_assets.store.invariants import (
    built_layout_problems,
    rows_preserved,
    sidecars_match_rows,
)
from mirror_assets.store.manifest import ArchivedDatastore, Manifest

PRINTS = {"specs": "s1", "sidecars": "c1", "partitioned": "p1"}


def _put(bucket, key, data):
    bucket.put(key, data)
    printed = md5_etags(data)
    return StoredObject(printed.size, next(iter(printed.etags)))


def _archive(bucket, version, name, fingerprints=PRINTS, folder=False):
    """Archive datastore `name` of `version` with a manifest, as a publish would."""
    prefix = f"versions/{version}/"
    data = f"source/{name}.parquet" + ("/realm=atmos/data_0.parquet" if folder else "")
    objects = {
        key: _put(bucket, prefix + key, f"{version}:{key}".encode())
        for key in (f"source/{name}.json", f"source/{name}_uniqs.parquet", data)
    }
    entry = ArchivedDatastore(objects, rows=5, fingerprints=dict(fingerprints))
    bucket.put(prefix + "manifest.json", Manifest(version, {name: entry}).to_bytes())
    index = json.loads(bucket.get_bytes("versions.json") or b'{"versions": []}')
    index["versions"].append({"version": version, "hidden": False})
    bucket.put("versions.json", json.dumps(index).encode())


@pytest.fixture
def bucket(tmp_path):
    return LocalBucket(tmp_path / "dest")


def test_a_build_with_both_fingerprints_is_found_newest_first(bucket):
    _archive(bucket, "v2025-01-01", "a")
    _archive(bucket, "v2025-02-01", "a")
    _archive(bucket, "v2025-03-01", "a", {**PRINTS, "partitioned": "other"})

    found = ArchivedBuilds(bucket, "v2025-04-01").find("a", PRINTS)

    assert found is not None and found.version == "v2025-02-01"
    assert sorted(found.objects) == ["source/a.parquet", "source/a_uniqs.parquet"]
    assert ArchivedBuilds(bucket, "v2025-04-01").find("a", {**PRINTS, "sidecars": "x"}) is None


def test_this_versions_own_archive_is_not_a_donor(bucket):
    _archive(bucket, "v2025-01-01", "a")
    assert ArchivedBuilds(bucket, "v2025-01-01").find("a", PRINTS) is None


def test_an_object_with_another_etag_is_not_reused(bucket, caplog):
    _archive(bucket, "v2025-01-01", "a")
    bucket.put("versions/v2025-01-01/source/a_uniqs.parquet", b"changed")

    with caplog.at_level(logging.WARNING):
        found = ArchivedBuilds(bucket, "v2025-02-01").find("a", PRINTS)

    assert found is None
    assert "differs from its manifest" in caplog.text


def test_a_build_of_another_name_is_copied_under_this_name(bucket):
    _archive(bucket, "v2025-01-01", "old", folder=True)

    build = ArchivedBuilds(bucket, "v2025-02-01").find("new", PRINTS)

    assert build is not None and build.name == "old" and build.is_folder
    assert {k: src for k, (src, _) in build.copies_for("new").items()} == {
        "source/new.parquet/realm=atmos/data_0.parquet": (
            "versions/v2025-01-01/source/old.parquet/realm=atmos/data_0.parquet"
        ),
        "source/new_uniqs.parquet": "versions/v2025-01-01/source/old_uniqs.parquet",
    }


def test_the_stages_take_the_same_build_and_record_it(bucket, tmp_path):
    _archive(bucket, "v2025-01-01", "a")
    status = tmp_path / "status"
    found: dict[str, ArchivedBuild | None] = {}
    reuse = sidecars_from_archive(
        lambda: ArchivedBuilds(bucket, "v2025-02-01"), lambda name: PRINTS, found
    )

    sidecars = reuse("a", "c1")

    assert sidecars == Outcome(
        "a",
        True,
        {"rows": 5, "bytes": 28, "files": 1, "archived_in": "versions/v2025-01-01/"},
        fingerprint="c1",
        reused_from="v2025-01-01",
        from_archive=True,
    )
    save_outcomes(status, "sidecars", [sidecars])
    record_archived_builds(status, found)
    assert load_archived_builds(status) == found
    taken = taken_from_archive(status, ("sidecars",))
    assert partitioned_from_archive(taken)("a", "p1").from_archive
    assert partitioned_from_archive(taken)("b", "p1") is None
    with pytest.raises(Exception, match="another fingerprint"):
        partitioned_from_archive(taken)("a", "changed")
    record_archived_builds(status, {"a": None})
    assert load_archived_builds(status) == {}


def test_an_unreadable_archive_only_means_building(caplog):
    def unreachable():
        raise OSError("no route to host")

    reuse = sidecars_from_archive(unreachable, lambda name: PRINTS, {})
    with caplog.at_level(logging.WARNING):
        assert reuse("a", "c1") is None
    assert "archived versions not read" in caplog.text


def _taken(tmp_path, objects, rows=5):
    """A version whose datastore `a` was taken from an archived build of `old` with `objects`."""
    version = VersionStaging(tmp_path / "v2025-02-01")
    build = ArchivedBuild("v2025-01-01", "old", rows, PRINTS, objects)
    for stage in ("sidecars", "partitioned"):
        save_outcomes(version.status, stage, [build.outcome("a", stage)])
    record_archived_builds(version.status, {"a": build})
    version.raw_file("a", ".parquet").parent.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT range AS x FROM range(5)) TO '{version.raw_file('a', '.parquet')}'"
        )
    return version


HIVE = {"source/old.parquet/realm=atmos/data_0.parquet": StoredObject(1, "e")}


@pytest.mark.parametrize(
    ("objects", "partition_cols", "problem"),
    [
        (HIVE, ["realm"], None),
        (HIVE, ["realm", "table"], "partition folders realm=atmos, expected realm=.../table=..."),
        (HIVE, [], "expected a single parquet file"),
        ({"source/old.parquet": StoredObject(1, "e")}, [], None),
        ({"source/old.parquet": StoredObject(1, "e")}, ["realm"], "expected a hive-partitioned"),
    ],
)
def test_the_layout_of_a_build_taken_from_the_archive_is_checked_on_its_keys(
    tmp_path, objects, partition_cols, problem
):
    version = _taken(tmp_path, objects)
    problems = built_layout_problems(version, "a", partition_cols)
    if problem is None:
        assert problems == []
    else:
        [found] = problems
        assert found.startswith("versions/v2025-01-01/source/old.parquet") and problem in found


def test_rows_of_a_build_taken_from_the_archive_are_the_manifests(tmp_path):
    with duckdb.connect() as con:
        assert rows_preserved(con, _taken(tmp_path / "a", HIVE), ["a"]) == []
        assert sidecars_match_rows(con, _taken(tmp_path / "b", HIVE), ["a"]) == []
        [wrong] = rows_preserved(con, _taken(tmp_path / "c", HIVE, rows=4), ["a"])
    assert wrong == (
        "versions/v2025-01-01/source/old.parquet: 4 rows recorded in the manifest of "
        "v2025-01-01, source a.parquet has 5"
    )
