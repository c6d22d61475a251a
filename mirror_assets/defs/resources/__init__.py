"""Resources for every outside edge, each with a local implementation for the embedded default."""

from mirror_assets.defs.resources.catalog_sources import (
    CatalogSource,
    LocalCatalogSource,
    SftpCatalogSource,
)
from mirror_assets.defs.resources.run_options import RunOptions
from mirror_assets.defs.resources.staging import MirrorSettings, StagingArea
from mirror_assets.store.destinations import LocalObjectStore, ObjectStore, S3ObjectStore

__all__ = [
    "CatalogSource",
    "LocalCatalogSource",
    "LocalObjectStore",
    "MirrorSettings",
    "ObjectStore",
    "RunOptions",
    "S3ObjectStore",
    "SftpCatalogSource",
    "StagingArea",
]
