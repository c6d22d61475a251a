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
    S3ObjectStore,
    StagingArea,
)
from mirror_assets.lib.s3_bucket import is_s3_url, parse_s3_url
from mirror_assets.lib.settings import Settings, load_settings


def catalog_source_for(settings: Settings) -> CatalogSource:
    return LocalCatalogSource(root=str(Path(settings.source_location).resolve()))


def object_store_for(settings: Settings) -> ObjectStore:
    if is_s3_url(settings.dest):
        bucket, prefix = parse_s3_url(settings.dest)
        s3 = settings.s3
        return S3ObjectStore(
            bucket_name=bucket,
            prefix=prefix,
            endpoint_url=s3.endpoint_url,
            region=s3.region,
            concurrency=s3.concurrency,
            multipart_threshold_mib=s3.multipart_threshold_mib,
            part_size_mib=s3.part_size_mib,
            max_attempts=s3.max_attempts,
            dry_run=settings.dry_run,
        )
    return LocalObjectStore(root=str(Path(settings.dest).resolve()), dry_run=settings.dry_run)


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
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
