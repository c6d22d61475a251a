import dagster as dg

from mirror_assets.defs.assets import mirror_assets

mirror_catalog_job = dg.define_asset_job(
    name="mirror_catalog",
    selection=dg.AssetSelection.assets(*mirror_assets),
    description="Fetch, reshape and publish one catalog version (one run per version).",
    # A version's steps run one after another anyway (the `duckdb` pool serialises the
    # transforms and DuckDB uses every core inside a step), so one process per run saves a
    # Python start-up per step and keeps the run's memory in one bounded process.
    executor_def=dg.in_process_executor,
)
