"""The staging folder: versions, per-datastore outcomes, input digests, reuse, locks. No Dagster."""
