import json
import time
from collections.abc import Callable

import dagster as dg
import duckdb

from mirror_assets.config.settings import Settings
from mirror_assets.defs.assets.common import GROUP, OWNERS, stage_of, upstream_stages
from mirror_assets.defs.assets.fingerprints import PARTITIONED_CODE_VERSION, partitioned_fingerprint
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.metadata import duration_since, outcome_metadata, timed
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import RunOptions, StagingArea
from mirror_assets.defs.retries import stop_on_full_disk
from mirror_assets.state.digests import load_input_digests
from mirror_assets.state.outcomes import run_stage
from mirror_assets.state.reuse import first_reuse, reuser
from mirror_assets.store.archived_builds import partitioned_from_archive, taken_from_archive
from mirror_assets.transforms.datastore import DatastoreSchema, read_schema
from mirror_assets.transforms.layout import DatastoreLayout
from mirror_assets.transforms.partitioning import (
    choose_sort_columns,
    partition_datastore,
    partitioned_writes,
    writers_for,
)
from mirror_assets.transforms.sidecars import read_cardinalities
from mirror_assets.transforms.write_plans import Reservation, WriterSlots

METRICS = {
    "rows": int,
    "bytes": int,
    "files": int,
    "partition_columns": list,
    "missing_partition_columns": list,
    "sort_columns": list,
    "plan": str,
    "seconds": float,
}
CODE_VERSION = PARTITIONED_CODE_VERSION


@dg.asset(
    partitions_def=catalog_versions,
    deps=[raw_catalog, datastore_sidecars],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb", "parquet"},
    code_version=CODE_VERSION,
    pool="duckdb",
)
def partitioned_datastores(
    context: dg.AssetExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    mirror_settings: dg.ResourceParam[Settings],
    run_options: RunOptions,
) -> dg.MaterializeResult:
    """Each datastore rewritten sorted by its 3 lowest-cardinality columns in 10k-row row groups:
    hive-partitioned (source/<name>.parquet/col=value/...) by the partition table's columns it
    has, or one file when it holds at most single_file_max_records rows or none of them."""
    start = time.perf_counter()
    stage, upstream = stage_of(context.asset_key), upstream_stages(context)
    version = staging.version(context.partition_key)
    digests = load_input_digests(version.status)

    # Datastores whose sidecars were taken from an archived build: taken from it here too.
    archived = taken_from_archive(version.status, ("sidecars",))

    def fingerprint(name: str) -> str:
        return partitioned_fingerprint(digests, mirror_settings, name)

    def rows(name: str) -> int:
        # Counted by the sidecar stage; a datastore it has not counted is not written anyway.
        if name in archived:
            return archived[name].rows or 0
        try:
            return int(json.loads(version.metadata_json(name).read_text())["num_records"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    names = [p.stem for p in (version.raw / "source").glob("*.parquet")]
    total = sum(rows(n) for n in names if n not in archived)
    with (
        stop_on_full_disk(stage, version.root),
        staging.stage_duckdb(context.partition_key) as con,
        partitioned_writes(con, mirror_settings.row_group_size) as threads,
    ):
        # Writers are shared out by rows, and every writer of the stage holds one of `slots`:
        # the dominant datastore gets every thread while the others wait, and the stage never
        # runs more writers than threads against the one memory_limit.
        slots = WriterSlots(threads)

        def shape(
            cursor: duckdb.DuckDBPyConnection, name: str
        ) -> tuple[DatastoreSchema, DatastoreLayout, list[str]]:
            schema = read_schema(cursor, version.raw_file(name, ".parquet"))
            layout = mirror_settings.layout(name, schema.columns, rows(name))
            sort_cols = choose_sort_columns(
                schema,
                read_cardinalities(cursor, version.uniqs(name)),
                layout.partition_columns,
                mirror_settings.sort_column_count,
            )
            return schema, layout, sort_cols

        # Every datastore's writers queue for their slots as it is submitted, largest first, so
        # the order holds however quickly each one's worker gets going.
        queued: dict[str, list[Reservation]] = {}

        def queue(name: str) -> Callable[[], None]:
            writers = 0 if name in archived else writers_for(rows(name), total, threads)
            queued[name] = [slots.reserve(1, priority=writers) for _ in range(writers)]

            def done() -> None:
                for reservation in queued.pop(name):
                    reservation.withdraw()

            return done

        def rewrite(name: str) -> dict:
            src = version.raw_file(name, ".parquet")
            with con.cursor() as cursor:
                # Read in the worker: a datastore reused or unchanged never reads them, and its
                # writers' slots were queued as it was submitted, whatever this takes.
                schema, layout, sort_cols = shape(cursor, name)
                partition_cols = layout.partition_columns
                if layout.missing_columns:
                    context.log.warning(
                        f"partitioned: {name} lacks partition column(s) "
                        f"{', '.join(layout.missing_columns)}; partitioned by "
                        f"{', '.join(partition_cols) or 'nothing (one file)'}"
                    )
                summary = partition_datastore(
                    cursor,
                    src,
                    version.built_datastore(name),
                    schema,
                    partition_cols,
                    sort_cols,
                    mirror_settings.row_group_size,
                    writers=writers_for(rows(name), total, threads),
                    uniqs=version.uniqs(name),
                    list_tuples=version.list_tuples(name),
                    slots=slots,
                    reserved=queued.get(name),
                )
            return {
                "rows": summary.rows,
                "bytes": summary.bytes,
                "files": summary.files,
                "partition_columns": partition_cols,
                "missing_partition_columns": layout.missing_columns,
                "sort_columns": sort_cols,
                "plan": summary.plan,
            }

        this_run, recorded = run_stage(
            version.status,
            stage,
            upstream,
            run_options.scope().selected,
            timed(rewrite),
            context.log,
            fingerprint=fingerprint,
            outputs_present=lambda name: version.built_datastore(name).exists(),
            workers=threads,
            cost=rows,
            on_submit=queue,
            reuse=first_reuse(
                partitioned_from_archive(archived),
                reuser(
                    version,
                    stage,
                    lambda v, name: [v.built_datastore(name)],
                    enabled=run_options.reuse,
                ),
            ),
        )
    return dg.MaterializeResult(
        metadata={
            **outcome_metadata(recorded, METRICS, this_run=this_run),
            "duration_seconds": duration_since(start),
        }
    )
