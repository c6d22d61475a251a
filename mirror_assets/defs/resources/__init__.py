"""Resources for every outside edge, each built from the one Settings (definitions.py).

Only `run_options` is a ConfigurableResource, set per run; the others are plain objects built from
the settings or their parts (assets take them as `dg.ResourceParam[...]`), so no field is
declared twice: `catalog_source` (fetch/sources.py), `object_store` (store/destinations.py),
`staging` (a StagingArea holding its version's lock during a run), `mirror_settings` (Settings),
`early_copies` (a run's copies of reused builds, from the sidecars step to the publish).
"""

from mirror_assets.defs.resources.early_copies import RunEarlyCopies, early_copies_resource
from mirror_assets.defs.resources.run_options import RunOptions
from mirror_assets.defs.resources.staging import StagingArea, staging_resource
from mirror_assets.fetch.sources import CatalogSource
from mirror_assets.store.destinations import ObjectStore

__all__ = [
    "CatalogSource",
    "ObjectStore",
    "RunEarlyCopies",
    "RunOptions",
    "StagingArea",
    "early_copies_resource",
    "staging_resource",
]
