"""Launch the `mirror_catalog` job for a version, or several in a row, and report what failed
(imports Dagster)."""

from __future__ import annotations

import gc
import os
import sys
import time

import dagster as dg

from mirror_assets.cli.args import DAGSTER_LOG_LEVELS
from mirror_assets.cli.output import print_table
from mirror_assets.cli.progress import RunProgress
from mirror_assets.cli.summary import (
    BUILD_ASSETS,
    HEADERS,
    NUMERIC,
    REUSE_HEADERS,
    failure_lines,
    reuse_rows,
    summary_rows,
)
from mirror_assets.code_location import execute_partition_run
from mirror_assets.config.settings import Settings
from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.partitions import PARTITION_TAG, catalog_versions
from mirror_assets.errors import MirrorError
from mirror_assets.state.staging import VersionStaging
from mirror_assets.state.version_lock import version_lock
from mirror_assets.state.versions import newest_first

# A run in one of these is queued or running (or was killed and never told the instance).
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _instance() -> dg.DagsterInstance:
    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    # Dagster, its storage and this package are imported now: their objects live as long as
    # the process, so the garbage collector stops walking them on every collection a run's
    # events trigger (and at exit), most of a second per run.
    gc.freeze()
    return instance


def run_options_config(
    datastores: list[str] | None = None, allow_partial: bool | None = None, reuse: bool = True
) -> dict:
    """The run config of the run-scoped `run_options` resource (empty: the defaults)."""
    config: dict = {}
    if datastores:
        config["datastores"] = list(datastores)
    if allow_partial is not None:
        config["allow_partial"] = allow_partial
    if not reuse:
        config["reuse"] = False
    return {"resources": {"run_options": {"config": config}}} if config else {}


def _unfinished_run(instance: dg.DagsterInstance, version: str) -> dg.DagsterRun | None:
    """A queued or running `mirror_catalog` run of `version` in the instance, if any."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=mirror_catalog_job.name,
            statuses=UNFINISHED,
            tags={PARTITION_TAG: version},
        ),
        limit=1,
    )
    return runs[0] if runs else None


def _print_failed_checks(result: dg.JobExecutionResult, warnings: bool = True) -> None:
    for event in result.all_events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            continue
        label = "FAILED" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "WARNING"
        if label == "WARNING" and not warnings:
            continue
        detail = (evaluation.description or "did not pass").strip().splitlines()[0]
        check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        print(f"{label} check {check}: {detail}", file=sys.stderr)


def _step_failure_message(event: dg.DagsterEvent) -> str:
    """The first line of the error that failed a step, without Dagster's wrapping."""
    error = event.step_failure_data.error if event.step_failure_data else None
    if error is None:
        return "step failed"
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    text = (error.message.strip().splitlines() or [error.cls_name])[0]
    prefix = f"{error.cls_name}: "
    return text[text.index(prefix) + len(prefix) :] if prefix in text else text


