"""The code location: assets, job and resources, with the environment chosen from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from mirror_assets.config.settings import Settings, load_settings
from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.checks import mirror_checks
from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.resources import RunOptions, early_copies_resource, staging_resource
from mirror_assets.defs.sensors import build_new_versions_sensor
from mirror_assets.fetch.sources import open_source
from mirror_assets.store.destinations import object_store_for


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources, from `settings` or their parts as they are: the same source and store
    objects the commands without Dagster open (fetch/sources.py, store/destinations.py)."""
    return {
        "catalog_source": open_source(settings),
        "object_store": object_store_for(settings),
        "staging": staging_resource(settings),
        "mirror_settings": settings,
        "early_copies": early_copies_resource,
        # Run-scoped: a run's config (launchpad or mirror-catalog flags) overrides these.
        "run_options": RunOptions(allow_partial=settings.allow_partial),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=mirror_assets,
        asset_checks=mirror_checks,
        jobs=[mirror_catalog_job],
        sensors=[build_new_versions_sensor(**vars(settings.sensor))],
        resources=build_resources(settings),
        # A version's steps run one after another anyway (the `duckdb` pool serialises the
        # transforms and DuckDB uses every core inside a step): one process per run saves a
        # Python start-up per step and keeps a run's memory in one bounded process.
        executor=dg.in_process_executor,
    )


# Settings handed over by `mirror-catalog`, which loads this code location in its own process.
_handed_over: Settings | None = None


@contextmanager
def settings_handed_over(settings: Settings | None) -> Iterator[None]:
    """Within the block, `defs()` builds the code location from `settings` instead of loading
    them (None: it loads them): `mirror-catalog` parsed them from its flags once, and runs the
    job in this process (code_location.py). Process-wide, not per thread: Dagster may load the
    location on another thread."""
    global _handed_over
    previous, _handed_over = _handed_over, settings
    try:
        yield
    finally:
        _handed_over = previous


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, from the handed-over settings or else `load_settings()` (shipped
    config < $MIRROR_CONFIG < MIRROR_* variables), as `dg dev` and the daemon load it."""
    return build_definitions(_handed_over or load_settings())
