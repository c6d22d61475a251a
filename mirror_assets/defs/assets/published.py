import time

import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.assets.metacatalog import metacatalog
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.assets.specs import datastore_specs
from mirror_assets.defs.metadata import duration_since, outcome_metadata
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import MirrorSettings, ObjectStore, StagingArea
from mirror_assets.lib.outcomes import STAGES, Outcome, failures, load_outcomes, save_outcomes
from mirror_assets.lib.publish import VERSIONS_JSON, archive_prefix, publish_version
from mirror_assets.lib.staging import METACATALOG

BUILD_STAGES = [s for s in STAGES if s != "publish"]


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
    start = time.perf_counter()
    key = context.partition_key
    version = staging.version(key)
    built = {o.name: o for o in load_outcomes(version.status, "partitioned") if o.ok}
    failed = failures(version.status, BUILD_STAGES)
    healthy = sorted(set(built) - {o.name for _, o in failed})
    rows = sum(int(built[n].metrics["rows"]) for n in healthy)
    report = publish_version(
        object_store.bucket(),
        version.build,
        key,
        healthy,
        mirror_settings.public_base_url,
        rows,
        promotable=not failed,
    )
    outcomes = [Outcome(n, True, {"rows": built[n].metrics["rows"]}) for n in healthy]
    outcomes += [
        Outcome(o.name, False, file=o.file, cause=f"{stage}: {o.cause}") for stage, o in failed
    ]
    save_outcomes(version.status, "publish", outcomes)
    context.log.info(
        f"publish: {key} to {object_store.describe()}: {len(report.uploaded)} uploaded, "
        f"{report.unchanged} unchanged; current version is {report.current}"
    )
    base = mirror_settings.public_base_url
    archived = f"{archive_prefix(key)}{METACATALOG}"
    return dg.MaterializeResult(
        metadata={
            "destination": object_store.describe(),
            "objects_uploaded": len(report.uploaded),
            "objects_unchanged": report.unchanged,
            "promoted": report.promoted,
            "current_version": report.current or "",
            "root_objects_written": len(report.root_written),
            "root_objects_deleted": len(report.root_deleted),
            "metacatalog_url": dg.MetadataValue.url(object_store.object_url(archived, base)),
            "versions_json_url": dg.MetadataValue.url(object_store.object_url(VERSIONS_JSON, base)),
            **outcome_metadata(outcomes, {"rows": int}),
            "duration_seconds": duration_since(start),
        }
    )
