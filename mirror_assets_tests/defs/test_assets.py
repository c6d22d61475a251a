"""Materialise every asset in-process for one partition, against local resources in tmp_path."""

import json

import dagster as dg
import pytest

from mirror_assets.config.settings import load_settings
from mirror_assets.definitions import build_resources
from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets_tests.pipeline import (
    BASE_URL,
    check_evaluations,
    run_job,
    settings_for,
    table_rows,
)

VERSION = "v2025-02-28"


@pytest.fixture
def resources(tmp_path, sample_catalog):
    settings = load_settings(
        overrides={
            "source": str(sample_catalog),
            "dest": str(tmp_path / "dest"),
            "staging": str(tmp_path / "staging"),
            "public_base_url": "https://objects.example/cat",
        },
        environ={},
    )
    return build_resources(settings)


def materialize(resources, version=VERSION):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(catalog_versions.name, [version])
    return dg.materialize(
        mirror_assets, partition_key=version, instance=instance, resources=resources
    )


def metadata_of(result, asset):
    [event] = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in event.metadata.items()}


def test_every_asset_materialises_with_per_datastore_metadata(tmp_path, resources):
    result = materialize(resources)
    assert result.success
    partitioned = metadata_of(result, "partitioned_datastores")
    assert partitioned["datastores_ok"] == 7 and partitioned["datastores_failed"] == 0
    table = {r.data["datastore"]: r.data for r in partitioned["datastores"].records}
    # The sample's datastores hold at most 7 rows: one file each, partition table or not (the
    # web app downloads a datastore of at most 5,000 records as one object).
    assert {n: r["partition_columns"] for n, r in table.items()} == {n: "" for n in table}
    # cordex_ig45 predates upstream's rename of experiment_id to driving_experiment_id.
    assert {
        n: r["missing_partition_columns"]
        for n, r in table.items()
        if r["missing_partition_columns"]
    } == {"cordex_ig45": "driving_experiment_id"}
    assert table["by473"]["rows"] == 7
    assert partitioned["total_rows"] == 39
    assert metadata_of(result, "metacatalog")["rows"] == 7
    published = metadata_of(result, "published_catalog")
    assert published["current_version"] == VERSION
    dest = tmp_path / "dest"
    for name in table:
        spec = json.loads((dest / "source" / f"{name}.json").read_text())
        assert spec["catalog_file"] == f"https://objects.example/cat/source/{name}.parquet"
        assert (dest / "source" / f"{name}.parquet").is_file()
    assert json.loads((dest / "versions.json").read_text())["current"] == VERSION


def test_broken_datastore_costs_only_itself(tmp_path, sample_catalog, resources):
    (sample_catalog / VERSION / "source" / "era5_rt52.parquet").write_bytes(b"PAR1 truncated")
    result = materialize(resources)
    assert result.success
    sidecars = metadata_of(result, "datastore_sidecars")
    assert sidecars["datastores_failed"] == 1
    [row] = [r.data for r in sidecars["datastores"].records if r.data["status"] == "failed"]
    assert row["datastore"] == "era5_rt52"
    assert "era5_rt52.parquet: not a readable parquet file" in row["cause"]
    published = metadata_of(result, "published_catalog")
    assert published["datastores_ok"] == 6
    assert not (tmp_path / "dest" / "versions" / VERSION / "source" / "era5_rt52.json").exists()
    # A version with a failed datastore is archived but does not become current.
    assert published["promoted"] is False


@pytest.mark.parametrize(
    ("single_file_max_records", "folders"),
    [
        # The sample's datastores in the partition table hold 5 rows each (by473 and
        # esmvaltool-obs-ct11, 7 rows, are not in it): one file at 5, a hive folder at 4.
        (5000, {}),
        (5, {}),
        (
            4,
            {
                "barpa_py18": "source_id, domain_id, freq",
                "cmip5_al33": "realm, table",
                "cmip6_oi10": "realm, table_id",
                # Lacks driving_experiment_id (renamed upstream after this sample was taken).
                "cordex_ig45": "frequency",
                "era5_rt52": "product, levtype",
            },
        ),
    ],
)
def test_layout_follows_the_row_threshold_and_catalog_file_follows_the_layout(
    tmp_path, sample_catalog, single_file_max_records, folders
):
    dest = tmp_path / "dest"
    settings = settings_for(
        sample_catalog, dest, tmp_path / "staging", single_file_max_records=single_file_max_records
    )
    result = run_job(settings, VERSION)
    assert result.success
    table = table_rows(metadata_of(result, "partitioned_datastores"))
    assert {n: r["partition_columns"] for n, r in table.items() if r["partition_columns"]} == (
        folders
    )
    prefix = f"versions/{VERSION}/"
    for name in table:
        hive = name in folders
        for where in ("", prefix):
            built = dest / where / "source" / f"{name}.parquet"
            assert built.is_dir() is hive, built
            spec = json.loads((dest / where / "source" / f"{name}.json").read_text())
            expected = f"{BASE_URL}/{where}source/{name}.parquet" + ("/" if hive else "")
            assert spec["catalog_file"] == expected
        if hive:
            columns = folders[name].split(", ")
            first = next(p for p in sorted(built.rglob("*.parquet")) if p.is_file())
            assert [part.split("=")[0] for part in first.relative_to(built).parts[:-1]] == columns
    checks = check_evaluations(result)
    assert checks["partition_layout_matches"].passed
    assert checks["catalog_files_exist"].passed
    assert checks["partition_columns_present"].metadata["missing_partition_columns"].value == (
        "cordex_ig45: driving_experiment_id"
    )
