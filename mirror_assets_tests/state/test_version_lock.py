"""The per-version staging lock: re-entrant in one process, exclusive across processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror_assets.state.version_lock import LOCK_FILE, VersionLockHeld, lock_holder, version_lock

# A child process that takes the lock, says so, and holds it until it is killed.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from mirror_assets.state.version_lock import version_lock
    with version_lock(sys.argv[1], "test holder"):
        print("locked", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def version_root(tmp_path: Path) -> Path:
    return tmp_path / "staging" / "v2025-02-28"


@pytest.fixture
def other_process(version_root: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the lock on `version_root`; killed afterwards."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(version_root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        yield child
    finally:
        child.kill()
        child.wait(timeout=30)


def test_same_process_takes_it_again_and_releases_it_with_the_outermost_block(version_root):
    path = version_root / LOCK_FILE
    with version_lock(version_root, "mirror-catalog"):
        assert lock_holder(path) == f"pid {os.getpid()} (mirror-catalog)"
        with version_lock(version_root, "run abc"):
            assert lock_holder(path) == f"pid {os.getpid()} (mirror-catalog; run abc)"
        assert lock_holder(path) == f"pid {os.getpid()} (mirror-catalog)"
    # Released and blanked: nothing names a holder that has gone.
    assert path.read_text() == ""
    with version_lock(version_root, "again"):
        pass


def test_another_process_is_refused_naming_the_holder_and_the_lock_file(
    version_root, other_process
):
    with pytest.raises(VersionLockHeld) as refused, version_lock(version_root, "second"):
        pytest.fail("took a lock another process holds")
    message = str(refused.value)
    assert message == (
        f"{version_root / LOCK_FILE}: held by pid {other_process.pid} (test holder): another "
        "run of v2025-02-28 is in progress with this staging folder; wait for it to finish"
    )
    assert "\n" not in message


def test_a_killed_holder_releases_the_lock(version_root, other_process):
    with pytest.raises(VersionLockHeld), version_lock(version_root, "second"):
        pass
    os.kill(other_process.pid, signal.SIGKILL)
    other_process.wait(timeout=30)
    # The file is still there, with the dead holder's name, but nobody holds it: not a lock.
    assert f"pid {other_process.pid}" in (version_root / LOCK_FILE).read_text()
    with version_lock(version_root, "after the kill"):
        assert lock_holder(version_root / LOCK_FILE) == f"pid {os.getpid()} (after the kill)"


def test_an_unwritable_staging_folder_is_left_to_the_run_to_report(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the staging folder should be\n")
    with version_lock(blocker / "v2025-02-28", "mirror-catalog"):
        pass
    assert blocker.is_file()
