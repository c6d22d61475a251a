import time

import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.metadata import duration_since, outcome_metadata, timed
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import StagingArea
from mirror_assets.lib.outcomes import healthy_names, run_each, save_outcomes
from mirror_assets.lib.sidecars import write_sidecars

METRICS = {"rows": int, "project_id": str, "columns": int, "seconds": float}


@dg.asset(
    partitions_def=catalog_versions,
    deps=[raw_catalog],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb", "parquet", "json"},
    code_version="1",
    pool="duckdb",
)
def datastore_sidecars(
    context: dg.AssetExecutionContext, staging: StagingArea
) -> dg.MaterializeResult:
    """Per datastore: <name>_uniqs.parquet (distinct values per column, num_records in its
    key-value metadata) and <name>_metadata.json (project_id, num_records)."""
    start = time.perf_counter()
    version = staging.version(context.partition_key)

    with staging.duckdb(context.partition_key) as con:

        def build(name: str) -> dict:
            summary = write_sidecars(
                con,
                version.raw_file(name, ".parquet"),
                version.uniqs(name),
                version.metadata_json(name),
            )
            return {
                "rows": summary.rows,
                "project_id": summary.project_id,
                "columns": len(summary.cardinalities),
            }

        outcomes = run_each(
            "sidecars", healthy_names(version.status, ["fetch"]), timed(build), context.log
        )
    save_outcomes(version.status, "sidecars", outcomes)
    return dg.MaterializeResult(
        metadata={**outcome_metadata(outcomes, METRICS), "duration_seconds": duration_since(start)}
    )
