"""Per-datastore outcomes of each stage: run each datastore in isolation, record, and read back."""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mirror_assets.errors import MirrorError, one_line
from mirror_assets.files import write_json

log = logging.getLogger(__name__)

# The stages that record per-datastore outcomes, in pipeline order, and the asset that runs each:
# an asset's deps say which stages it follows (defs/assets/common.py), the CLI's progress and
# summary map steps to stages with it.
STAGE_ASSETS = {
    "fetch": "raw_catalog",
    "specs": "datastore_specs",
    "sidecars": "datastore_sidecars",
    "partitioned": "partitioned_datastores",
    "publish": "published_catalog",
}
STAGES = tuple(STAGE_ASSETS)
BUILD_STAGES = STAGES[:-1]

# Failures of the machine, not of a datastore: every other datastore would fail the same way.
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
# The same, wrapped in another error's message (DuckDB's IO errors, our one-line errors).
_ENVIRONMENT_TEXT = ("No space left on device", "Disk quota exceeded", "Read-only file system")


class StagingError(MirrorError):
    """The local working folder cannot be written (disk full, read-only, no permission)."""


@dataclass
class Outcome:
    """What one stage did to one datastore: metrics when it worked, file and cause when not.

    `fingerprint` identifies the inputs, code and settings an ok outcome was built from;
    `reused` marks an outcome carried over because that fingerprint had not changed;
    `reused_from` names the version whose build of the same fingerprint was linked instead;
    `from_archive` says that build was not linked but is taken from that version's archive (the
    staging folder holds no files of it; see store/archived_builds.py).
    """

    name: str
    ok: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    file: str = ""
    cause: str = ""
    fingerprint: str = ""
    reused: bool = False
    reused_from: str = ""
    from_archive: bool = False


def environment_failure(exc: BaseException) -> str | None:
    """The reason when `exc` is the machine's fault (disk full, unwritable), else None."""
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS:
        return exc.strerror or one_line(exc)
    text = str(exc)
    return next((t for t in _ENVIRONMENT_TEXT if t in text), None)


def staging_failure(exc: BaseException, stage: str, workdir: Path | str) -> StagingError | None:
    """`exc` as a StagingError naming the file that could not be written (or `workdir`), when it
    is the machine's fault; otherwise None."""
    reason = environment_failure(exc)
    if reason is None:
        return None
    # shutil reports the source as filename and the destination as filename2.
    written = getattr(exc, "filename2", None) or getattr(exc, "filename", None)
    return StagingError(str(written or workdir), f"{stage} stopped: {reason}")


