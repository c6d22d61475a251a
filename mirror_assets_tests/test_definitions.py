import dagster as dg

from mirror_assets.definitions import defs


def test_code_location_loads_with_every_asset_and_the_job():
    definitions = defs()
    keys = {key.to_user_string() for key in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "raw_catalog",
        "metacatalog",
        "datastore_specs",
        "datastore_sidecars",
        "partitioned_datastores",
        "published_catalog",
    }
    job = definitions.resolve_job_def("mirror_catalog")
    assert job.partitions_def == dg.DynamicPartitionsDefinition(name="catalog_version")
    assert set(definitions.resources) >= {
        "catalog_source",
        "object_store",
        "staging",
        "mirror_settings",
    }
