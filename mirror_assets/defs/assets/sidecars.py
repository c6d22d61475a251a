import time
from pathlib import Path

import dagster as dg

from mirror_assets.config.settings import Settings
from mirror_assets.defs.assets.common import GROUP, OWNERS, stage_of, upstream_stages
from mirror_assets.defs.assets.fingerprints import (
    SIDECARS_CODE_VERSION,
    partitioned_fingerprint,
    sidecars_fingerprint,
)
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.metadata import duration_since, outcome_metadata, timed
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import ObjectStore, RunEarlyCopies, RunOptions, StagingArea
from mirror_assets.defs.retries import stop_on_full_disk
from mirror_assets.state.digests import load_input_digests
from mirror_assets.state.outcomes import run_stage, stage_names
from mirror_assets.state.reuse import first_reuse, reuser
from mirror_assets.state.staging import VersionStaging
from mirror_assets.store.archived_builds import (
    ArchivedBuild,
    ArchivedBuilds,
    builds_to_reuse,
    read_once,
    record_archived_builds,
    sidecars_from_archive,
)
from mirror_assets.transforms.duck import one_thread_per_statement
from mirror_assets.transforms.sidecars import write_sidecars
from mirror_assets.transforms.write_plans import WriterSlots

METRICS = {"rows": int, "project_id": str, "columns": int, "seconds": float}
CODE_VERSION = SIDECARS_CODE_VERSION


def sidecar_files(version: VersionStaging, name: str) -> list[Path]:
    """What the stage writes for a datastore: the two sidecars, and its list tuples if any."""
    return [version.uniqs(name), version.metadata_json(name), version.list_tuples(name)]


@dg.asset(
    partitions_def=catalog_versions,
    deps=[raw_catalog],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb", "parquet", "json"},
    code_version=CODE_VERSION,
    pool="duckdb",
)
def datastore_sidecars(
    context: dg.AssetExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    run_options: RunOptions,
    mirror_settings: dg.ResourceParam[Settings],
    object_store: dg.ResourceParam[ObjectStore],
    early_copies: dg.ResourceParam[RunEarlyCopies],
) -> dg.MaterializeResult:
    """Per datastore: <name>_uniqs.parquet (distinct values per column, num_records in its
    key-value metadata) and <name>_metadata.json (project_id, num_records). An empty datastore
    gets empty value lists, num_records 0 and a null project_id. A datastore built with the same
    inputs and shaping for another version is linked from the staging folder, or else taken from
    the destination's archive of that version (nothing written here). Either way, its objects
    archived for that version are copied into this version's archive while the build goes on."""
    start = time.perf_counter()
    stage = stage_of(context.asset_key)
    version = staging.version(context.partition_key)
    digests = load_input_digests(version.status)

    def fingerprint(name: str) -> str:
        return sidecars_fingerprint(digests, name)

    def both_fingerprints(name: str) -> dict[str, str]:
        return {
            "sidecars": fingerprint(name),
            "partitioned": partitioned_fingerprint(digests, mirror_settings, name),
        }

    key = context.partition_key
    archive = read_once(lambda: ArchivedBuilds(object_store.bucket(), key, context.log))
    names = stage_names(version.status, upstream_stages(context), run_options.scope().selected)
    if run_options.reuse and not object_store.dry_run:
        # What another version's archive holds is copied into this one beside the build.
        early_copies.start(
            object_store.bucket(),
            key,
            lambda: builds_to_reuse(archive(), names, both_fingerprints),
            context.log,
        )
    found: dict[str, ArchivedBuild | None] = {}
    reuse = first_reuse(
        reuser(version, stage, sidecar_files, required=2, enabled=run_options.reuse),
        sidecars_from_archive(archive, both_fingerprints, found, context.log),
    )

    def outputs_present(name: str) -> bool:
        return version.uniqs(name).is_file() and version.metadata_json(name).is_file()

    with (
        stop_on_full_disk(stage, version.root),
        staging.stage_duckdb(context.partition_key) as con,
        one_thread_per_statement(con) as threads,
    ):
        # A datastore that runs out of memory is retried with every slot, nothing alongside.
        slots = WriterSlots(threads)

        def build(name: str) -> dict:
            with con.cursor() as cursor:
                summary = write_sidecars(
                    cursor,
                    version.raw_file(name, ".parquet"),
                    version.uniqs(name),
                    version.metadata_json(name),
                    version.list_tuples(name),
                    slots=slots,
                )
            return {
                "rows": summary.rows,
                "project_id": summary.project_id,
                "columns": len(summary.cardinalities),
            }

        this_run, recorded = run_stage(
            version.status,
            stage,
            upstream_stages(context),
            run_options.scope().selected,
            timed(build),
            context.log,
            fingerprint=fingerprint,
            outputs_present=outputs_present,
            workers=threads,
            cost=version.raw_bytes,
            reuse=reuse if run_options.reuse else None,
        )
    record_archived_builds(
        version.status, {o.name: found.get(o.name) if o.from_archive else None for o in this_run}
    )
    return dg.MaterializeResult(
        metadata={
            **outcome_metadata(recorded, METRICS, this_run=this_run),
            "duration_seconds": duration_since(start),
        }
    )
