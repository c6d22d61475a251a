"""Read catalog versions from a local folder (the embedded default and pre-staged copies)."""

from __future__ import annotations

import shutil
from pathlib import Path

from mirror_assets.errors import MirrorError, VersionError
from mirror_assets.fetch.inventory import classify_source_files
from mirror_assets.fetch.plan import (
    FetchReport,
    RemoteFile,
    finish_transfer,
    is_current,
    prune_stale,
)
from mirror_assets.state.staging import METACATALOG
from mirror_assets.state.versions import newest_first


class VersionNotFoundError(MirrorError):
    """The requested version folder does not exist at the source."""


def list_local_versions(root: Path) -> list[str]:
    """Version folders under `root`, newest first."""
    if not root.is_dir():
        raise MirrorError(root, "catalog source folder not found")
    return newest_first([p.name for p in root.iterdir() if p.is_dir()])


def _remote_file(version_dir: Path, relpath: str) -> RemoteFile:
    stat = (version_dir / relpath).stat()
    return RemoteFile(relpath, stat.st_size, int(stat.st_mtime))


def fetch_local_version(
    root: Path, version: str, raw_dir: Path, only: set[str] | None = None
) -> FetchReport:
    """Copy a version's metacatalog and datastore pairs into `raw_dir`, skipping unchanged files."""
    version_dir = root / version
    if not version_dir.is_dir():
        raise VersionNotFoundError(version_dir, "catalog version not found at the source")
    if not (version_dir / METACATALOG).is_file():
        raise VersionError(version_dir / METACATALOG, "metacatalog.parquet not found")
    source_dir = version_dir / "source"
    names = [p.name for p in source_dir.iterdir() if p.is_file()] if source_dir.is_dir() else []
    inventory = classify_source_files(names)
    available = list(inventory.datastores)
    if only is not None:
        inventory.datastores = [n for n in inventory.datastores if n in only]
    wanted = [METACATALOG, *(f"source/{f}" for f in inventory.files)]
    report = FetchReport(
        datastores=inventory.datastores,
        available=available,
        problems=inventory.problems,
        ignored=inventory.ignored,
    )
    for relpath in wanted:
        remote = _remote_file(version_dir, relpath)
        dest = raw_dir / relpath
        if is_current(dest, remote):
            report.skipped.append(relpath)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(version_dir / relpath, tmp)
        finish_transfer(tmp, dest, remote)
        report.transferred.append(relpath)
        report.bytes_transferred += remote.size
    if only is None:
        prune_stale(raw_dir, set(wanted))
    return report
