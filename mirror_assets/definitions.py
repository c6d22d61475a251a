"""The code location: assets, job and resources, with the environment chosen from settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.checks import mirror_checks
from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.resources import (
    CatalogSource,
    LocalCatalogSource,
    LocalObjectStore,
    MirrorSettings,
    ObjectStore,
    RunOptions,
    StagingArea,
)
from mirror_assets.lib.settings import Settings, load_settings


def catalog_source_for(settings: Settings) -> CatalogSource:
    return LocalCatalogSource(root=str(Path(settings.source_location).resolve()))


def object_store_for(settings: Settings) -> ObjectStore:
    return LocalObjectStore(root=str(Path(settings.dest).resolve()))


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "catalog_source": catalog_source_for(settings),
        "object_store": object_store_for(settings),
        "staging": StagingArea(
            root=str(Path(settings.staging).resolve()),
            duckdb_memory_limit=settings.duckdb_memory_limit,
            duckdb_threads=settings.duckdb_threads,
        ),
        "mirror_settings": MirrorSettings(
            public_base_url=settings.public_base_url,
            row_group_size=settings.row_group_size,
            sort_column_count=settings.sort_column_count,
            partitions=settings.partitions,
        ),
        # Run-scoped: a run's config (launchpad or mirror-catalog flags) overrides these.
        "run_options": RunOptions(allow_partial=settings.allow_partial),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=mirror_assets,
        asset_checks=mirror_checks,
        jobs=[mirror_catalog_job],
        resources=build_resources(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
