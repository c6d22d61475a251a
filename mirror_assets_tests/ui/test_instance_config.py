"""The project's dagster.yaml and workspace.yaml, loaded the way dagster dev and the daemon do."""

import shutil

import dagster as dg
import yaml

from mirror_assets.code_location import CODE_LOCATION, DEFINITIONS_MODULE
from mirror_assets_tests.ui.conftest import ROOT


def test_dagster_yaml_works_out_of_the_box_with_sqlite_under_dagster_home(tmp_path, monkeypatch):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert instance.is_persistent
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 2
        # One run per catalog version: a limit of 1 for each value of the partition tag.
        assert concurrency.run_queue_config.tag_concurrency_limits == [
            {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        assert concurrency.pool_config.pool_granularity.value == "op"
        assert concurrency.pool_config.default_pool_limit == 1
        instance.add_dynamic_partitions("catalog_version", ["v2025-01-29"])
    assert (tmp_path / "history" / "runs.db").is_file()


def test_workspace_names_the_code_location_mirror_catalog_runs_are_recorded_against():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    [entry] = workspace["load_from"]
    assert entry["python_module"]["module_name"] == DEFINITIONS_MODULE
    assert entry["python_module"]["location_name"] == CODE_LOCATION
