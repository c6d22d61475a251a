import time

import dagster as dg

from mirror_assets.config.settings import Settings
from mirror_assets.defs.assets.common import GROUP, OWNERS, stage_of, upstream_stages
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.metadata import duration_since, outcome_metadata
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import RunOptions, StagingArea
from mirror_assets.defs.retries import stop_on_full_disk
from mirror_assets.state.digests import build_fingerprint, load_input_digests
from mirror_assets.state.outcomes import run_stage
from mirror_assets.store.archived_builds import taken_from_archive
from mirror_assets.transforms.specs import built_catalog_url, public_catalog_url, rewrite_spec

CODE_VERSION = "2"


@dg.asset(
    partitions_def=catalog_versions,
    deps=[raw_catalog, partitioned_datastores],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"json"},
    code_version=CODE_VERSION,
)
def datastore_specs(
    context: dg.AssetExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    mirror_settings: dg.ResourceParam[Settings],
    run_options: RunOptions,
) -> dg.MaterializeResult:
    """Each esm-datastore's ESM collection JSON with catalog_file set to its public parquet URL:
    `.../source/<name>.parquet`, ending in `/` when the datastore was written as a hive folder
    (so it follows partitioned_datastores)."""
    start = time.perf_counter()
    stage = stage_of(context.asset_key)
    version = staging.version(context.partition_key)
    digests = load_input_digests(version.status)
    # Datastores taken from an archived build: their layout is that build's, not a local file's.
    archived = taken_from_archive(version.status)

    def url(name: str) -> str:
        base = mirror_settings.public_base_url
        if name in archived:
            return public_catalog_url(base, name, folder=archived[name].is_folder)
        return built_catalog_url(base, version.built_datastore(name))

    def rewrite(name: str) -> dict:
        rewrite_spec(version.raw_file(name, ".json"), version.built_spec(name), url(name))
        return {"catalog_file": url(name)}

    def fingerprint(name: str) -> str:
        return build_fingerprint(
            digests, [f"source/{name}.json"], stage, CODE_VERSION, {"catalog_file": url(name)}
        )

    with stop_on_full_disk(stage, version.root):
        this_run, recorded = run_stage(
            version.status,
            stage,
            upstream_stages(context),
            run_options.scope().selected,
            rewrite,
            context.log,
            fingerprint=fingerprint,
            outputs_present=lambda name: version.built_spec(name).is_file(),
        )
    return dg.MaterializeResult(
        metadata={
            **outcome_metadata(recorded, {"catalog_file": str}, this_run=this_run),
            "duration_seconds": duration_since(start),
        }
    )
