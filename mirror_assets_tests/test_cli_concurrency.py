"""Two `mirror-catalog` runs at once: one per catalog version, different versions side by side.

The first run is frozen (SIGSTOP, by faults/stop_hook) just before it writes the version's
metacatalog into staging, so the second one deterministically starts while the first is in
progress; the test then lets the first go on (SIGCONT) or kills it (SIGKILL).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from mirror_assets_tests.cli_runner import cli_command, cli_env, run_cli

VERSION_A, VERSION_B = "v2025-01-29", "v2025-02-28"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
STOP_HOOK = Path(__file__).parent / "faults" / "stop_hook"

pytestmark = pytest.mark.slow


def _stopped(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def start_frozen(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `mirror-catalog args` and return once it is frozen before writing the staged
    metacatalog (by then it holds the version's lock and its run is STARTED)."""
    version = args[args.index("--catalog-version") + 1]
    hook = {
        "PYTHONPATH": os.pathsep.join([str(STOP_HOOK), env.get("PYTHONPATH", "")]),
        "MIRROR_STOP_EVENT": "os.rename",
        "MIRROR_STOP_PATTERN": f"*/{version}/raw/metacatalog.parquet",
    }
    with log.open("w") as stderr:  # a file: a full pipe would block the run before the freeze
        process = subprocess.Popen(
            cli_command(*args), env={**env, **hook}, stdout=subprocess.DEVNULL, stderr=stderr
        )
    deadline = time.monotonic() + 120
    while not _stopped(process.pid):
        if process.poll() is not None:
            pytest.fail(f"the first run ended before it froze:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the first run never froze")
        time.sleep(0.05)
    return process


def _resume(process: subprocess.Popen) -> int:
    os.kill(process.pid, signal.SIGCONT)
    return process.wait(timeout=300)


def _args(version: str, catalog: Path, dest: Path, staging: Path) -> list[str]:
    return [
        "--catalog-version",
        version,
        *("--source", str(catalog), "--dest", str(dest), "--staging", str(staging)),
    ]


def test_same_version_refuses_naming_the_run_in_progress_other_versions_run_alongside(
    tmp_path, sample_catalog
):
    dest, staging = tmp_path / "out", tmp_path / "staging"
    first = start_frozen(
        _args(VERSION_B, sample_catalog, dest, staging), cli_env(), tmp_path / "first.log"
    )
    try:
        second = run_cli(*_args(VERSION_B, sample_catalog, dest, staging), cwd=tmp_path)
        alongside = run_cli(*_args(VERSION_A, sample_catalog, dest, staging), cwd=tmp_path)
    finally:
        first_status = _resume(first)

    assert second.returncode == 1, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    [line] = lines
    lock = staging.resolve() / VERSION_B / ".lock"
    assert line.startswith(f"mirror-catalog: {lock}: held by pid {first.pid} (mirror-catalog; run ")
    assert line.endswith(
        f"another run of {VERSION_B} is in progress with this staging folder; wait for it to finish"
    )
    # A different version ran to the end while the first was in progress, and so did the first.
    assert alongside.returncode == 0, alongside.stderr
    assert first_status == 0, (tmp_path / "first.log").read_text()[-3000:]
    index = json.loads((dest / "versions.json").read_text())
    assert sorted(v["version"] for v in index["versions"]) == [VERSION_A, VERSION_B]
    assert index["current"] == VERSION_B


def test_a_killed_run_left_started_in_the_instance_is_named_until_deleted(
    tmp_path, sample_catalog, monkeypatch
):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = cli_env({"DAGSTER_HOME": str(home)})
    args = _args(VERSION_B, sample_catalog, tmp_path / "out", tmp_path / "staging")
    first = start_frozen(args, env, tmp_path / "first.log")
    first.kill()
    first.wait(timeout=30)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        [killed] = instance.get_runs()
    assert killed.status == dg.DagsterRunStatus.STARTED

    # The kill released the staging lock; the instance still says the run is in progress.
    refused = run_cli(*args, cwd=tmp_path, env=env)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    [line] = lines
    assert line == (
        f"mirror-catalog: {VERSION_B} is already in progress in the Dagster instance: run "
        f"{killed.run_id} (STARTED); wait for it to finish, or if its process is gone (a killed "
        "run stays STARTED) terminate it in the UI (Runs) or delete it: "
        f"dagster run delete -f {killed.run_id}"
    )

    subprocess.run(
        [BIN / "dagster", "run", "delete", "-f", killed.run_id],
        env=env,
        check=True,
        capture_output=True,
    )
    again = run_cli(*args, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
