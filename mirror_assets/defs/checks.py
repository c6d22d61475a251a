"""Asset checks: invariants of each version, verified from the files themselves.

The checks on metacatalog, datastore_sidecars and partitioned_datastores are blocking: in a run,
published_catalog waits for them and does not run when one fails, so nothing they catch is
published or promoted. The pairing, partition column and empty datastore checks only warn: real
metacatalogs name datastores that live in other projects' catalogs, upstream renames columns,
and an experiment whose output is not there yet has an empty datastore.
"""

import dagster as dg

from mirror_assets.config.settings import Settings
from mirror_assets.defs.assets.common import stage_of
from mirror_assets.defs.assets.metacatalog import metacatalog
from mirror_assets.defs.assets.partitioned import partitioned_datastores
from mirror_assets.defs.assets.published import published_catalog
from mirror_assets.defs.assets.sidecars import datastore_sidecars
from mirror_assets.defs.resources import ObjectStore, StagingArea
from mirror_assets.errors import MirrorError
from mirror_assets.state.outcomes import healthy_names, load_outcomes
from mirror_assets.state.staging import METACATALOG, VersionStaging
from mirror_assets.store.invariants import (
    built_layout_problems,
    catalog_file_problems,
    duplicate_names,
    empty_datastores,
    metacatalog_names,
    published_spec_keys,
    rows_preserved,
    sidecars_match_rows,
    source_layout,
    unpaired_names,
)
from mirror_assets.store.publish import read_versions_index
from mirror_assets.transforms.layout import DatastoreLayout

# At most this many problems are listed in a check's description; metadata counts them all.
SHOWN = 10


def _result(
    problems: list[str],
    checked: int,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **metadata: str,
) -> dg.AssetCheckResult:
    """Passed when there are no problems; the first few problems as the description."""
    shown = "\n".join(problems[:SHOWN])
    more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return dg.AssetCheckResult(
        passed=not problems,
        severity=severity,
        description=(shown + more) if problems else None,
        metadata={"checked": checked, "problems": len(problems), **metadata},
    )


def _checked(
    context: dg.AssetCheckExecutionContext, staging: StagingArea
) -> tuple[VersionStaging, list[str]]:
    """The version checked, and its datastores healthy in the stage of the checked asset."""
    version = staging.version(context.partition_key)
    stage = stage_of(context.check_specs[0].asset_key)
    return version, healthy_names(version.status, [stage])


@dg.asset_check(asset=partitioned_datastores, blocking=True)
def rows_preserved_per_datastore(
    context: dg.AssetCheckExecutionContext, staging: dg.ResourceParam[StagingArea]
) -> dg.AssetCheckResult:
    """Each partitioned output holds exactly as many rows as its source datastore."""
    version, names = _checked(context, staging)
    with staging.duckdb(context.partition_key) as con:
        return _result(rows_preserved(con, version, names), len(names))


def _source_layouts(
    context: dg.AssetCheckExecutionContext, staging: StagingArea, mirror_settings: Settings
) -> tuple[dict[str, DatastoreLayout], list[str]]:
    """The layout each partitioned datastore must have, decided again from its fetched parquet;
    and a problem for each one that cannot be read."""
    version, names = _checked(context, staging)
    layouts: dict[str, DatastoreLayout] = {}
    problems: list[str] = []
    with staging.duckdb(context.partition_key) as con:
        for name in names:
            try:
                layouts[name] = source_layout(
                    con,
                    version.raw_file(name, ".parquet"),
                    mirror_settings.partition_columns(name),
                    mirror_settings.single_file_max_records,
                )
            except MirrorError as exc:
                problems.append(str(exc))
    return layouts, problems


@dg.asset_check(asset=partitioned_datastores, blocking=True)
def partition_layout_matches(
    context: dg.AssetCheckExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    mirror_settings: dg.ResourceParam[Settings],
) -> dg.AssetCheckResult:
    """Each datastore is written as its layout says: a hive folder by exactly the partition
    table's columns it has when it holds more than single_file_max_records rows, otherwise a
    single file."""
    version = staging.version(context.partition_key)
    layouts, problems = _source_layouts(context, staging, mirror_settings)
    problems += [
        problem
        for name, layout in layouts.items()
        for problem in built_layout_problems(version, name, layout.partition_columns)
    ]
    return _result(problems, len(layouts))


