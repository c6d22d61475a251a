"""Run the mirror_catalog job (assets and checks) in-process on folders under tmp_path, and read
back what it left in the destination."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from mirror_assets.cli.run import run_options_config
from mirror_assets.config.settings import Settings, load_settings
from mirror_assets.definitions import build_definitions
from mirror_assets.defs.partitions import catalog_versions

VERSION_A = "v2025-01-29"
VERSION_B = "v2025-02-28"
# Every datastore of the sample's VERSION_B.
ALL_B = [
    "barpa_py18",
    "by473",
    "cmip5_al33",
    "cmip6_oi10",
    "cordex_ig45",
    "era5_rt52",
    "esmvaltool-obs-ct11",
]
BASE_URL = "https://objects.example/cat"


def settings_for(
    source: Path,
    dest: Path,
    staging: Path,
    partitions: dict[str, list[str]] | None = None,
    **overrides: Any,
) -> Settings:
    """The shipped settings on these folders; `partitions` adds to the partition table and
    `overrides` replaces top-level keys (e.g. `single_file_max_records=4`: the sample's
    datastores hold 5 to 7 rows, so by default every one is a single file)."""
    shipped = load_settings(environ={})
    return load_settings(
        overrides={
            "source": str(source),
            "dest": str(dest),
            "staging": str(staging),
            "public_base_url": BASE_URL,
            "partitions": {**shipped.partitions, **(partitions or {})},
            **overrides,
        },
        environ={},
    )


def run_job(
    settings: Settings,
    version: str,
    datastores: list[str] | None = None,
    allow_partial: bool | None = None,
    instance: dg.DagsterInstance | None = None,
    reuse: bool = True,
) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("mirror_catalog")
    instance = instance or dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(catalog_versions.name, [version])
    return job.execute_in_process(
        partition_key=version,
        instance=instance,
        raise_on_error=False,
        run_config=run_options_config(datastores, allow_partial, reuse),
    )


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    [event] = result.asset_materializations_for_node(asset)
    return {k: v.value for k, v in event.metadata.items()}


def table_rows(metadata: dict[str, Any], key: str = "datastores") -> dict[str, dict[str, Any]]:
    return {r.data["datastore"]: r.data for r in metadata[key].records}


def version_rows(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """The whole-version table published_catalog shows: datastore -> row."""
    return table_rows(metadata_of(result, "published_catalog"), "version_datastores")


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }


def step_failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        e.step_key: e.step_failure_data.error.message
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data and e.step_failure_data.error
    }


def root_snapshot(dest: Path) -> dict[str, str]:
    """What readers of the root see: every object outside versions/ and versions.json, by md5."""
    return {
        p.relative_to(dest).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(dest.rglob("*"))
        if p.is_file()
        and not p.name.startswith(".")
        and p.relative_to(dest).parts[0] not in ("versions", "versions.json")
    }


def versions_index(dest: Path) -> dict[str, Any]:
    return json.loads((dest / "versions.json").read_text())


def published_datastores(dest: Path, prefix: str = "") -> list[str]:
    """Datastores with a spec under `<prefix>source/`."""
    source = dest / prefix / "source"
    return sorted(
        p.name.removesuffix(".json")
        for p in source.glob("*.json")
        if not p.name.endswith("_metadata.json")
    )


def metacatalog_names(path: Path) -> list[str]:
    with duckdb.connect() as con:
        return [
            r[0] for r in con.execute("SELECT name FROM read_parquet(?)", [str(path)]).fetchall()
        ]


def log_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Every message the run logged (context.log lines included)."""
    return [entry.user_message for entry in instance.all_logs(run_id)]
