import dagster as dg

from mirror_assets.defs.assets import mirror_assets

mirror_catalog_job = dg.define_asset_job(
    name="mirror_catalog",
    selection=dg.AssetSelection.assets(*mirror_assets),
    description="Fetch, reshape and publish one catalog version (one run per version).",
)