def run_each(
    stage: str,
    names: Iterable[str],
    work: Callable[[str], dict[str, Any]],
    logger: logging.Logger | logging.LoggerAdapter = log,
    fingerprint: Callable[[str], str] | None = None,
    previous: dict[str, Outcome] | None = None,
    outputs_present: Callable[[str], bool] | None = None,
    workdir: Path | str = "",
    workers: int = 1,
    cost: Callable[[str], int] | None = None,
    reuse: Callable[[str, str], Outcome | None] | None = None,
    on_submit: Callable[[str], Callable[[], None]] | None = None,
) -> list[Outcome]:
    """Call `work(name)` for each datastore; a failure is recorded and the others carry on.

    With `fingerprint`, a datastore whose previous ok outcome has the same fingerprint and whose
    outputs are still present is not recomputed; else `reuse(name, fingerprint)` may link
    another version's build of the same fingerprint and return its outcome. A full disk or an
    unwritable staging folder stops the stage with StagingError: it is no datastore's fault.
    With `workers` > 1 that many datastores are worked on at once, the costliest (by `cost`)
    first. Outcomes come back in the order of `names`. `on_submit(name)` is called as each
    datastore is submitted, in that order, on the calling thread; the function it returns when
    the datastore is done (worked on, reused, skipped or failed).
    """

    def one(name: str, done: Callable[[], None] | None = None) -> Outcome:
        try:
            return attempt(name)
        finally:
            if done is not None:
                done()

    def attempt(name: str) -> Outcome:
        stamp = _safe_fingerprint(fingerprint, name) if fingerprint else ""
        before = (previous or {}).get(name)
        if (
            stamp
            and before is not None
            and before.ok
            and before.fingerprint == stamp
            and (outputs_present is None or outputs_present(name))
        ):
            logger.info("%s: %s unchanged, not recomputed", stage, name)
            return Outcome(
                name,
                True,
                before.metrics,
                fingerprint=stamp,
                reused=True,
                reused_from=before.reused_from,
            )
        try:
            reused = reuse(name, stamp) if stamp and reuse else None
            if reused is not None:
                logger.info(
                    "%s: %s reused from %s, not recomputed", stage, name, reused.reused_from
                )
                return reused
            metrics = work(name)
        except Exception as exc:  # noqa: BLE001 - isolation: any failure costs one datastore only
            stop = staging_failure(exc, stage, workdir or stage)
            if stop is not None:
                raise stop from exc
            if isinstance(exc, MirrorError):
                outcome = Outcome(name, False, file=exc.file, cause=exc.cause)
            else:
                outcome = Outcome(name, False, cause=f"{type(exc).__name__}: {one_line(exc)}")
            logger.warning("%s: %s failed: %s", stage, name, _describe(outcome))
            return outcome
        shown = ", ".join(f"{k}={v}" for k, v in metrics.items() if isinstance(v, int | str))
        logger.info("%s: %s ok (%s)", stage, name, shown)
        return Outcome(name, True, metrics, fingerprint=stamp)

    names = list(names)
    if workers <= 1:
        return [one(name, on_submit(name) if on_submit else None) for name in names]
    started = sorted(names, key=cost, reverse=True) if cost else names
    with ThreadPoolExecutor(workers, thread_name_prefix=stage) as pool:
        futures = {
            name: pool.submit(one, name, on_submit(name) if on_submit else None) for name in started
        }
        try:
            return [futures[name].result() for name in names]
        except StagingError:
            pool.shutdown(cancel_futures=True)
            raise


def _safe_fingerprint(fingerprint: Callable[[str], str], name: str) -> str:
    # No fingerprint (e.g. an input never digested) only means "recompute".
    try:
        return fingerprint(name)
    except (OSError, KeyError, ValueError):
        return ""


def _describe(outcome: Outcome) -> str:
    return f"{outcome.file}: {outcome.cause}" if outcome.file else outcome.cause


def save_outcomes(
    status_dir: Path, stage: str, outcomes: list[Outcome], scope: Collection[str] | None = None
) -> list[Outcome]:
    """Record a stage's outcomes; returns what is now recorded.

    With `scope` (a run limited to some datastores) the earlier outcomes of datastores outside it
    are kept; without it the new outcomes replace the stage's record.
    """
    kept = (
        []
        if scope is None
        else [o for o in load_outcomes(status_dir, stage) if o.name not in scope]
    )
    merged = sorted(kept + list(outcomes), key=lambda o: o.name)
    write_json(status_dir / f"{stage}.json", [asdict(o) for o in merged])
    return merged


