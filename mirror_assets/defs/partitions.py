import dagster as dg

catalog_versions = dg.DynamicPartitionsDefinition(name="catalog_version")

# The tag Dagster puts on every run of one partition: the run's catalog version.
PARTITION_TAG = "dagster/partition"
