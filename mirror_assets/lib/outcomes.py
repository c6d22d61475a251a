"""Per-datastore outcomes of each stage: run each datastore in isolation, record, and read back."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mirror_assets.lib.errors import MirrorError, one_line
from mirror_assets.lib.files import write_json

log = logging.getLogger(__name__)

# Stages that record per-datastore outcomes, in pipeline order.
STAGES = ("fetch", "specs", "sidecars", "partitioned", "publish")


@dataclass
class Outcome:
    """What one stage did to one datastore: metrics when it worked, file and cause when not."""

    name: str
    ok: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    file: str = ""
    cause: str = ""


def run_each(
    stage: str,
    names: Iterable[str],
    work: Callable[[str], dict[str, Any]],
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> list[Outcome]:
    """Call `work(name)` for each datastore; a failure is recorded and the others carry on."""
    outcomes = []
    for name in names:
        try:
            metrics = work(name)
        except MirrorError as exc:
            outcomes.append(Outcome(name, False, file=exc.file, cause=exc.cause))
            logger.warning("%s: %s failed: %s", stage, name, exc)
            continue
        except Exception as exc:  # noqa: BLE001 - isolation: any failure costs one datastore only
            outcomes.append(Outcome(name, False, cause=f"{type(exc).__name__}: {one_line(exc)}"))
            logger.warning("%s: %s failed: %s: %s", stage, name, type(exc).__name__, one_line(exc))
            continue
        outcomes.append(Outcome(name, True, metrics))
        shown = ", ".join(f"{k}={v}" for k, v in metrics.items() if isinstance(v, int | str))
        logger.info("%s: %s ok (%s)", stage, name, shown)
    return outcomes


def save_outcomes(status_dir: Path, stage: str, outcomes: list[Outcome]) -> None:
    write_json(status_dir / f"{stage}.json", [asdict(o) for o in outcomes])


def load_outcomes(status_dir: Path, stage: str) -> list[Outcome]:
    path = status_dir / f"{stage}.json"
    if not path.is_file():
        return []
    return [Outcome(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def healthy_names(status_dir: Path, stages: Iterable[str]) -> list[str]:
    """Datastores that succeeded in every one of `stages`, sorted."""
    result: set[str] | None = None
    for stage in stages:
        ok = {o.name for o in load_outcomes(status_dir, stage) if o.ok}
        result = ok if result is None else result & ok
    return sorted(result or set())


def failures(status_dir: Path, stages: Iterable[str]) -> list[tuple[str, Outcome]]:
    """Every recorded failure as (stage, outcome), in stage order."""
    return [(s, o) for s in stages for o in load_outcomes(status_dir, s) if not o.ok]
