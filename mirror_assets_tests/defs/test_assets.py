"""Materialise every asset in-process for one partition, against local resources in tmp_path."""

import json

import dagster as dg
import pytest

from mirror_assets.definitions import build_resources
from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.lib.settings import load_settings

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
    assert table["cmip6_oi10"]["partition_columns"] == "realm, table_id"
    assert table["by473"]["partition_columns"] == ""
    assert table["by473"]["rows"] == 7
    assert partitioned["total_rows"] == 39
    assert metadata_of(result, "metacatalog")["rows"] == 7
    published = metadata_of(result, "published_catalog")
    assert published["current_version"] == VERSION
    dest = tmp_path / "dest"
    spec = json.loads((dest / "source" / "by473.json").read_text())
    assert spec["catalog_file"] == "https://objects.example/cat/source/by473.parquet"
    assert (dest / "source" / "cmip6_oi10.parquet").is_dir()
    assert (dest / "source" / "by473.parquet").is_file()
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