@dg.asset_check(asset=partitioned_datastores)
def partition_columns_present(
    context: dg.AssetCheckExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    mirror_settings: dg.ResourceParam[Settings],
) -> dg.AssetCheckResult:
    """Every column the partition table names for a datastore is in it. A warning: a datastore
    that lacks one is partitioned by the others it has (upstream renames columns)."""
    version = staging.version(context.partition_key)
    layouts, _ = _source_layouts(context, staging, mirror_settings)
    lacking = {name: layout for name, layout in layouts.items() if layout.missing_columns}
    problems = [
        f"{version.raw_file(name, '.parquet')}: partition column(s) "
        f"{', '.join(layout.missing_columns)} not in the datastore; partitioned by "
        f"{', '.join(layout.partition_columns) or 'nothing (one file)'}"
        for name, layout in lacking.items()
    ]
    return _result(
        problems,
        len(layouts),
        dg.AssetCheckSeverity.WARN,
        missing_partition_columns="; ".join(
            f"{name}: {', '.join(layout.missing_columns)}" for name, layout in lacking.items()
        ),
    )


@dg.asset_check(asset=datastore_sidecars, blocking=True)
def sidecar_num_records_match_rows(
    context: dg.AssetCheckExecutionContext, staging: dg.ResourceParam[StagingArea]
) -> dg.AssetCheckResult:
    """`_uniqs.parquet` num_records and `_metadata.json` num_records equal the source's rows."""
    version, names = _checked(context, staging)
    with staging.duckdb(context.partition_key) as con:
        return _result(sidecars_match_rows(con, version, names), len(names))


@dg.asset_check(asset=datastore_sidecars)
def datastores_not_empty(
    context: dg.AssetCheckExecutionContext, staging: dg.ResourceParam[StagingArea]
) -> dg.AssetCheckResult:
    """Every datastore holds rows. A warning: an experiment whose output is not there yet has an
    empty datastore, published with empty uniqs and a null project_id."""
    version, names = _checked(context, staging)
    with staging.duckdb(context.partition_key) as con:
        empty = empty_datastores(con, version, names)
    problems = [f"{version.raw_file(n, '.parquet')}: no rows (published empty)" for n in empty]
    return _result(
        problems, len(names), dg.AssetCheckSeverity.WARN, empty_datastores=", ".join(empty)
    )


def _metacatalog_names(
    context: dg.AssetCheckExecutionContext, staging: StagingArea
) -> tuple[VersionStaging, list[str]]:
    """The version checked, and the names in its restructured metacatalog."""
    version = staging.version(context.partition_key)
    with staging.duckdb(context.partition_key) as con:
        return version, metacatalog_names(con, version.build / METACATALOG)


@dg.asset_check(asset=metacatalog, blocking=True)
def metacatalog_names_unique(
    context: dg.AssetCheckExecutionContext, staging: dg.ResourceParam[StagingArea]
) -> dg.AssetCheckResult:
    """The restructured metacatalog has one row per name."""
    _, names = _metacatalog_names(context, staging)
    dupes = duplicate_names(names)
    return _result([f"{METACATALOG}: name {n!r} appears more than once" for n in dupes], len(names))


@dg.asset_check(asset=metacatalog)
def metacatalog_matches_datastores(
    context: dg.AssetCheckExecutionContext, staging: dg.ResourceParam[StagingArea]
) -> dg.AssetCheckResult:
    """Every metacatalog name has a datastore pair in source/, and every pair a metacatalog entry.

    A warning only: some entries point at datastores outside the version (another project's
    catalog), and those are published as they are.
    """
    version, names = _metacatalog_names(context, staging)
    # The datastores at the source, fetched or not (a limited run fetches only its own).
    datastores = version.source_datastores()
    if datastores is None:
        datastores = sorted({o.name for o in load_outcomes(version.status, "fetch")})
    no_pair, no_entry = unpaired_names(names, datastores)
    problems = [f"{METACATALOG}: {n} has no datastore pair in source/" for n in no_pair]
    problems += [f"source/{n}.parquet: no metacatalog entry for {n}" for n in no_entry]
    return _result(
        problems,
        len(names),
        dg.AssetCheckSeverity.WARN,
        names_without_datastore=", ".join(no_pair),
        datastores_without_entry=", ".join(no_entry),
    )


@dg.asset_check(asset=published_catalog)
def catalog_files_exist(
    context: dg.AssetCheckExecutionContext,
    staging: dg.ResourceParam[StagingArea],
    object_store: dg.ResourceParam[ObjectStore],
    mirror_settings: dg.ResourceParam[Settings],
) -> dg.AssetCheckResult:
    """Every published spec's catalog_file points at an object that exists in the store: in the
    version's archive, and at the root when the version is current."""
    key = context.partition_key
    version, names = _checked(context, staging)
    bucket = object_store.bucket()
    current = read_versions_index(bucket).get("current") == key
    spec_keys = published_spec_keys(key, names, at_root=current)
    problems = catalog_file_problems(
        bucket, mirror_settings.public_base_url, spec_keys, version.build / "source"
    )
    return _result(problems, len(spec_keys))


mirror_checks = [
    rows_preserved_per_datastore,
    partition_layout_matches,
    partition_columns_present,
    sidecar_num_records_match_rows,
    datastores_not_empty,
    metacatalog_names_unique,
    metacatalog_matches_datastores,
    catalog_files_exist,
]
