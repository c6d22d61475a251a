import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.assets.metacatalog import metacatalog
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.assets.specs import datastore_specs
from mirror_assets.defs.metadata import outcome_metadata, version_table
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import MirrorSettings, ObjectStore, RunOptions, StagingArea
from mirror_assets.defs.retries import TRANSIENT_RETRY, retry_only_transient, stop_on_full_disk
from mirror_assets.lib.metacatalog import write_without_names
from mirror_assets.lib.outcomes import (
    BUILD_STAGES,
    Outcome,
    outcomes_by_name,
    save_outcomes,
    version_picture,
)
from mirror_assets.lib.publish import VERSIONS_JSON, archive_prefix, publish_version
from mirror_assets.lib.staging import METACATALOG


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
    staging: StagingArea,
    object_store: ObjectStore,
    mirror_settings: MirrorSettings,
    run_options: RunOptions,
) -> dg.MaterializeResult:
    """The version published to the object store under versions/<version>/, and promoted to
    the bucket root when it is the newest complete, non-hidden version.

    A datastore that failed in any stage is left out, and so is its metacatalog entry; such a
    version is only promoted with allow_partial. Metacatalog entries with no datastore in the
    version's source/ folder (e.g. ones pointing at another project's catalog) are kept.
    """
    key = context.partition_key
    version = staging.version(key)
    picture = version_picture(version.status)
    healthy = [d.name for d in picture if d.ok]
    failed = [d for d in picture if not d.ok]
    if not healthy:
        raise dg.Failure(
            description=f"{version.status}: no datastore of {key} was built, nothing published",
            allow_retries=False,
        )
    built = outcomes_by_name(version.status, "partitioned")
    rows = sum(int(built[n].metrics["rows"]) for n in healthy)
    published_metacatalog = version.build / METACATALOG
    if failed:
        published_metacatalog = version.root / "publish" / METACATALOG
        with stop_on_full_disk("publish", version.root), staging.duckdb(key) as con:
            write_without_names(
                con, version.build / METACATALOG, published_metacatalog, [d.name for d in failed]
            )
    promotable = not failed or run_options.allow_partial
    with retry_only_transient("publish", version.root):
        report = publish_version(
            object_store.bucket(),
            version.build,
            key,
            healthy,
            mirror_settings.public_base_url,
            rows,
            promotable=promotable,
            metacatalog_file=published_metacatalog,
        )
    outcomes = [Outcome(n, True, {"rows": built[n].metrics["rows"]}) for n in healthy]
    outcomes += [
        Outcome(d.name, False, file=d.file, cause=f"{d.failed_stage}: {d.cause}") for d in failed
    ]
    save_outcomes(version.status, "publish", outcomes)
    context.log.info(
        f"publish: {key} to {object_store.describe()}: {len(healthy)} datastores, "
        f"{len(failed)} left out, {len(report.uploaded)} objects uploaded, "
        f"{report.unchanged} unchanged; promoted={report.promoted}, "
        f"current version is {report.current}"
    )
    if failed and not report.promoted:
        context.log.warning(
            f"publish: {key} archived without {len(failed)} failed datastore(s) and not promoted "
            "(allow_partial is off)"
        )
    base = mirror_settings.public_base_url
    return dg.MaterializeResult(
        metadata={
            "destination": object_store.describe(),
            "objects_uploaded": len(report.uploaded),
            "objects_unchanged": report.unchanged,
            "promoted": report.promoted,
            "promotable": promotable,
            "allow_partial": run_options.allow_partial,
            "current_version": report.current or "",
            "root_objects_written": len(report.root_written),
            "root_objects_deleted": len(report.root_deleted),
            "metacatalog_url": dg.MetadataValue.url(f"{base}/{archive_prefix(key)}{METACATALOG}"),
            "versions_json_url": dg.MetadataValue.url(f"{base}/{VERSIONS_JSON}"),
            **outcome_metadata(outcomes, {"rows": int}),
            "version_datastores": version_table(picture, list(BUILD_STAGES)),
        }
    )