def _datastore_tables(
    result: dg.JobExecutionResult,
) -> tuple[list[dict] | None, dict[str, list[dict]], list[dict] | None]:
    """This run's per-datastore tables: `published_catalog`'s `version_datastores` (None if it
    did not materialise), each build stage's `datastores`, by stage name, and
    `published_catalog`'s `reused_from_other_versions`."""
    tables: dict[str, list[dict]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        for name, value in materialization.metadata.items():
            if isinstance(value, dg.TableMetadataValue):
                key = f"{materialization.asset_key.to_user_string()}.{name}"
                tables[key] = [dict(record.data) for record in value.records]
    stages = {
        stage: tables[f"{asset}.datastores"]
        for stage, asset in BUILD_ASSETS.items()
        if f"{asset}.datastores" in tables
    }
    return (
        tables.get("published_catalog.version_datastores"),
        stages,
        tables.get("published_catalog.reused_from_other_versions"),
    )


def print_summary(
    version_table: list[dict] | None,
    stage_tables: dict[str, list[dict]],
    copied: list[dict] | None,
    version: str,
) -> None:
    """The run's table: a row per datastore with its state, rows, bytes, seconds and failure;
    then, after an empty line, a row per datastore taken from another version."""
    rows = summary_rows(version_table, stage_tables)
    if rows:
        print_table(HEADERS, rows, right=NUMERIC, title=f"{version}:")
    reused = reuse_rows(stage_tables, copied)
    if reused:
        not_uploaded = sum(int(r[2]) for r in reused)
        not_spent = sum(float(r[3]) for r in reused)
        print()
        print_table(
            REUSE_HEADERS,
            reused,
            right=REUSE_HEADERS[2:],
            title=f"reused from other versions: {len(reused)} datastore(s), {not_uploaded} bytes "
            f"not uploaded, {not_spent:.2f} s not spent:",
        )


def progress_listener(progress: RunProgress):
    """Hands the run's step starts and ends and its log lines to `progress`."""

    def on_event(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            progress.log_line(entry.user_message)
        elif event.event_type == dg.DagsterEventType.STEP_START:
            progress.step_started(entry.step_key or "")
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            progress.step_finished(
                entry.step_key or "", event.event_type == dg.DagsterEventType.STEP_SUCCESS
            )

    return on_event


def run_version(
    settings: Settings,
    version: str,
    datastores: list[str] | None = None,
    allow_partial: bool | None = None,
    reuse: bool = True,
    verbosity: int = 0,
) -> int:
    """Materialise every asset of the job for `version`; returns the exit status.

    `datastores` limits the run to those datastores; `allow_partial` overrides the setting;
    `verbosity` (-1, 0, 1) sets what Dagster prints: errors, log lines, or every event. The
    run belongs to the code location's `mirror_catalog` job (the UI lists it there with its
    partition and can re-execute it); the code location is built from `settings`.
    """
    with _instance() as instance:
        return _run(instance, settings, version, datastores, allow_partial, reuse, verbosity)


def backfill_versions(
    settings: Settings,
    versions: list[str],
    allow_partial: bool | None = None,
    reuse: bool = True,
    verbosity: int = 0,
) -> int:
    """Each of `versions`, oldest first, as its own run of the job (one run per version, as a
    backfill from the UI launches them), in this process and one Dagster instance, so Python,
    Dagster and the instance start once. A version that fails does not stop the next ones (each
    reuses what the earlier ones built); the exit status is 1 if any failed."""
    done: list[tuple[str, int, float]] = []
    with _instance() as instance:
        for version in reversed(newest_first(versions)):
            start = time.perf_counter()
            try:
                status = _run(instance, settings, version, None, allow_partial, reuse, verbosity)
            except MirrorError as exc:  # its lock is held elsewhere: the other versions go on
                print(f"mirror-catalog: {exc}", file=sys.stderr)
                status = 1
            done.append((version, status, time.perf_counter() - start))
    if verbosity >= 0:
        rows = [[v, "ok" if s == 0 else "FAILED", f"{t:.1f}"] for v, s, t in done]
        print_table(["version", "result", "seconds"], rows, right={"seconds"}, title="backfill:")
    failed = [v for v, s, _ in done if s]
    if failed:
        print(
            f"mirror-catalog: backfill: {len(failed)} of {len(done)} version(s) failed: "
            + ", ".join(failed),
            file=sys.stderr,
        )
    return 1 if failed else 0


def _run(
    instance: dg.DagsterInstance,
    settings: Settings,
    version: str,
    datastores: list[str] | None,
    allow_partial: bool | None,
    reuse: bool,
    verbosity: int,
) -> int:
    """One run of the job for `version` in `instance`, its summary printed; the exit status."""
    # The staging lock guards against another process using this staging folder; the instance
    # knows of runs elsewhere (the daemon's queue, another staging folder). VersionLockHeld is a
    # MirrorError: main() prints it as one line.
    with (
        version_lock(VersionStaging.of(settings.staging, version).root, "mirror-catalog"),
        RunProgress(enabled=verbosity >= 0) as progress,
    ):
        other = _unfinished_run(instance, version)
        if other is not None:
            print(
                f"mirror-catalog: {version} is already in progress in the Dagster instance: run "
                f"{other.run_id} ({other.status.value}); wait for it to finish, or if its process "
                "is gone (a killed run stays STARTED) terminate it in the UI (Runs) or delete it: "
                f"dagster run delete -f {other.run_id}",
                file=sys.stderr,
            )
            return 1
        instance.add_dynamic_partitions(catalog_versions.name, [version])
        result = execute_partition_run(
            instance,
            mirror_catalog_job.name,
            version,
            run_config={
                **run_options_config(datastores, allow_partial, reuse),
                # Dagster's console logger prints every event at DEBUG by default; the events
                # are stored in the instance whatever this level is.
                "loggers": {"console": {"config": {"log_level": DAGSTER_LOG_LEVELS[verbosity]}}},
            },
            on_event=progress_listener(progress),
            settings=settings,
        )
    version_table, stage_tables, copied = _datastore_tables(result)
    if verbosity >= 0:
        print_summary(version_table, stage_tables, copied, version)
    # From the run's own materialisations (the stages' records, as the UI shows them).
    failed = failure_lines(version_table, stage_tables)
    for line in failed:
        print(line, file=sys.stderr)
    _print_failed_checks(result, warnings=verbosity >= 0)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"FAILED step {event.step_key}: {_step_failure_message(event)}",
                    file=sys.stderr,
                )
        return 1
    return 1 if failed else 0
