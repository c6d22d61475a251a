"""Run a job of this code location from this process, recorded as a run of that code location.

Why this module reaches into Dagster internals: no public API both records a run against a code
location and executes it synchronously. `dg.execute_job`, `dagster job execute` and `dagster asset
materialize` record only the job's Python origin, and the UI cannot re-execute such a run (its
re-execution looks the job up through the run's *remote* origin: code location + repository).
`dagster job launch` records the remote origin but hands the run to the run queue, so it only runs
when a daemon is up. This module loads the code location in process as a code server does, creates
the run with its remote origin as `dagster job launch` does, and executes it here as
`dg.execute_job` does. Dagster is pinned to 1.13 (pyproject.toml);
mirror_assets_tests/test_code_location.py fails loudly when an upgrade breaks these imports or the
run's origin, and mirror_assets_tests/ui checks that the UI lists and re-executes these runs.

Settings: since the location is loaded in this process, `mirror-catalog` hands it the `Settings`
it parsed from its flags in process (`definitions.settings_handed_over`), for as long as the run
takes to load and execute; nothing goes through `os.environ`. Without them the location loads its
own (`MIRROR_CONFIG` / `MIRROR_*`), as a re-execution from the UI does in the code server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dagster as dg

# Private imports, on purpose (see above); keep them in this module only.
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from mirror_assets.config.settings import Settings
from mirror_assets.definitions import settings_handed_over

DEFINITIONS_MODULE = "mirror_assets.definitions"
# The name workspace.yaml gives the code location: the UI matches runs to jobs by it.
CODE_LOCATION = "mirror_assets"


def execute_partition_run(
    instance: dg.DagsterInstance,
    job_name: str,
    partition_key: str,
    run_config: Mapping[str, object] | None = None,
    on_event: Callable[[dg.EventLogEntry], None] | None = None,
    settings: Settings | None = None,
) -> dg.JobExecutionResult:
    """Create a run of `job_name` for `partition_key` with the code location's origin, and
    execute it in this process, the code location built from `settings` (default: the settings
    it loads itself). `on_event` sees each event of the run as it is stored (progress display)."""
    with settings_handed_over(settings):
        origin = InProcessCodeLocationOrigin(
            LoadableTargetOrigin(module_name=DEFINITIONS_MODULE, attribute="defs"),
            location_name=CODE_LOCATION,
        )
        location = origin.create_location(instance)
        (repository_name,) = location.get_repository_names()
        remote_job = location.get_repository(repository_name).get_full_job(job_name)
        job = location.get_reconstructable_job(repository_name, job_name)
        job_def = job.get_definition()
        run = instance.create_run_for_job(
            job_def=job_def,
            run_config=run_config or {},
            tags=job_def.get_tags_for_partition_key(partition_key, selected_asset_keys=None),
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=job.get_python_origin(),
        )
        if on_event is not None:
            instance.add_event_listener(run.run_id, on_event)
        return execute_run(job, run, instance, raise_on_error=False)
