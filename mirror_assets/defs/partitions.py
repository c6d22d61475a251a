import dagster as dg

catalog_versions = dg.DynamicPartitionsDefinition(name="catalog_version")
