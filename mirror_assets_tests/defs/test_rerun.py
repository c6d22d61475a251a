"""Re-running only what failed, skipping what did not change, and promoting partial versions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mirror_assets.config.settings import load_settings
from mirror_assets_tests.pipeline import (
    ALL_B,
    VERSION_B,
    metacatalog_names,
    metadata_of,
    published_datastores,
    run_job,
    settings_for,
    step_failures,
    table_rows,
    version_rows,
    versions_index,
)

STAGE_ASSETS = ["datastore_specs", "datastore_sidecars", "partitioned_datastores"]


@pytest.fixture
def paths(tmp_path, sample_catalog):
    return sample_catalog, tmp_path / "dest", tmp_path / "staging"


def _settings(paths, single_file_max_records=None, **partitions):
    # single_file_max_records=4 makes the sample's 5-row datastores in the table hive folders
    # (None: the shipped 5000).
    return settings_for(
        *paths, partitions=partitions or None, single_file_max_records=single_file_max_records
    )


def _unchanged(result, asset):
    return {n for n, row in table_rows(metadata_of(result, asset)).items() if row["unchanged"]}


def test_second_run_recomputes_nothing_and_says_so(paths):
    first = run_job(_settings(paths), VERSION_B)
    assert first.success
    assert all(metadata_of(first, a)["datastores_unchanged"] == 0 for a in STAGE_ASSETS)
    built = paths[2] / VERSION_B / "build" / "source" / "by473.parquet"
    mtime = built.stat().st_mtime_ns

    second = run_job(_settings(paths), VERSION_B)

    assert second.success
    for asset in STAGE_ASSETS:
        assert metadata_of(second, asset)["datastores_unchanged"] == 7, asset
        assert _unchanged(second, asset) == set(ALL_B)
    assert built.stat().st_mtime_ns == mtime
    assert {r["partitioned"] for r in version_rows(second).values()} == {"unchanged"}
    assert metadata_of(second, "published_catalog")["objects_uploaded"] == 0


def test_changed_input_or_setting_recomputes_only_what_it_shapes(paths):
    catalog, dest, _ = paths
    assert run_job(_settings(paths), VERSION_B).success
    # One row fewer in by473's source: only by473 is rebuilt, in every stage.
    by473 = catalog / VERSION_B / "source" / "by473.parquet"
    table = pq.read_table(by473)
    pq.write_table(table.slice(0, table.num_rows - 1), by473)

    after_input = run_job(_settings(paths), VERSION_B)

    assert after_input.success
    for asset in STAGE_ASSETS[1:]:
        assert _unchanged(after_input, asset) == set(ALL_B) - {"by473"}, asset
    assert _unchanged(after_input, "datastore_specs") == set(ALL_B)
    assert json.loads((dest / "source" / "by473_metadata.json").read_text())["num_records"] == 6

    # A lower single_file_max_records reshapes every datastore's output (the 5-row ones in the
    # partition table become hive folders), and their specs follow.
    after_threshold = run_job(_settings(paths, single_file_max_records=4), VERSION_B)

    assert after_threshold.success
    assert _unchanged(after_threshold, "partitioned_datastores") == set()
    assert _unchanged(after_threshold, "datastore_sidecars") == set(ALL_B)
    assert _unchanged(after_threshold, "datastore_specs") == {"by473", "esmvaltool-obs-ct11"}
    assert (dest / "source" / "cmip6_oi10.parquet" / "realm=ocean").is_dir()

    # A new partition table entry reshapes one datastore's output, and only that one.
    after_setting = run_job(_settings(paths, 4, cmip6_oi10=["realm"]), VERSION_B)

    assert after_setting.success
    assert _unchanged(after_setting, "partitioned_datastores") == set(ALL_B) - {"cmip6_oi10"}
    assert _unchanged(after_setting, "datastore_sidecars") == set(ALL_B)
    assert (dest / "source" / "cmip6_oi10.parquet" / "realm=ocean").is_dir()
    folders = {p.relative_to(dest).as_posix() for p in (dest / "source").rglob("table_id=*")}
    assert not folders


def test_datastore_that_becomes_partitioned_can_be_republished(paths):
    dest = paths[1]
    assert run_job(_settings(paths), VERSION_B).success
    assert run_job(_settings(paths, 4, by473=["realm"]), VERSION_B).success
    assert (dest / "source" / "by473.parquet").is_dir()
    spec = json.loads((dest / "source" / "by473.json").read_text())
    assert spec["catalog_file"].endswith("/source/by473.parquet/")


def test_rerun_of_named_datastores_keeps_the_others_and_completes_the_version(paths):
    catalog, dest, staging = paths
    source = catalog / VERSION_B / "source"
    good_spec = (source / "by473.json").read_bytes()
    (source / "by473.json").write_text("{broken")

    first = run_job(_settings(paths), VERSION_B)

    assert first.success
    assert version_rows(first)["by473"]["failed_stage"] == "specs"
    assert versions_index(dest)["current"] is None
    assert "by473" not in metacatalog_names(dest / "versions" / VERSION_B / "metacatalog.parquet")

    (source / "by473.json").write_bytes(good_spec)
    # Something else changes at the source too: a limited run must not pick it up.
    (source / "era5_rt52.json").write_text("{also broken")
    rerun = run_job(_settings(paths), VERSION_B, datastores=["by473"])

    assert rerun.success
    raw = metadata_of(rerun, "raw_catalog")
    assert raw["datastores_selected"] == "by473"
    assert raw["datastores_this_run"] == 1
    specs = metadata_of(rerun, "datastore_specs")
    assert specs["datastores_this_run"] == 1 and specs["datastores_ok"] == 7
    # Earlier results of the others are kept, not recomputed, not lost.
    assert set(table_rows(metadata_of(rerun, "partitioned_datastores"))) == set(ALL_B)
    assert all(r["status"] == "ok" for r in version_rows(rerun).values())
    assert versions_index(dest)["current"] == VERSION_B
    assert published_datastores(dest) == ALL_B
    assert metacatalog_names(dest / "metacatalog.parquet") == ALL_B
    assert json.loads((dest / "source" / "era5_rt52.json").read_text())["catalog_file"].endswith(
        "source/era5_rt52.parquet"
    )
    recorded = json.loads((staging / VERSION_B / "status" / "specs.json").read_text())
    assert sorted(o["name"] for o in recorded) == ALL_B


def test_unknown_named_datastore_fails_the_run_before_anything_changes(paths):
    dest, staging = paths[1], paths[2]
    assert run_job(_settings(paths), VERSION_B).success
    recorded = (staging / VERSION_B / "status" / "fetch.json").read_bytes()
    index = (dest / "versions.json").read_bytes()

    result = run_job(_settings(paths), VERSION_B, datastores=["by473", "no_such_store"])

    assert not result.success
    [message] = step_failures(result).values()
    assert "no_such_store: not found at the source" in message
    assert (staging / VERSION_B / "status" / "fetch.json").read_bytes() == recorded
    assert (dest / "versions.json").read_bytes() == index


@pytest.mark.parametrize("via", ["run_config", "settings"])
def test_allow_partial_promotes_without_the_failed_datastore(paths, via, tmp_path):
    catalog, dest, _ = paths
    (catalog / VERSION_B / "source" / "by473.parquet").write_bytes(b"PAR1 not really")
    settings = _settings(paths)
    if via == "settings":
        config = tmp_path / "partial.toml"
        config.write_text("allow_partial = true\n")
        settings = load_settings(
            config,
            overrides={
                "source": str(catalog),
                "dest": str(dest),
                "staging": str(paths[2]),
                "public_base_url": settings.public_base_url,
            },
            environ={},
        )
        result = run_job(settings, VERSION_B)
    else:
        result = run_job(settings, VERSION_B, allow_partial=True)

    assert result.success
    published = metadata_of(result, "published_catalog")
    assert published["allow_partial"] is True and published["promoted"] is True
    healthy = [n for n in ALL_B if n != "by473"]
    assert versions_index(dest)["current"] == VERSION_B
    # The root's metacatalog never names a datastore the root lacks.
    assert metacatalog_names(dest / "metacatalog.parquet") == healthy
    assert published_datastores(dest) == healthy
    assert not Path(dest / "source" / "by473.parquet").exists()
