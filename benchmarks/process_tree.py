"""Run a command and sample the resident memory of its whole process tree from /proc."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_s: float
    peak_rss_bytes: int
    peak_processes: int


def _parent_of(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: fields resume after the last ')'.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> tuple[int, int]:
    """(summed RSS in bytes, process count) of `root` and every descendant."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent_of(entry)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return sum(_rss(pid) for pid in tree), len(tree)


def run_measured(
    command: list[str], log: Path, cwd: Path | None = None, interval: float = 0.05
) -> Measured:
    """Run `command` (output to `log`), sampling its tree's RSS every `interval` seconds."""
    peak = {"rss": 0, "processes": 0}
    done = threading.Event()
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)

        def sample() -> None:
            while not done.is_set():
                rss, count = tree_rss(proc.pid)
                peak["rss"] = max(peak["rss"], rss)
                peak["processes"] = max(peak["processes"], count)
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = proc.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    return Measured(returncode, wall, peak["rss"], peak["processes"])
