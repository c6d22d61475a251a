"""Materialisation metadata: a per-datastore table a user can read in the UI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dagster as dg

from mirror_assets.lib.outcomes import Outcome

_TYPES = {int: "int", float: "float", str: "string"}


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def outcome_table(outcomes: list[Outcome], metric_types: dict[str, type]) -> dg.MetadataValue:
    """One row per datastore: name, status, the given metrics, and the cause of a failure."""
    columns = [
        dg.TableColumn("datastore", "string"),
        dg.TableColumn("status", "string"),
        *(dg.TableColumn(k, _TYPES.get(t, "string")) for k, t in metric_types.items()),
        dg.TableColumn("cause", "string"),
    ]
    records = [
        dg.TableRecord(
            {
                "datastore": o.name,
                "status": "ok" if o.ok else "failed",
                **{
                    k: _cell(o.metrics.get(k, None if t is int else ""))
                    for k, t in metric_types.items()
                },
                "cause": f"{o.file}: {o.cause}" if o.file else o.cause,
            }
        )
        for o in outcomes
    ]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def outcome_metadata(outcomes: list[Outcome], metric_types: dict[str, type]) -> dict[str, Any]:
    """Counts of ok/failed datastores, summed integer metrics, and the per-datastore table."""
    ok = [o for o in outcomes if o.ok]
    metadata: dict[str, Any] = {
        "datastores_ok": len(ok),
        "datastores_failed": len(outcomes) - len(ok),
        "datastores": outcome_table(outcomes, metric_types),
    }
    for key, kind in metric_types.items():
        if kind is int:
            metadata[f"total_{key}"] = sum(int(o.metrics.get(key) or 0) for o in ok)
    return metadata


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
