"""Discover new catalog versions at the source: new partitions, and a run for each."""

from __future__ import annotations

import json

import dagster as dg

from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.resources import CatalogSource
from mirror_assets.state.versions import parse_version


def _seen(cursor: str | None) -> set[str]:
    return set(json.loads(cursor)) if cursor else set()


def build_new_versions_sensor(
    enabled: bool = False, interval_seconds: int = 300, run_hidden: bool = False
) -> dg.SensorDefinition:
    """The `new_catalog_versions` sensor; `enabled` sets whether it starts running."""

    @dg.sensor(
        name="new_catalog_versions",
        job=mirror_catalog_job,
        minimum_interval_seconds=interval_seconds,
        default_status=(
            dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED
        ),
    )
    def new_catalog_versions(
        context: dg.SensorEvaluationContext, catalog_source: dg.ResourceParam[CatalogSource]
    ) -> dg.SensorResult:
        """Lists versions at the catalog source, registers new ones as `catalog_version`
        partitions and requests a `mirror_catalog` run for each new non-hidden one.
        """
        seen = _seen(context.cursor)
        listed = catalog_source.list_versions()
        registered = set(context.instance.get_dynamic_partitions(catalog_versions.name))
        # Oldest first, so the newest version's run is the last to publish and stays current.
        new = [v for v in reversed(listed) if v not in seen and v not in registered]
        cursor = json.dumps(sorted(seen | set(listed)))
        if not new:
            return dg.SensorResult(
                skip_reason=f"no new version at {catalog_source.describe()}", cursor=cursor
            )
        runs = [
            dg.RunRequest(run_key=v, partition_key=v)
            for v in new
            if run_hidden or not parse_version(v).hidden
        ]
        context.log.info(f"new catalog versions: {', '.join(new)}; runs requested: {len(runs)}")
        return dg.SensorResult(
            run_requests=runs,
            dynamic_partitions_requests=[catalog_versions.build_add_request(new)],
            cursor=cursor,
        )

    return new_catalog_versions