def load_outcomes(status_dir: Path, stage: str) -> list[Outcome]:
    path = status_dir / f"{stage}.json"
    if not path.is_file():
        return []
    return [Outcome(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def outcomes_by_name(status_dir: Path, stage: str) -> dict[str, Outcome]:
    return {o.name: o for o in load_outcomes(status_dir, stage)}


def healthy_names(status_dir: Path, stages: Iterable[str]) -> list[str]:
    """Datastores that succeeded in every one of `stages`, sorted."""
    result: set[str] | None = None
    for stage in stages:
        ok = {o.name for o in load_outcomes(status_dir, stage) if o.ok}
        result = ok if result is None else result & ok
    return sorted(result or set())


def stage_names(
    status_dir: Path, upstream: Iterable[str], selected: Collection[str] | None
) -> list[str]:
    """The datastores a stage works on: healthy in every `upstream` stage, and only the
    `selected` ones when given."""
    names = healthy_names(status_dir, upstream)
    return names if selected is None else [n for n in names if n in selected]


@dataclass(frozen=True)
class DatastoreStatus:
    """One datastore across every stage: what each stage made of it, and the first failure."""

    name: str
    stages: dict[str, str]
    failed_stage: str = ""
    file: str = ""
    cause: str = ""
    rows: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failed_stage


def _state(outcome: Outcome) -> str:
    if not outcome.ok:
        return "failed"
    if outcome.reused:
        return "unchanged"
    return f"reused from {outcome.reused_from}" if outcome.reused_from else "ok"


def version_picture(
    status_dir: Path, stages: Iterable[str] = BUILD_STAGES
) -> list[DatastoreStatus]:
    """Every datastore any stage has seen, with its state per stage ("ok", "unchanged",
    "reused from <version>", "failed", or "" when a stage never took it because an earlier one
    failed)."""
    recorded = {stage: outcomes_by_name(status_dir, stage) for stage in stages}
    names = sorted({n for by_name in recorded.values() for n in by_name})
    picture = []
    for name in names:
        states: dict[str, str] = {}
        first_failure: tuple[str, Outcome] | None = None
        rows = None
        for stage, by_name in recorded.items():
            outcome = by_name.get(name)
            if outcome is None:
                states[stage] = ""
                continue
            states[stage] = _state(outcome)
            if not outcome.ok and first_failure is None:
                first_failure = (stage, outcome)
            if outcome.ok and isinstance(outcome.metrics.get("rows"), int):
                rows = outcome.metrics["rows"]
        if first_failure is None and not all(states.values()):
            # Not failed anywhere, yet a stage never took it: an earlier run's record is missing.
            missing = next(s for s, state in states.items() if not state)
            picture.append(
                DatastoreStatus(name, states, missing, "", "not processed by this stage", rows)
            )
            continue
        if first_failure is None:
            picture.append(DatastoreStatus(name, states, rows=rows))
            continue
        stage, outcome = first_failure
        picture.append(DatastoreStatus(name, states, stage, outcome.file, outcome.cause, rows))
    return picture


def run_stage(
    status_dir: Path,
    stage: str,
    upstream: list[str],
    selected: Collection[str] | None,
    work: Callable[[str], dict[str, Any]],
    logger: logging.Logger | logging.LoggerAdapter = log,
    fingerprint: Callable[[str], str] | None = None,
    outputs_present: Callable[[str], bool] | None = None,
    workers: int = 1,
    cost: Callable[[str], int] | None = None,
    reuse: Callable[[str, str], Outcome | None] | None = None,
    on_submit: Callable[[str], Callable[[], None]] | None = None,
) -> tuple[list[Outcome], list[Outcome]]:
    """Run `stage` over the datastores healthy in every `upstream` stage (only the `selected`
    ones when given), skipping unchanged ones; returns (this run's outcomes, the merged record).
    `workers`, `cost`, `reuse` and `on_submit` as for `run_each`."""
    names = stage_names(status_dir, upstream, selected)
    # The total a progress display counts the per-datastore lines against (cli/progress.py);
    # at DEBUG: the event log stores it, the console shows it only with -v.
    logger.debug("%s: %d datastore(s) to do", stage, len(names))
    outcomes = run_each(
        stage,
        names,
        work,
        logger,
        fingerprint=fingerprint,
        previous=outcomes_by_name(status_dir, stage),
        outputs_present=outputs_present,
        workdir=status_dir.parent,
        workers=workers,
        cost=cost,
        reuse=reuse,
        on_submit=on_submit,
    )
    return outcomes, save_outcomes(status_dir, stage, outcomes, selected)
