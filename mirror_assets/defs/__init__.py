"""Dagster-facing definitions: partitions, resources, assets, checks, jobs and sensors."""
