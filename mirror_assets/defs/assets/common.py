"""Settings shared by every asset of the mirror."""

GROUP = "catalog_mirror"
OWNERS = ["team:access-nri-catalog"]
