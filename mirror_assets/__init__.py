"""mirror-assets: mirror ACCESS-NRI intake catalog versions to object storage with Dagster."""
