"""`mirror-catalog` killed with a real SIGKILL at several points of the publish.

The destination holds v2025-01-29 (current); the run publishes v2025-02-28, in which by473 lost a
row and cordex_ig45 is new, so promotion replaces a datastore the root already serves. A hook
(faults/stop_hook/sitecustomize.py) freezes the process just before the chosen write; the test
then SIGKILLs the whole process group, checks what a reader of the root sees, and re-runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mirror_assets_tests.cli_runner import cli_command, cli_env, run_cli
from mirror_assets_tests.pipeline import (
    VERSION_A,
    VERSION_B,
    metacatalog_names,
    root_snapshot,
    run_job,
    settings_for,
    versions_index,
)

STOP_HOOK = Path(__file__).parent / "stop_hook"
DATASTORE_FILES = (".json", "_uniqs.parquet", "_metadata.json")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _spec_without_url(path: Path) -> dict:
    document = json.loads(path.read_text())
    document.pop("catalog_file", None)
    return document


def _datastore_files(source: Path, name: str) -> dict[str, Path]:
    files = {f"{name}{s}": source / f"{name}{s}" for s in DATASTORE_FILES}
    parquet = source / f"{name}.parquet"
    if parquet.is_dir():
        files |= {p.relative_to(source).as_posix(): p for p in parquet.rglob("*") if p.is_file()}
    else:
        files[f"{name}.parquet"] = parquet
    return {k: v for k, v in files.items() if not Path(k).name.startswith(".")}


def root_gaps(dest: Path) -> list[str]:
    """What a reader of the root would miss: the root metacatalog must be that of a complete
    archived version, and every datastore it names must be fully present."""
    index = versions_index(dest)
    metacatalog = dest / "metacatalog.parquet"
    complete = [v["version"] for v in index["versions"]]
    if not any(
        _md5(metacatalog) == _md5(dest / "versions" / v / "metacatalog.parquet") for v in complete
    ):
        return ["root metacatalog.parquet is no archived version's metacatalog"]
    gaps = []
    for name in metacatalog_names(metacatalog):
        for key, path in _datastore_files(dest / "source", name).items():
            if not path.exists():
                gaps.append(f"source/{key} missing")
    return gaps


def root_inconsistencies(dest: Path) -> list[str]:
    """Differences between the root and the archived copy of versions.json's current version."""
    current = versions_index(dest)["current"]
    archive = dest / "versions" / current
    problems = []
    if _md5(dest / "metacatalog.parquet") != _md5(archive / "metacatalog.parquet"):
        problems.append(f"metacatalog.parquet is not {current}'s")
    for name in metacatalog_names(archive / "metacatalog.parquet"):
        want = _datastore_files(archive / "source", name)
        have = _datastore_files(dest / "source", name)
        for key in sorted(set(want) | set(have)):
            if key not in have or not have[key].exists():
                problems.append(f"source/{key} missing")
            elif key not in want or not want[key].exists():
                problems.append(f"source/{key} is not in {current}")
            elif key.endswith(".json") and not key.endswith("_metadata.json"):
                if _spec_without_url(have[key]) != _spec_without_url(want[key]):
                    problems.append(f"source/{key} differs from {current}'s")
            elif _md5(have[key]) != _md5(want[key]):
                problems.append(f"source/{key} differs from {current}'s")
    return problems


@pytest.fixture
def scene(tmp_path, sample_catalog):
    """v2025-01-29 published and current; v2025-02-28's by473 has lost its last row."""
    dest, staging = tmp_path / "dest", tmp_path / "staging"
    assert run_job(settings_for(sample_catalog, dest, tmp_path / "staging_a"), VERSION_A).success
    by473 = sample_catalog / VERSION_B / "source" / "by473.parquet"
    table = pq.read_table(by473)
    pq.write_table(table.slice(0, table.num_rows - 1), by473)
    args = [
        "--catalog-version",
        VERSION_B,
        "--source",
        str(sample_catalog),
        "--dest",
        str(dest),
        "--staging",
        str(staging),
        "--public-base-url",
        "https://objects.example/cat",
    ]
    return dest, args


def _stopped_in_group(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] == "T":
            return True
    return False


