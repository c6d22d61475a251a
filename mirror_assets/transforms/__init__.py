"""DuckDB over local paths: the datastore and metacatalog rewrites. No Dagster."""
