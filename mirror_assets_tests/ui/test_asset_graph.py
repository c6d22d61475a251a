"""What the UI's asset graph shows: descriptions, group, owners, kinds, versions, lineage, pools."""

import dagster as dg
import pytest

from mirror_assets.definitions import defs

EXPECTED = {
    # asset: (kinds, pool, upstream assets)
    "raw_catalog": ({"sftp", "parquet"}, "sftp", set()),
    "metacatalog": ({"duckdb", "parquet"}, "duckdb", {"raw_catalog"}),
    # catalog_file follows the layout partitioned_datastores wrote (a hive folder's ends in /).
    "datastore_specs": ({"json"}, None, {"raw_catalog", "partitioned_datastores"}),
    "datastore_sidecars": ({"duckdb", "parquet", "json"}, "duckdb", {"raw_catalog"}),
    "partitioned_datastores": (
        {"duckdb", "parquet"},
        "duckdb",
        {"raw_catalog", "datastore_sidecars"},
    ),
    "published_catalog": (
        {"s3"},
        "s3",
        {"metacatalog", "datastore_specs", "datastore_sidecars", "partitioned_datastores"},
    ),
}


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_asset_reads_well_in_the_graph(definitions, name):
    kinds, pool, upstream = EXPECTED[name]
    spec = definitions.get_assets_def(name).specs_by_key[dg.AssetKey(name)]
    assert spec.description and len(spec.description) > 40
    assert spec.group_name == "catalog_mirror"
    assert spec.owners == ["team:access-nri-catalog"]
    assert spec.kinds == kinds
    assert spec.code_version
    assert {dep.asset_key.to_user_string() for dep in spec.deps} == upstream


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_asset_runs_one_version_per_run_in_its_pool(definitions, name):
    asset = definitions.get_assets_def(name)
    # No policy: a backfill launches one run per partition (checked in test_webserver.py).
    assert asset.backfill_policy is None
    assert asset.partitions_def == dg.DynamicPartitionsDefinition(name="catalog_version")
    assert asset.op.pool == EXPECTED[name][1]


def test_published_catalog_is_downstream_of_everything(definitions):
    graph = definitions.resolve_asset_graph()
    published = dg.AssetKey("published_catalog")
    ancestors = graph.upstream_key_iterator(published)
    assert {key.to_user_string() for key in ancestors} == set(EXPECTED) - {"published_catalog"}
