from mirror_assets.defs.assets.metacatalog import metacatalog
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.published import published_catalog
from mirror_assets.defs.assets.raw import raw_catalog
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.assets.specs import datastore_specs

mirror_assets = [
    raw_catalog,
    metacatalog,
    datastore_specs,
    datastore_sidecars,
    partitioned_datastores,
    published_catalog,
]
