import time

import dagster as dg

from mirror_assets.config.settings import Settings
from mirror_assets.defs.assets.common import GROUP, OWNERS, stage_of
from mirror_assets.defs.assets.metacatalog import metacatalog
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.assets.specs import datastore_specs
from mirror_assets.defs.metadata import (
    duration_since,
    outcome_metadata,
    reuse_table,
    version_table,
)
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import ObjectStore, RunEarlyCopies, RunOptions, StagingArea
from mirror_assets.defs.retries import TRANSIENT_RETRY, retry_only_transient, stop_on_full_disk
from mirror_assets.state.outcomes import STAGES
from mirror_assets.state.staging import METACATALOG
from mirror_assets.store.manifest import MANIFEST
from mirror_assets.store.publish import VERSIONS_JSON, archive_prefix
from mirror_assets.store.staged_publish import publish_staged


@dg.asset(
    partitions_def=catalog_versions,
    deps=[metacatalog, datastore_specs, datastore_sidecars, partitioned_datastores],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"s3"},
    code_version="1",
    pool="s3",
    retry_policy=TRANSIENT_RETRY,
)
def published_catalog(
    context: dg.AssetExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    object_store: dg.ResourceParam[ObjectStore],
    mirror_settings: dg.ResourceParam[Settings],
    run_options: RunOptions,
    early_copies: dg.ResourceParam[RunEarlyCopies],
) -> dg.MaterializeResult:
    """The version published to the object store under versions/<version>/ with its
    manifest, and promoted to the bucket root when it is the newest complete, non-hidden version.

    The datastores this run built are uploaded; every other datastore at the source keeps its
    archived objects (a run limited to some datastores, or on a fresh staging folder, loses
    nothing). A datastore that failed keeps its archived build if it has one; one neither built
    nor archived is missing, and its metacatalog entry is left out. A version with failed or
    missing datastores is only promoted with allow_partial. Metacatalog entries with no datastore
    in the version's source/ folder (e.g. ones pointing at another project's catalog) are kept.
    """
    start = time.perf_counter()
    key = context.partition_key
    version, stage = staging.version(key), stage_of(context.asset_key)
    with retry_only_transient(stage, version.root), stop_on_full_disk(stage, version.root):
        built, report = publish_staged(
            object_store.bucket(),
            version,
            key,
            mirror_settings.public_base_url,
            allow_partial=run_options.allow_partial,
            dry_run=object_store.dry_run,
            selected=run_options.scope().selected,
            reuse=run_options.reuse,
            copied_early=early_copies.take(key),
        )
    for action in report.actions() if report.dry_run else []:
        context.log.info(f"dry run: would {action}")
    context.log.info(
        f"publish{' (dry run)' if report.dry_run else ''}: {key} to {object_store.describe()}: "
        f"{len(built.publish)} datastores built, {len(built.reused)} copied from archived "
        f"builds, {len(built.carried)} kept as archived, "
        f"{len(built.failed)} failed or missing; "
        f"{len(report.uploaded)} objects uploaded, {len(report.copied)} copied from other "
        f"versions ({report.bytes_copied} bytes not uploaded), {report.unchanged} unchanged; "
        f"promoted={report.promoted}, current version is {report.current}"
    )
    if built.carried:
        context.log.info(f"publish: kept as archived: {', '.join(sorted(built.carried))}")
    if built.missing:
        context.log.warning(
            f"publish: missing (not built in this run and not archived): {', '.join(built.missing)}"
        )
    if built.failed and not report.promoted:
        context.log.warning(
            f"publish: {key} archived without {len(built.failed)} failed or missing datastore(s) "
            "and not promoted (allow_partial is off)"
        )
    base = mirror_settings.public_base_url
    archived = f"{archive_prefix(key)}{METACATALOG}"
    return dg.MaterializeResult(
        metadata={
            "destination": object_store.describe(),
            "dry_run": report.dry_run,
            "objects_uploaded": len(report.uploaded),
            "objects_unchanged": report.unchanged,
            "objects_copied_from_other_versions": len(report.copied),
            "bytes_not_uploaded": report.bytes_copied,
            "reused_from_other_versions": reuse_table(report),
            "datastores_built": len(built.publish),
            "datastores_copied_from_archive": len(built.reused),
            "datastores_kept_as_archived": ", ".join(sorted(built.carried)),
            "datastores_missing": ", ".join(built.missing),
            "manifest_url": dg.MetadataValue.url(
                object_store.object_url(f"{archive_prefix(key)}{MANIFEST}", base)
            ),
            "promoted": report.promoted,
            "promotable": not built.failed or run_options.allow_partial,
            "allow_partial": run_options.allow_partial,
            "current_version": report.current or "",
            "root_objects_written": len(report.root_written),
            "root_objects_deleted": len(report.root_deleted),
            "metacatalog_url": dg.MetadataValue.url(object_store.object_url(archived, base)),
            "versions_json_url": dg.MetadataValue.url(object_store.object_url(VERSIONS_JSON, base)),
            **outcome_metadata(built.outcomes(), {"rows": int}),
            "version_datastores": version_table(built.picture, list(STAGES)),
            "duration_seconds": duration_since(start),
        }
    )
