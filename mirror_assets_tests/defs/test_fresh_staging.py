"""The bucket is the record: a run on a new machine (empty staging folder) limited to some
datastores rebuilds those and keeps every other published object as it is, on a folder, moto's S3
and Swift's s3api alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirror_assets_tests.destinations import settings
from mirror_assets_tests.pipeline import (
    ALL_B,
    VERSION_B,
    metadata_of,
    run_job,
    version_rows,
)

pytestmark = pytest.mark.slow


def _owned_by(name: str, key: str) -> bool:
    rel = key.split("source/", 1)[-1]
    return rel.startswith(f"{name}.") or rel.startswith(f"{name}_")


def _without(listing: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in listing.items() if not _owned_by(name, k)}


def _catalog_objects(listing: dict[str, str]) -> dict[str, str]:
    """Every object but the records (versions.json, manifests)."""
    return {
        k: v for k, v in listing.items() if k != "versions.json" and not k.endswith("manifest.json")
    }


def _drop_pair(source: Path, version: str, name: str) -> None:
    for suffix in (".parquet", ".json"):
        (source / version / "source" / f"{name}{suffix}").unlink()


def test_fresh_staging_rebuilds_one_datastore_and_keeps_the_rest(tmp_path, sample_catalog, store):
    first = run_job(settings(sample_catalog, tmp_path / "machine-a", store), VERSION_B)
    assert first.success
    before = store.listing()
    names_before = store.metacatalog_names()
    manifest = store.json(f"versions/{VERSION_B}/manifest.json")
    assert sorted(manifest["datastores"]) == ALL_B
    archived = {k.removeprefix(f"versions/{VERSION_B}/") for k in store.listing("versions/")}
    for entry in manifest["datastores"].values():
        assert entry["state"] == "ok" and entry["rows"] > 0
        assert set(entry["objects"]) <= archived
        assert set(entry["inputs"]) and set(entry["fingerprints"]) == {
            "specs",
            "sidecars",
            "partitioned",
        }
        # What building it took, for a version that takes this build to report as not spent.
        assert set(entry["seconds"]) == {"sidecars", "partitioned"}
        assert all(s > 0 for s in entry["seconds"].values())

    # A new machine: an empty staging folder, one datastore.
    second = run_job(
        settings(sample_catalog, tmp_path / "machine-b", store), VERSION_B, datastores=["by473"]
    )

    assert second.success
    after = store.listing()
    assert after.keys() == before.keys()
    # by473 was built again, to the same objects: the records (manifest, versions.json) keep
    # their bytes, build seconds included.
    assert _without(after, "by473") == _without(before, "by473")
    assert store.metacatalog_names() == names_before
    published = metadata_of(second, "published_catalog")
    assert published["datastores_built"] == 1
    assert published["datastores_kept_as_archived"] == ", ".join(n for n in ALL_B if n != "by473")
    assert published["datastores_missing"] == ""
    rows = version_rows(second)
    assert rows["by473"]["publish"] == "ok"
    assert {rows[n]["publish"] for n in ALL_B if n != "by473"} == {"archived"}
    assert store.json("versions.json")["current"] == VERSION_B


def test_a_datastore_gone_from_the_source_leaves_the_version(tmp_path, sample_catalog, store):
    assert run_job(settings(sample_catalog, tmp_path / "a", store), VERSION_B).success
    _drop_pair(sample_catalog, VERSION_B, "cmip5_al33")

    rerun = run_job(settings(sample_catalog, tmp_path / "b", store), VERSION_B, ["by473"])

    assert rerun.success
    keys = store.listing()
    assert not [k for k in keys if _owned_by("cmip5_al33", k)]
    assert f"versions/{VERSION_B}/source/barpa_py18.json" in keys
    manifest = store.json(f"versions/{VERSION_B}/manifest.json")
    assert sorted(manifest["datastores"]) == [n for n in ALL_B if n != "cmip5_al33"]


def test_a_failed_rebuild_keeps_the_archived_build_and_is_reported(tmp_path, sample_catalog, store):
    assert run_job(settings(sample_catalog, tmp_path / "a", store), VERSION_B).success
    before = store.listing()
    (sample_catalog / VERSION_B / "source" / "by473.parquet").write_bytes(b"not parquet")

    rerun = run_job(settings(sample_catalog, tmp_path / "b", store), VERSION_B, ["by473"])

    assert _catalog_objects(store.listing()) == _catalog_objects(before)
    rows = version_rows(rerun)
    assert rows["by473"]["status"] == "failed"
    assert rows["by473"]["publish"] == "archived"
    by473 = store.json(f"versions/{VERSION_B}/manifest.json")["datastores"]["by473"]
    assert by473["state"] == "kept"
    assert "by473.parquet" in by473["cause"]
    assert store.metacatalog_names(f"versions/{VERSION_B}/").count("by473") == 1


def test_a_datastore_neither_built_nor_archived_is_missing(tmp_path, sample_catalog, store):
    # Nothing published yet: a run limited to one datastore cannot carry the others over.
    only = run_job(settings(sample_catalog, tmp_path / "a", store), VERSION_B, ["by473"])

    published = metadata_of(only, "published_catalog")
    assert published["datastores_missing"] == ", ".join(n for n in ALL_B if n != "by473")
    assert published["promoted"] is False
    names = store.metacatalog_names(f"versions/{VERSION_B}/")
    assert "by473" in names and "cmip5_al33" not in names
    assert "versions.json" in store.listing()
    assert store.json("versions.json")["current"] is None


def test_an_older_staging_folder_does_not_overwrite_what_another_machine_published(
    tmp_path, sample_catalog, store
):
    """Datastores a limited run does not select come from the archive, not from a staging
    folder's own copy, which may be older."""
    assert run_job(settings(sample_catalog, tmp_path / "a", store), VERSION_B).success
    spec = sample_catalog / VERSION_B / "source" / "by473.json"
    spec.write_text(json.dumps({**json.loads(spec.read_text()), "description": "rebuilt on b"}))
    assert run_job(settings(sample_catalog, tmp_path / "b", store), VERSION_B, ["by473"]).success

    rerun = run_job(settings(sample_catalog, tmp_path / "a", store), VERSION_B, ["cmip5_al33"])

    assert rerun.success
    assert version_rows(rerun)["by473"]["publish"] == "archived"
    for prefix in (f"versions/{VERSION_B}/", ""):
        assert store.json(f"{prefix}source/by473.json")["description"] == "rebuilt on b"
