"""code_location.py reaches into Dagster's internals (no public API records a run against a code
location and executes it in this process). These tests fail loudly when a Dagster upgrade moves
or changes what it uses, instead of mirror-catalog breaking in the field."""

import dagster as dg

from mirror_assets import code_location
from mirror_assets.code_location import CODE_LOCATION, execute_partition_run
from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.partitions import catalog_versions

VERSION = "v2025-01-29"


def test_the_private_names_it_imports_still_exist():
    for name in ("execute_run", "InProcessCodeLocationOrigin", "LoadableTargetOrigin"):
        assert callable(getattr(code_location, name)), name


def test_a_run_is_recorded_against_the_code_location_and_executed_here(tmp_path, monkeypatch):
    monkeypatch.setenv("MIRROR_STAGING", str(tmp_path / "staging"))
    monkeypatch.setenv("MIRROR_DEST", str(tmp_path / "dest"))
    events: list[dg.EventLogEntry] = []
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.add_dynamic_partitions(catalog_versions.name, [VERSION])
        result = execute_partition_run(
            instance, mirror_catalog_job.name, VERSION, on_event=events.append
        )
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        # The origin the UI's re-execution looks the job up by: code location + repository.
        origin = run.remote_job_origin
        assert origin is not None
        assert origin.repository_origin.code_location_origin.location_name == CODE_LOCATION
        assert origin.job_name == mirror_catalog_job.name
        assert run.tags["dagster/partition"] == VERSION
    assert any(e.step_key == "published_catalog" for e in events)
    assert (tmp_path / "dest" / "versions.json").is_file()