def run_and_kill(args: list[str], event: str, pattern: str, nth: int) -> str:
    """Run mirror-catalog until it freezes before the `nth` write matching `pattern`, then
    SIGKILL its process group. Returns the run's stderr."""
    env = cli_env(
        {
            # The hook first, then whatever the caller's path holds (e.g. a checkout under test).
            "PYTHONPATH": os.pathsep.join([str(STOP_HOOK), os.environ.get("PYTHONPATH", "")]),
            "MIRROR_STOP_EVENT": event,
            "MIRROR_STOP_PATTERN": pattern,
            "MIRROR_STOP_NTH": str(nth),
        }
    )
    process = subprocess.Popen(
        cli_command(*args),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    try:
        while not _stopped_in_group(process.pid):
            if process.poll() is not None:
                pytest.fail(f"the run ended before the kill point:\n{process.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("the run never reached the kill point")
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return process.stderr.read()


def rerun(args: list[str]) -> subprocess.CompletedProcess:
    return run_cli(*args)


# (id, audit event, target below dest, nth): each freezes the run just before that write.
BEFORE_PROMOTION = [
    ("archive_upload", "os.rename", f"versions/{VERSION_B}/*", 10),
    ("first_versions_json_write", "os.rename", "versions.json", 1),
    ("first_root_write", "os.rename", "source/*", 1),
]
DURING_PROMOTION = [
    ("root_datastores_half_written", "os.rename", "source/*", 2),
    ("root_complete_versions_json_not_updated", "os.rename", "versions.json", 2),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "target", "nth"),
    [p[1:] for p in BEFORE_PROMOTION],
    ids=[p[0] for p in BEFORE_PROMOTION],
)
def test_kill_before_promotion_leaves_the_root_as_it_was(scene, event, target, nth):
    dest, args = scene
    before = root_snapshot(dest)

    run_and_kill(args, event, f"{dest}/{target}", nth)

    assert versions_index(dest)["current"] == VERSION_A
    assert root_snapshot(dest) == before
    assert root_inconsistencies(dest) == []

    finished = rerun(args)
    assert finished.returncode == 0, finished.stderr
    assert versions_index(dest)["current"] == VERSION_B
    assert root_inconsistencies(dest) == []
    assert json.loads((dest / "source" / "by473_metadata.json").read_text())["num_records"] == 6


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "target", "nth"),
    [p[1:] for p in DURING_PROMOTION],
    ids=[p[0] for p in DURING_PROMOTION],
)
def test_kill_during_promotion_leaves_nothing_missing_and_rerun_finishes(scene, event, target, nth):
    dest, args = scene

    run_and_kill(args, event, f"{dest}/{target}", nth)

    # A reader finds a whole archived version's metacatalog and every datastore it names.
    assert root_gaps(dest) == []
    finished = rerun(args)
    assert finished.returncode == 0, finished.stderr
    assert versions_index(dest)["current"] == VERSION_B
    assert root_inconsistencies(dest) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "target", "nth"),
    [p[1:] for p in DURING_PROMOTION],
    ids=[p[0] for p in DURING_PROMOTION],
)
def test_kill_during_promotion_is_marked_in_versions_json(scene, event, target, nth):
    """Objects are promoted one by one, so a kill can leave some of the new version's objects
    beside the old metacatalog: versions.json says the root is in transition."""
    dest, args = scene
    run_and_kill(args, event, f"{dest}/{target}", nth)
    index = versions_index(dest)
    assert (index["current"], index["promoting"]) == (VERSION_A, VERSION_B)
    finished = rerun(args)
    assert finished.returncode == 0, finished.stderr
    index = versions_index(dest)
    assert index["current"] == VERSION_B and "promoting" not in index
    assert root_inconsistencies(dest) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "target", "nth"),
    [p[1:] for p in BEFORE_PROMOTION[:2]],
    ids=[p[0] for p in BEFORE_PROMOTION[:2]],
)
def test_no_promotion_marker_before_the_root_is_touched(scene, event, target, nth):
    dest, args = scene
    run_and_kill(args, event, f"{dest}/{target}", nth)
    assert "promoting" not in versions_index(dest)
    assert root_inconsistencies(dest) == []
