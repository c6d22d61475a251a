import time

import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.metadata import duration_since
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import StagingArea
from mirror_assets.defs.retries import stop_on_full_disk
from mirror_assets.state.staging import METACATALOG
from mirror_assets.transforms.metacatalog import restructure_metacatalog

PREVIEW_ROWS = 10


def _preview(con, path) -> str:
    rows = con.execute(
        "SELECT name, model, realm, frequency, len(variable) FROM read_parquet(?) LIMIT ?",
        [str(path), PREVIEW_ROWS],
    ).fetchall()
    lines = ["| name | model | realm | frequency | variables |", "|---|---|---|---|---|"]
    lines += [
        f"| {n} | {', '.join(m or [])} | {', '.join(r or [])} | {', '.join(f or [])} | {v or 0} |"
        for n, m, r, f, v in rows
    ]
    return "\n".join(lines)


@dg.asset(
    partitions_def=catalog_versions,
    deps=[raw_catalog],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb", "parquet"},
    code_version="1",
    pool="duckdb",
)
def metacatalog(
    context: dg.AssetExecutionContext, staging: dg.ResourceParam[StagingArea]
) -> dg.MaterializeResult:
    """metacatalog.parquet restructured to one row per datastore name, ordered by name.

    model/realm/frequency/variable are the sorted distinct union of the name's rows;
    description and yaml the first non-null value.
    """
    start = time.perf_counter()
    version = staging.version(context.partition_key)
    dest = version.build / METACATALOG
    with (
        stop_on_full_disk("metacatalog", version.root),
        staging.duckdb(context.partition_key) as con,
    ):
        names = restructure_metacatalog(con, version.raw / METACATALOG, dest)
        preview = _preview(con, dest)
    context.log.info(f"metacatalog: {len(names)} names")
    return dg.MaterializeResult(
        metadata={
            "rows": len(names),
            "bytes": dest.stat().st_size,
            "preview": dg.MetadataValue.md(preview),
            "duration_seconds": duration_since(start),
        }
    )
