"""Progress of a long run: per stage, datastores done of total and the elapsed time (no Dagster).

Fed from the run's event stream (cli/run.py): a stage starts and finishes with its step, and its
per-datastore log lines (state/outcomes.py: `<stage>: N datastore(s) to do`, `<stage>: <name> ok`,
`... unchanged`, `... reused from <v>`, `... failed: ...`) count the datastores done. On a
terminal a rich progress bar per stage; off one, a plain line per datastore and per stage.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from mirror_assets.state.outcomes import STAGE_ASSETS

# The stage each step (asset) of the job is; the metacatalog is a step of its own.
STEP_STAGES = {asset: stage for stage, asset in STAGE_ASSETS.items()}
STEP_STAGES["metacatalog"] = "metacatalog"
TOTAL_LINE = re.compile(r"^(?P<stage>[\w-]+): (?P<total>\d+) datastore\(s\) to do$")
DATASTORE_LINE = re.compile(
    r"^(?P<stage>[\w-]+): (?P<name>\S+) (?P<state>ok|unchanged|reused|failed)\b"
)


@dataclass
class StageProgress:
    started: float
    total: int | None = None
    done: int = 0
    task: Any = None
    states: dict[str, int] = field(default_factory=dict)


class RunProgress:
    """Receives the run's steps and log lines; prints progress to `stream` (stderr)."""

    def __init__(
        self, stream: TextIO | None = None, live: bool | None = None, enabled: bool = True
    ):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.enabled = enabled
        self.stages: dict[str, StageProgress] = {}
        self._bars: Any = None
        self._rerouted: list[tuple[logging.StreamHandler, TextIO]] = []

    def __enter__(self) -> RunProgress:
        if self.enabled and self.live:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bars = Progress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                # "done/total" for the stages that count datastores, empty for the others.
                TextColumn("{task.fields[count]:>9}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                redirect_stderr=True,
                redirect_stdout=False,
            )
            self._bars.start()
            # Log lines (handlers made before the bars) go through rich, above the bars.
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                    self._rerouted.append((handler, handler.stream))
                    handler.setStream(sys.stderr)
        return self

    def __exit__(self, *_: object) -> None:
        if self._bars is not None:
            self._bars.stop()
        for handler, stream in self._rerouted:
            handler.setStream(stream)

    def _print(self, line: str) -> None:
        if self.enabled and self._bars is None:
            print(line, file=self.stream, flush=True)

    def step_started(self, step: str) -> None:
        stage = STEP_STAGES.get(step)
        if stage is None or stage in self.stages:
            return
        progress = StageProgress(time.perf_counter())
        if self._bars is not None:
            progress.task = self._bars.add_task(stage, total=None, count="")
        self.stages[stage] = progress

    def log_line(self, message: str) -> None:
        if match := TOTAL_LINE.match(message):
            progress = self.stages.get(match["stage"])
            if progress is not None:
                progress.total = int(match["total"])
                if self._bars is not None:
                    self._bars.update(
                        progress.task, total=progress.total, count=f"0/{progress.total}"
                    )
        elif match := DATASTORE_LINE.match(message):
            progress = self.stages.get(match["stage"])
            if progress is None:
                return
            progress.done += 1
            progress.states[match["state"]] = progress.states.get(match["state"], 0) + 1
            of = f"/{progress.total}" if progress.total is not None else ""
            if self._bars is not None:
                self._bars.update(
                    progress.task, completed=progress.done, count=f"{progress.done}{of}"
                )
            self._print(
                f"progress: {match['stage']} {progress.done}{of} ({match['name']} "
                f"{match['state']}), {time.perf_counter() - progress.started:.1f} s"
            )

    def step_finished(self, step: str, ok: bool) -> None:
        stage = STEP_STAGES.get(step)
        progress = self.stages.get(stage or "")
        if progress is None:
            return
        elapsed = time.perf_counter() - progress.started
        if self._bars is not None:
            # A stage without a datastore count shows a full bar once done.
            total = progress.total or max(progress.done, 1)
            self._bars.update(progress.task, total=total, completed=total if ok else progress.done)
            self._bars.stop_task(progress.task)
        counts = ", ".join(f"{n} {s}" for s, n in sorted(progress.states.items()))
        datastores = f"{progress.done}/{progress.total} datastores" if progress.total else ""
        detail = "; ".join(x for x in (datastores, counts) if x)
        self._print(
            f"progress: {stage} {'done' if ok else 'FAILED'} in {elapsed:.1f} s"
            + (f" ({detail})" if detail else "")
        )
