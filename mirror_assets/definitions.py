"""The code location: assets, job and resources, with the environment chosen from settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.resources import (
    CatalogSource,
    LocalCatalogSource,
    LocalObjectStore,
    MirrorSettings,
    ObjectStore,
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
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=mirror_assets,
        jobs=[mirror_catalog_job],
        resources=build_resources(settings),
        # A version's steps run one after another anyway (the `duckdb` pool serialises the
        # transforms and DuckDB uses every core inside a step): one process per run saves a
        # Python start-up per step and keeps a run's memory in one bounded process.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
