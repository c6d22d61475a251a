import time

import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.metadata import duration_since, outcome_metadata
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import CatalogSource, StagingArea
from mirror_assets.lib.outcomes import Outcome, save_outcomes


@dg.asset(
    partitions_def=catalog_versions,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"sftp", "parquet"},
    code_version="1",
    pool="sftp",
)
def raw_catalog(
    context: dg.AssetExecutionContext, catalog_source: CatalogSource, staging: StagingArea
) -> dg.MaterializeResult:
    """The catalog version as published on Gadi, fetched into the local staging folder.

    Holds metacatalog.parquet and every complete source/<name>.parquet + .json pair;
    unchanged files are not fetched again.
    """
    start = time.perf_counter()
    version = staging.version(context.partition_key)
    report = catalog_source.fetch_version(context.partition_key, version.raw)
    for name in report.ignored:
        context.log.warning(f"fetch: ignored unknown file source/{name}")
    outcomes = [Outcome(n, True, {"files": 2}) for n in report.datastores] + [
        Outcome(p.name, False, file=p.file, cause=p.cause) for p in report.problems
    ]
    for problem in report.problems:
        context.log.warning(f"fetch: {problem.name} left out: {problem.file}: {problem.cause}")
    save_outcomes(version.status, "fetch", outcomes)
    context.log.info(
        f"fetch: {context.partition_key} from {catalog_source.describe()}: "
        f"{len(report.datastores)} datastores, {len(report.transferred)} files transferred "
        f"({report.bytes_transferred} bytes), {len(report.skipped)} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            "source": catalog_source.version_location(context.partition_key),
            "files_transferred": len(report.transferred),
            "files_unchanged": len(report.skipped),
            "bytes_transferred": report.bytes_transferred,
            "ignored_files": ", ".join(report.ignored),
            **outcome_metadata(outcomes, {}),
            "duration_seconds": duration_since(start),
        }
    )
