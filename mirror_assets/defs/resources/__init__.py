"""Resources for every outside edge, each with a local implementation for the embedded default."""

from mirror_assets.defs.resources.catalog_sources import CatalogSource, LocalCatalogSource
from mirror_assets.defs.resources.object_stores import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
)
from mirror_assets.defs.resources.staging import MirrorSettings, StagingArea

__all__ = [
    "CatalogSource",
    "LocalCatalogSource",
    "LocalObjectStore",
    "MirrorSettings",
    "ObjectStore",
    "S3ObjectStore",
    "StagingArea",
]
