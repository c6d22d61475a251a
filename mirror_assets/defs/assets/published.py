import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.assets.metacatalog import metacatalog
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.assets.specs import datastore_specs
from mirror_assets.defs.metadata import outcome_metadata
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import MirrorSettings, ObjectStore, StagingArea
from mirror_assets.lib.publish import VERSIONS_JSON, archive_prefix
from mirror_assets.lib.staged_publish import publish_staged
from mirror_assets.lib.staging import METACATALOG


@dg.asset(
    partitions_def=catalog_versions,
    deps=[metacatalog, datastore_specs, datastore_sidecars, partitioned_datastores],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"s3"},
    code_version="1",
    pool="s3",
)
def published_catalog(
    context: dg.AssetExecutionContext,
    staging: StagingArea,
    object_store: ObjectStore,
    mirror_settings: MirrorSettings,
) -> dg.MaterializeResult:
    """The version published to the object store under versions/<version>/, and promoted to
    the bucket root when it is the newest complete, non-hidden version."""
    key = context.partition_key
    built, report = publish_staged(
        object_store.bucket(),
        staging.version(key),
        key,
        mirror_settings.public_base_url,
        dry_run=object_store.dry_run,
    )
    outcomes = built.outcomes()
    for action in report.actions() if report.dry_run else []:
        context.log.info(f"dry run: would {action}")
    context.log.info(
        f"publish{' (dry run)' if report.dry_run else ''}: {key} to {object_store.describe()}: "
        f"{len(report.uploaded)} uploaded, {report.unchanged} unchanged; "
        f"current version is {report.current}"
    )
    base = mirror_settings.public_base_url
    return dg.MaterializeResult(
        metadata={
            "destination": object_store.describe(),
            "dry_run": report.dry_run,
            "objects_uploaded": len(report.uploaded),
            "objects_unchanged": report.unchanged,
            "promoted": report.promoted,
            "current_version": report.current or "",
            "root_objects_written": len(report.root_written),
            "root_objects_deleted": len(report.root_deleted),
            "metacatalog_url": dg.MetadataValue.url(f"{base}/{archive_prefix(key)}{METACATALOG}"),
            "versions_json_url": dg.MetadataValue.url(f"{base}/{VERSIONS_JSON}"),
            **outcome_metadata(outcomes, {"rows": int}),
        }
    )
