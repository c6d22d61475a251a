import time

import dagster as dg

from mirror_assets.defs.assets.common import GROUP, OWNERS
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.metadata import duration_since, outcome_metadata
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import MirrorSettings, StagingArea
from mirror_assets.lib.outcomes import healthy_names, run_each, save_outcomes
from mirror_assets.lib.specs import public_catalog_url, rewrite_spec


@dg.asset(
    partitions_def=catalog_versions,
    deps=[raw_catalog],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"json"},
    code_version="1",
)
def datastore_specs(
    context: dg.AssetExecutionContext, staging: StagingArea, mirror_settings: MirrorSettings
) -> dg.MaterializeResult:
    """Each esm-datastore's ESM collection JSON with catalog_file set to its public parquet URL."""
    start = time.perf_counter()
    version = staging.version(context.partition_key)

    def rewrite(name: str) -> dict:
        url = public_catalog_url(mirror_settings.public_base_url, name)
        rewrite_spec(version.raw_file(name, ".json"), version.built_spec(name), url)
        return {"catalog_file": url}

    outcomes = run_each("specs", healthy_names(version.status, ["fetch"]), rewrite, context.log)
    save_outcomes(version.status, "specs", outcomes)
    return dg.MaterializeResult(
        metadata={
            **outcome_metadata(outcomes, {"catalog_file": str}),
            "duration_seconds": duration_since(start),
        }
    )
