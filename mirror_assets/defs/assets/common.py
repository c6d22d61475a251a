"""Settings shared by every asset of the mirror.

Backfill policy: one run per catalog version, which is Dagster's behaviour for assets without a
`backfill_policy` (setting `BackfillPolicy.multi_run(1)` explicitly only adds a beta warning to
every import). Versions are independent and each is heavy (millions of rows per datastore, its
own staging folder and DuckDB spill), so a failure, retry or re-execution costs one version, the
run queue and pools (dagster.yaml) bound how many versions run at once, and the UI shows each
version's run with its partition. The assets read one `partition_key`, never a range.

code_version: bump an asset's value when its output would change for the same input (its
transforms/ code or the way it calls it); the UI then marks the versions materialised before as
stale.
"""

import dagster as dg

from mirror_assets.state.outcomes import STAGE_ASSETS, STAGES

GROUP = "catalog_mirror"
OWNERS = ["team:access-nri-catalog"]

_ASSET_STAGES = {asset: stage for stage, asset in STAGE_ASSETS.items()}


def stage_of(key: dg.AssetKey) -> str:
    """The stage whose per-datastore outcomes the asset `key` records."""
    return _ASSET_STAGES[key.to_user_string()]


def upstream_stages(context: dg.AssetExecutionContext) -> list[str]:
    """The stages the running asset follows, read from its deps: a datastore goes on only when
    it is healthy in every one of them."""
    deps = {key.to_user_string() for key in context.assets_def.asset_deps[context.asset_key]}
    return [stage for stage in STAGES if STAGE_ASSETS[stage] in deps]
