"""Publish a built version: archive under `versions/<v>/`, then promote to the root if current.

Bucket layout (the same for a local folder and S3):
  versions/<v>/...        every published version, immutable once complete
  metacatalog.parquet,    the current catalog (newest complete non-hidden version) at the paths
  source/...              the web app reads
  versions.json           the published versions and which one is current
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirror_assets.lib.bucket import Bucket, StoredObject
from mirror_assets.lib.errors import MirrorError
from mirror_assets.lib.files import tree_files
from mirror_assets.lib.specs import public_catalog_url, read_spec, with_catalog_file
from mirror_assets.lib.staging import METACATALOG
from mirror_assets.lib.versions import parse_version

log = logging.getLogger(__name__)

VERSIONS_JSON = "versions.json"
ARCHIVE_PREFIX = "versions/"


class PublishError(MirrorError):
    """The upload could not be completed or verified; the root was left as it was."""


@dataclass
class PublishReport:
    version: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    archive_deleted: list[str] = field(default_factory=list)
    promoted: bool = False
    root_written: list[str] = field(default_factory=list)
    root_deleted: list[str] = field(default_factory=list)
    current: str | None = None


def archive_prefix(version: str) -> str:
    return f"{ARCHIVE_PREFIX}{version}/"


def version_tree(build_dir: Path, datastores: list[str]) -> dict[str, Path]:
    """Root-relative key -> built file, for the metacatalog and the given datastores."""
    tree = {METACATALOG: build_dir / METACATALOG}
    source = build_dir / "source"
    for name in datastores:
        for suffix in (".json", "_uniqs.parquet", "_metadata.json"):
            tree[f"source/{name}{suffix}"] = source / f"{name}{suffix}"
        for path in tree_files(source / f"{name}.parquet"):
            tree[path.relative_to(build_dir).as_posix()] = path
    return tree


def _spec_bytes(path: Path, url: str) -> bytes:
    document = with_catalog_file(read_spec(path), url)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _is_spec(key: str) -> bool:
    return (
        key.startswith("source/") and key.endswith(".json") and not key.endswith("_metadata.json")
    )


def _spec_name(key: str) -> str:
    return key.removeprefix("source/").removesuffix(".json")


def _same(stored: StoredObject | None, size: int, etag: str) -> bool:
    return stored is not None and stored.size == size and stored.etag == etag


def read_versions_index(bucket: Bucket) -> dict[str, Any]:
    raw = bucket.get_bytes(VERSIONS_JSON)
    if raw is None:
        return {"current": None, "versions": []}
    return json.loads(raw)


def choose_current(index: dict[str, Any]) -> str | None:
    """The newest version that is complete, not hidden and not partial (unless promoted anyway)."""
    eligible = [
        v["version"] for v in index["versions"] if v.get("promotable", True) and not v["hidden"]
    ]
    return max(eligible, key=parse_version, default=None)


def _write_index(bucket: Bucket, index: dict[str, Any]) -> None:
    index["versions"].sort(key=lambda v: parse_version(v["version"]), reverse=True)
    bucket.put_bytes(VERSIONS_JSON, (json.dumps(index, indent=2) + "\n").encode())


def publish_version(
    bucket: Bucket,
    build_dir: Path,
    version: str,
    datastores: list[str],
    public_base_url: str,
    rows: int,
    promotable: bool = True,
    now: dt.datetime | None = None,
    metacatalog_file: Path | None = None,
) -> PublishReport:
    """Upload changed objects to `versions/<v>/`, verify, record, and promote if now current.

    `metacatalog_file` publishes another metacatalog than the built one (e.g. without the
    entries of datastores that failed).
    """
    report = PublishReport(version)
    tree = version_tree(build_dir, datastores)
    if metacatalog_file is not None:
        tree[METACATALOG] = metacatalog_file
    prefix = archive_prefix(version)
    # The archived specs point at the archived parquet beside them; the built ones at the root.
    payloads: dict[str, Path | bytes] = {
        key: (
            _spec_bytes(path, public_catalog_url(public_base_url, _spec_name(key), prefix))
            if _is_spec(key)
            else path
        )
        for key, path in tree.items()
    }
    existing = bucket.list(prefix)
    expected: dict[str, StoredObject] = {}
    for key, payload in payloads.items():
        if isinstance(payload, bytes):
            size, etag = len(payload), bucket.bytes_etag(payload)
        else:
            size, etag = payload.stat().st_size, bucket.local_etag(payload)
        expected[prefix + key] = StoredObject(size, etag)
        if _same(existing.get(prefix + key), size, etag):
            report.unchanged += 1
            continue
        if isinstance(payload, bytes):
            bucket.put_bytes(prefix + key, payload)
        else:
            bucket.put_file(prefix + key, payload)
        report.uploaded.append(prefix + key)
    report.archive_deleted = sorted(set(existing) - set(expected))
    bucket.delete(report.archive_deleted)

    stored = bucket.list(prefix)
    wrong = [k for k, obj in expected.items() if not _same(stored.get(k), obj.size, obj.etag)]
    if wrong:
        raise PublishError(wrong[0], f"upload not verified ({len(wrong)} object(s) differ)")

    index = read_versions_index(bucket)
    entry = {
        "version": version,
        "hidden": parse_version(version).hidden,
        "published": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "datastores": len(datastores),
        "rows": rows,
        "bytes": sum(obj.size for obj in expected.values()),
        "promotable": promotable,
    }
    index["versions"] = [v for v in index["versions"] if v["version"] != version] + [entry]
    _write_index(bucket, index)

    report.current = choose_current(index)
    if report.current == version:
        _promote(bucket, version, tree, stored, report)
        index["current"] = version
        _write_index(bucket, index)
        report.promoted = True
    log.info(
        "publish %s: %d uploaded, %d unchanged, promoted=%s, current=%s",
        version,
        len(report.uploaded),
        report.unchanged,
        report.promoted,
        report.current,
    )
    return report


def _promote(
    bucket: Bucket,
    version: str,
    tree: dict[str, Path],
    archived: dict[str, StoredObject],
    report: PublishReport,
) -> None:
    """Copy the archived version to the root: datastores, then metacatalog, then drop strays."""
    prefix = archive_prefix(version)
    root = {**bucket.list("source/"), **bucket.list(METACATALOG)}
    ordered = sorted(tree, key=lambda k: (k == METACATALOG, k))
    for key in ordered:
        if _is_spec(key):
            data = tree[key].read_bytes()
            if not _same(root.get(key), len(data), bucket.bytes_etag(data)):
                bucket.put_bytes(key, data)
                report.root_written.append(key)
            continue
        source = archived[prefix + key]
        if not _same(root.get(key), source.size, source.etag):
            bucket.copy(prefix + key, key)
            report.root_written.append(key)
    report.root_deleted = sorted(set(root) - set(tree))
    bucket.delete(report.root_deleted)
