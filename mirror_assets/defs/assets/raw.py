import time

import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS, stage_of
from mirror_assets.defs.metadata import duration_since, outcome_metadata
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import CatalogSource, RunOptions, StagingArea
from mirror_assets.defs.retries import TRANSIENT_RETRY, retry_only_transient
from mirror_assets.errors import MirrorError
from mirror_assets.fetch.plan import FetchReport
from mirror_assets.state.digests import record_input_digests
from mirror_assets.state.outcomes import Outcome, save_outcomes
from mirror_assets.state.run_scope import RunScope
from mirror_assets.state.staging import METACATALOG
from mirror_assets.transforms.metacatalog import check_metacatalog


def fetch_outcomes(report: FetchReport, scope: RunScope) -> list[Outcome]:
    """Fetched pairs and refused files (of the selected datastores, in a limited run)."""
    outcomes = [Outcome(n, True, {"files": 2}) for n in report.datastores]
    return outcomes + [
        Outcome(p.name, False, file=p.file, cause=p.cause)
        for p in report.problems
        if scope.selected is None or p.name in scope.selected
    ]


def unknown_selected(report: FetchReport, scope: RunScope) -> list[str]:
    """Named datastores the source has no file of: a typo must not mark the version failed."""
    known = set(report.datastores) | {p.name for p in report.problems}
    return sorted((scope.selected or set()) - known)


@dg.asset(
    partitions_def=catalog_versions,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"sftp", "parquet"},
    code_version="1",
    pool="sftp",
    retry_policy=TRANSIENT_RETRY,
)
def raw_catalog(
    context: dg.AssetExecutionContext,
    catalog_source: dg.ResourceParam[CatalogSource],
    staging: dg.ResourceParam[StagingArea],
    run_options: RunOptions,
) -> dg.MaterializeResult:
    """The catalog version as published on Gadi, fetched into the local staging folder.

    Holds metacatalog.parquet and every complete source/<name>.parquet + .json pair;
    unchanged files are not fetched again. A missing or malformed metacatalog fails the whole
    version here, before anything is built.
    """
    start = time.perf_counter()
    key = context.partition_key
    version = staging.version(key)
    scope = run_options.scope()
    stage = stage_of(context.asset_key)
    with retry_only_transient(stage, version.root):
        report = catalog_source.fetch_version(key, version.raw, only=scope.selected)
        unknown = unknown_selected(report, scope)
        if unknown:
            raise MirrorError(
                catalog_source.version_location(key) + "/source",
                f"datastore(s) {', '.join(unknown)}: not found at the source",
            )
        with staging.duckdb(key) as con:
            check_metacatalog(con, version.raw / METACATALOG)
        inputs = [METACATALOG, *(f"source/{f}" for n in report.datastores for f in _pair(n))]
        record_input_digests(version.raw, inputs, version.status, keep_others=scope.limited)
        version.record_source_datastores(report.available + [p.name for p in report.problems])
        for name in report.ignored:
            context.log.warning(f"fetch: ignored unknown file source/{name}")
        outcomes = fetch_outcomes(report, scope)
        for o in outcomes:
            if not o.ok:
                context.log.warning(f"fetch: {o.name} left out: {o.file}: {o.cause}")
        recorded = save_outcomes(version.status, stage, outcomes, scope.selected)
    context.log.info(
        f"fetch: {key} from {catalog_source.describe()} ({scope.describe()}): "
        f"{len(report.datastores)} datastores, {len(report.transferred)} files transferred "
        f"({report.bytes_transferred} bytes), {len(report.skipped)} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            "source": catalog_source.version_location(key),
            "datastores_selected": scope.describe(),
            "files_transferred": len(report.transferred),
            "files_unchanged": len(report.skipped),
            "bytes_transferred": report.bytes_transferred,
            "ignored_files": ", ".join(report.ignored),
            **outcome_metadata(recorded, {}, this_run=outcomes),
            "duration_seconds": duration_since(start),
        }
    )


def _pair(name: str) -> tuple[str, str]:
    return (f"{name}.parquet", f"{name}.json")
