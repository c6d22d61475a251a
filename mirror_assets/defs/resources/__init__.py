"""Resources for every outside edge, each with a local implementation for the embedded default."""

from mirror_assets.defs.resources.catalog_sources import (
    CatalogSource,
    LocalCatalogSource,
    SftpCatalogSource,
)
from mirror_assets.defs.resources.object_stores import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
)
from mirror_assets.defs.resources.run_options import RunOptions
from mirror_assets.defs.resources.staging import MirrorSettings, StagingArea

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
