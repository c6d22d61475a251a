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


def test_checks_are_registered_and_in_the_job():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    checks = {key.name for key in graph.asset_check_keys}
    assert checks == {
        "rows_preserved_per_datastore",
        "partition_layout_matches",
        "partition_columns_present",
        "sidecar_num_records_match_rows",
        "datastores_not_empty",
        "metacatalog_names_unique",
        "metacatalog_matches_datastores",
        "catalog_files_exist",
    }
    job = definitions.resolve_job_def("mirror_catalog")
    steps = set(job.graph.node_dict)
    assert "partitioned_datastores_rows_preserved_per_datastore" in steps
    assert "published_catalog_catalog_files_exist" in steps
    assert "run_options" in definitions.resources


def test_fetch_and_publish_retry_with_backoff():
    definitions = defs()
    job = definitions.resolve_job_def("mirror_catalog")
    for node in ("raw_catalog", "published_catalog"):
        policy = job.graph.node_named(node).definition.retry_policy
        assert policy.max_retries == 3 and policy.backoff == dg.Backoff.EXPONENTIAL
