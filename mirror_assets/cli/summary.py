"""The tables `mirror-catalog run` ends with: one row per datastore, from the run's own events,
and one per datastore taken from another version.

Built from the per-datastore tables the run's materialisations carry (`published_catalog`'s
`version_datastores`, each stage's `datastores`), handed over as plain records, so nothing here
imports Dagster or reads the staging folder's `status/` files.

States: `ok` built and published; `unchanged` not rebuilt (same inputs and code); `reused` linked
from another version's identical build; `archived` not built in this run, kept as the archive has
it; `failed` a stage failed (the stage, file and cause are given); `missing` neither built nor
archived; `not published` the run stopped before the publish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mirror_assets.state.outcomes import BUILD_STAGES, STAGE_ASSETS

HEADERS = ("datastore", "state", "rows", "bytes", "seconds", "stage", "file", "cause")
NUMERIC = {"rows", "bytes", "seconds"}

# The build stages' assets, whose `datastores` tables have a row per datastore.
BUILD_ASSETS = {stage: STAGE_ASSETS[stage] for stage in BUILD_STAGES}
REBUILT_BY = ("specs", "sidecars", "partitioned")

Record = Mapping[str, Any]


def datastore_state(stages: Mapping[str, Any], status: str) -> str:
    """The datastore's state for the run, from its state in each stage (as `version_datastores`
    records them: ok, unchanged, reused from <v>, failed, archived, missing, or empty)."""
    build = [str(stages.get(s) or "") for s in REBUILT_BY]
    publish = str(stages.get("publish") or "")
    if "failed" in build or stages.get("fetch") == "failed":
        return "failed"
    if publish in ("missing", "archived"):
        return publish
    if status == "failed" or publish == "failed":
        return "failed"
    if any(s.startswith("reused") for s in build):
        return "reused"
    if build and all(s == "unchanged" for s in build):
        return "unchanged"
    return "ok"


def _seconds(name: str, stage_tables: Mapping[str, Sequence[Record]]) -> float | None:
    """The seconds this run spent building `name` (stages it did not redo count nothing)."""
    spent = [
        r.get("seconds")
        for records in stage_tables.values()
        for r in records
        if r.get("datastore") == name and not r.get("unchanged") and not r.get("reused_from")
    ]
    # A stage that failed records no time: its cell is empty.
    spent = [float(s) for s in spent if isinstance(s, int | float)]
    return round(sum(spent), 2) if spent else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def summary_rows(
    version_table: Sequence[Record] | None, stage_tables: Mapping[str, Sequence[Record]]
) -> list[tuple[str, ...]]:
    """The rows (HEADERS order, as text): from `version_table` (`published_catalog`'s
    `version_datastores`) when the run published, else from the stage tables (by stage name)."""
    by_stage = {
        stage: {r["datastore"]: r for r in records} for stage, records in stage_tables.items()
    }
    partitioned = by_stage.get("partitioned", {})
    if version_table is not None:
        picture = [
            {
                "name": r["datastore"],
                "state": datastore_state(r, str(r.get("status"))),
                "rows": r.get("rows"),
                "stage": r.get("failed_stage") or "",
                "file": r.get("file") or "",
                "cause": r.get("cause") or "",
            }
            for r in version_table
        ]
    else:
        picture = []
        for name in sorted({n for records in by_stage.values() for n in records}):
            failed = [(s, by_stage[s][name]) for s in BUILD_ASSETS if name in by_stage.get(s, {})]
            failed = [(s, r) for s, r in failed if r.get("status") == "failed"]
            stage, record = failed[0] if failed else ("", {})
            picture.append(
                {
                    "name": name,
                    "state": "failed" if failed else "not published",
                    "rows": partitioned.get(name, {}).get("rows"),
                    "stage": stage,
                    "file": "",
                    "cause": record.get("cause") or "",
                }
            )
    rows = []
    for d in picture:
        cause = str(d["cause"])
        if d["file"]:
            cause = cause.removeprefix(f"{d['file']}: ")
        # An archived datastore's stage records are an earlier run's: this one spent nothing.
        built = d["state"] not in ("archived", "missing")
        seconds = _seconds(d["name"], stage_tables) if built else None
        rows.append(
            (
                d["name"],
                d["state"],
                _text(d["rows"]),
                _text(partitioned.get(d["name"], {}).get("bytes")),
                "" if seconds is None else f"{seconds:.2f}",
                d["stage"] if d["state"] in ("failed", "missing") else "",
                str(d["file"]),
                cause,
            )
        )
    return rows


REUSE_HEADERS = ("datastore", "reused from", "bytes not uploaded", "seconds not spent")


def reuse_rows(
    stage_tables: Mapping[str, Sequence[Record]], copied: Sequence[Record] | None
) -> list[tuple[str, ...]]:
    """A row (REUSE_HEADERS order, as text) per datastore this run took from another version:
    the build stages' records of a build reused from there (its seconds are what it took there,
    not spent here), and `copied` (`published_catalog`'s `reused_from_other_versions`: the
    objects copied server-side instead of uploaded)."""
    donors: dict[str, set[str]] = {}
    seconds: dict[str, float] = {}
    for records in stage_tables.values():
        for r in records:
            if not r.get("reused_from") or r.get("unchanged"):
                continue
            name = str(r["datastore"])
            donors.setdefault(name, set()).add(str(r["reused_from"]))
            if isinstance(r.get("seconds"), int | float):
                seconds[name] = seconds.get(name, 0.0) + float(r["seconds"])
    not_uploaded: dict[str, int] = {}
    for r in copied or []:
        name = str(r["datastore"])
        not_uploaded[name] = int(r.get("bytes_not_uploaded") or 0)
        donors.setdefault(name, set()).update(str(r["reused_from"]).split(", "))
    return [
        (name, ", ".join(sorted(versions)), str(not_uploaded.get(name, 0)),
         f"{seconds.get(name, 0.0):.2f}")
        for name, versions in sorted(donors.items())
    ]  # fmt: skip


def failure_lines(
    version_table: Sequence[Record] | None, stage_tables: Mapping[str, Sequence[Record]]
) -> list[str]:
    """`FAILED <name> (<stage>): <file>: <cause>` for each datastore that failed: its first
    failure from `version_table` when the run published, else every failure the build stages'
    tables hold, in stage order."""
    if version_table is not None:
        failed = [(r["datastore"], r["failed_stage"], r["cause"]) for r in version_table]
    else:
        failed = [
            (r["datastore"], stage, r["cause"] if r.get("status") == "failed" else "")
            for stage in BUILD_STAGES
            for r in stage_tables.get(stage, [])
        ]
    return [f"FAILED {name} ({stage}): {cause}" for name, stage, cause in failed if stage and cause]
