"""Materialisation metadata: a per-datastore table a user can read in the UI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dagster as dg

from mirror_assets.state.outcomes import DatastoreStatus, Outcome
from mirror_assets.store.manifest import archive_prefix
from mirror_assets.store.publish import PublishReport

_TYPES = {int: "int", float: "float", str: "string"}


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _cause(file: str, cause: str) -> str:
    return f"{file}: {cause}" if file else cause


def outcome_table(outcomes: list[Outcome], metric_types: dict[str, type]) -> dg.MetadataValue:
    """One row per datastore: name, status, whether it was reused unchanged, the given metrics,
    and the cause of a failure."""
    columns = [
        dg.TableColumn("datastore", "string"),
        dg.TableColumn("status", "string"),
        dg.TableColumn("unchanged", "bool", description="not recomputed: same inputs and code"),
        dg.TableColumn(
            "reused_from", "string", description="the version whose identical build was linked"
        ),
        *(dg.TableColumn(k, _TYPES.get(t, "string")) for k, t in metric_types.items()),
        dg.TableColumn("cause", "string"),
    ]
    records = [
        dg.TableRecord(
            {
                "datastore": o.name,
                "status": "ok" if o.ok else "failed",
                "unchanged": o.reused,
                "reused_from": o.reused_from,
                **{
                    k: _cell(o.metrics.get(k, None if t is int else ""))
                    for k, t in metric_types.items()
                },
                "cause": _cause(o.file, o.cause),
            }
        )
        for o in outcomes
    ]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def outcome_metadata(
    outcomes: list[Outcome],
    metric_types: dict[str, type],
    this_run: list[Outcome] | None = None,
) -> dict[str, Any]:
    """Counts of ok/failed/unchanged datastores, summed integer metrics, and the table.

    `outcomes` is the stage's whole record for the version; `this_run` (when a run was limited to
    some datastores) what this run did.
    """
    ok = [o for o in outcomes if o.ok]
    done = outcomes if this_run is None else this_run
    linked = [o for o in done if o.reused_from and not o.reused]
    metadata: dict[str, Any] = {
        "datastores_ok": len(ok),
        "datastores_failed": len(outcomes) - len(ok),
        "datastores_unchanged": sum(1 for o in done if o.reused),
        "datastores_reused": len(linked),
        # What the builds linked from other versions took there (their recorded seconds).
        "seconds_not_spent": round(sum(float(o.metrics.get("seconds") or 0) for o in linked), 3),
        "datastores_this_run": len(done),
        "datastores": outcome_table(outcomes, metric_types),
    }
    for key, kind in metric_types.items():
        if kind is int:
            metadata[f"total_{key}"] = sum(int(o.metrics.get(key) or 0) for o in ok)
    return metadata


def version_table(picture: list[DatastoreStatus], stages: list[str]) -> dg.MetadataValue:
    """The whole version: one row per datastore with its state in every stage and the first
    failure's stage, file and cause."""
    columns = [
        dg.TableColumn("datastore", "string"),
        dg.TableColumn("status", "string"),
        *(dg.TableColumn(stage, "string") for stage in stages),
        dg.TableColumn("rows", "int"),
        dg.TableColumn("failed_stage", "string"),
        dg.TableColumn("file", "string", description="the file the failure is about"),
        dg.TableColumn("cause", "string"),
    ]
    records = [
        dg.TableRecord(
            {
                "datastore": d.name,
                "status": "ok" if d.ok else "failed",
                **{stage: d.stages.get(stage, "") for stage in stages},
                "rows": d.rows,
                "failed_stage": d.failed_stage,
                "file": d.file,
                "cause": _cause(d.file, d.cause),
            }
        )
        for d in picture
    ]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def timed(work: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """`work(name)` with the wall time it took added to its metrics as `seconds`."""

    def run(name: str) -> dict[str, Any]:
        start = time.perf_counter()
        metrics = work(name)
        return {**metrics, "seconds": round(time.perf_counter() - start, 3)}

    return run


def duration_since(start: float) -> dg.MetadataValue:
    """Seconds since `start` (a `time.perf_counter()` reading), for a `duration_seconds` entry."""
    return dg.MetadataValue.float(round(time.perf_counter() - start, 3))


def reuse_table(report: PublishReport) -> dg.MetadataValue:
    """Per datastore whose objects were copied from other archived versions: those versions,
    the objects copied and the bytes not uploaded."""
    prefix = archive_prefix(report.version)
    rows: dict[str, tuple[set[str], int, int]] = {}
    for key, donor in report.copied.items():
        relative = key.removeprefix(prefix)
        name = relative.removeprefix("source/").split("/")[0]
        for suffix in ("_uniqs.parquet", "_metadata.json", ".parquet", ".json"):
            name = name.removesuffix(suffix)
        versions, objects, size = rows.get(name, (set(), 0, 0))
        versions.add(donor.removeprefix("versions/").split("/")[0])
        rows[name] = (versions, objects + 1, size + report.copied_sizes[key])
    columns = [
        dg.TableColumn("datastore", "string"),
        dg.TableColumn("reused_from", "string", description="the archived version(s) copied from"),
        dg.TableColumn("objects_copied", "int"),
        dg.TableColumn("bytes_not_uploaded", "int"),
    ]
    records = [
        dg.TableRecord(
            {
                "datastore": name,
                "reused_from": ", ".join(sorted(versions)),
                "objects_copied": objects,
                "bytes_not_uploaded": size,
            }
        )
        for name, (versions, objects, size) in sorted(rows.items())
    ]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))
