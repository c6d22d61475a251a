"""A full or unwritable staging disk: a clear error, nothing published, the root untouched.

A full disk is a real tmpfs of a few hundred KB, and a read-only one a tmpfs mounted read-only;
mounting needs root with CAP_SYS_ADMIN (as on the CI machine), otherwise those tests skip. The
staging folder below a regular file needs no privilege.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy

from mirror_assets_tests.cli_runner import run_cli
from mirror_assets_tests.pipeline import (
    VERSION_A,
    VERSION_B,
    root_snapshot,
    run_job,
    settings_for,
    step_failures,
    versions_index,
)


@pytest.fixture
def published(tmp_path, sample_catalog):
    """A destination where v2025-01-29 is published and current, and its snapshot."""
    dest = tmp_path / "dest"
    assert run_job(settings_for(sample_catalog, dest, tmp_path / "staging_a"), VERSION_A).success
    return sample_catalog, dest


@pytest.fixture
def tmpfs(tmp_path):
    """mount(name, size_kb, read_only) -> a fresh tmpfs folder, unmounted afterwards."""
    mounted: list[Path] = []

    def mount(name: str, size_kb: int, read_only: bool = False) -> Path:
        point = tmp_path / name
        point.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): run the "
                "tests as root with CAP_SYS_ADMIN to exercise a full or read-only staging disk"
            )
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def mirror(catalog: Path, dest: Path, staging: Path) -> subprocess.CompletedProcess:
    # --no-reuse: on a fresh staging folder VERSION_B's datastores unchanged since VERSION_A
    # would be taken from its archive, and the build would write too little to fill the disk.
    return run_cli(
        "--no-reuse",
        "--catalog-version",
        VERSION_B,
        "--source",
        str(catalog),
        "--dest",
        str(dest),
        "--staging",
        str(staging),
    )


def _failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED")]


def assert_nothing_published(dest: Path, before: dict[str, str]) -> None:
    assert not (dest / "versions" / VERSION_B).exists()
    assert versions_index(dest)["current"] == VERSION_A
    assert [v["version"] for v in versions_index(dest)["versions"]] == [VERSION_A]
    assert root_snapshot(dest) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size_kb", "stage"),
    [(40, "raw_catalog"), (200, None)],
    ids=["full_while_fetching", "full_while_building"],
)
def test_full_staging_disk_is_a_clear_error_and_nothing_is_published(
    published, tmpfs, size_kb, stage
):
    catalog, dest = published
    before = root_snapshot(dest)
    staging = tmpfs("staging", size_kb)

    result = mirror(catalog, dest, staging)

    assert result.returncode == 1
    # The in-process executor runs every step that does not depend on a failed one, so each
    # stage that hit the full disk says so, in one line naming what it could not write.
    lines = _failed_lines(result.stderr)
    assert lines
    for line in lines:
        assert line.startswith("FAILED step "), line
        assert line.endswith("stopped: No space left on device"), line
        assert f": {staging}/{VERSION_B}" in line
    if stage:
        assert [line.split(":")[0] for line in lines] == [f"FAILED step {stage}"]
    assert_nothing_published(dest, before)


@pytest.mark.slow
def test_read_only_staging_disk_is_a_clear_error(published, tmpfs):
    catalog, dest = published
    before = root_snapshot(dest)
    staging = tmpfs("staging", 64, read_only=True)

    result = mirror(catalog, dest, staging)

    assert result.returncode == 1
    [line] = _failed_lines(result.stderr)
    assert line.startswith("FAILED step raw_catalog: ")
    assert line.endswith("Read-only file system"), line
    assert str(staging) in line
    assert_nothing_published(dest, before)


def test_staging_below_a_regular_file_is_a_clear_error(published, tmp_path):
    catalog, dest = published
    before = root_snapshot(dest)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the staging folder should be\n")

    result = mirror(catalog, dest, blocker / "staging")

    assert result.returncode == 1
    [line] = _failed_lines(result.stderr)
    assert line.startswith("FAILED step raw_catalog: ")
    assert line.endswith("Not a directory"), line
    assert str(blocker) in line
    assert_nothing_published(dest, before)


def _retries(instance: dg.DagsterInstance) -> int:
    runs = instance.get_runs()
    if not runs:
        return 0
    return len(instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY))


def test_publish_retries_an_unexpected_error_then_gives_up_leaving_the_root(published, tmp_path):
    catalog, dest = published
    before = root_snapshot(dest)
    index = dest / "versions.json"
    kept = index.read_bytes()
    # A symlink loop where versions.json should be: every read of it fails.
    index.unlink()
    index.symlink_to(index.name)
    instance = dg.DagsterInstance.ephemeral()

    result = run_job(
        settings_for(catalog, dest, tmp_path / "staging"), VERSION_B, instance=instance
    )

    assert not result.success
    assert list(step_failures(result)) == ["published_catalog"]
    assert _retries(instance) == 3
    index.unlink()
    index.write_bytes(kept)
    assert versions_index(dest)["current"] == VERSION_A
    assert root_snapshot(dest) == before


def test_publish_succeeds_when_a_transient_error_clears(published, tmp_path):
    catalog, dest = published
    index = dest / "versions.json"
    kept = index.read_bytes()
    index.unlink()
    index.symlink_to(index.name)
    instance = dg.DagsterInstance.ephemeral()

    def retried() -> bool:
        # The run writes to the same in-memory SQLite from other threads: a read may find a
        # table locked, which only means "look again".
        try:
            return _retries(instance) > 0
        except sqlalchemy.exc.OperationalError:
            return False

    def clear_after_first_retry():
        deadline = time.monotonic() + 120
        while not retried() and time.monotonic() < deadline:
            time.sleep(0.05)
        index.unlink()
        index.write_bytes(kept)

    clearer = threading.Thread(target=clear_after_first_retry)
    clearer.start()
    result = run_job(
        settings_for(catalog, dest, tmp_path / "staging"), VERSION_B, instance=instance
    )
    clearer.join()

    assert result.success
    assert _retries(instance) >= 1
    assert versions_index(dest)["current"] == VERSION_B
    assert [v["version"] for v in versions_index(dest)["versions"]] == [VERSION_B, VERSION_A]


def test_bad_input_is_not_retried(published, tmp_path):
    catalog, dest = published
    (catalog / VERSION_B / "metacatalog.parquet").unlink()
    instance = dg.DagsterInstance.ephemeral()

    result = run_job(
        settings_for(catalog, dest, tmp_path / "staging"), VERSION_B, instance=instance
    )

    assert not result.success
    assert _retries(instance) == 0
