"""Publish a built version: archive under `versions/<v>/`, then promote to the root if current.

Bucket layout (the same for a local folder and S3):
  versions/<v>/...        every published version, immutable once complete
  metacatalog.parquet,    the current catalog (newest complete non-hidden version) at the paths
  source/...              the web app reads
  versions.json           the published versions and which one is current

Transfers run concurrently, but in phases: every archive upload is finished and verified against
a fresh listing before promotion; at the root, datastores and sidecars land before
`metacatalog.parquet`, and objects of older versions are deleted only after it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mirror_assets.errors import MirrorError, one_line
from mirror_assets.files import tree_files
from mirror_assets.state.staging import METACATALOG
from mirror_assets.state.versions import parse_version
from mirror_assets.store.bucket import Bucket, Etags, Payload, StoredObject
from mirror_assets.store.donors import ArchiveDonors
from mirror_assets.store.etag_cache import EtagCache
from mirror_assets.store.manifest import (
    MANIFEST,
    ArchivedDatastore,
    Manifest,
    archive_prefix,
    datastore_keys,
)
from mirror_assets.store.transfers import run_all
from mirror_assets.transforms.specs import public_catalog_url, read_spec, with_catalog_file

log = logging.getLogger(__name__)

VERSIONS_JSON = "versions.json"


class PublishError(MirrorError):
    """The upload could not be completed or verified; the root was left as it was."""


@dataclass
class PublishReport:
    """What a publish did (or, with `dry_run`, would do)."""

    version: str
    dry_run: bool = False
    setup: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    # Archive keys copied server-side from another archived version -> the key copied.
    copied: dict[str, str] = field(default_factory=dict)
    copied_sizes: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    archive_deleted: list[str] = field(default_factory=list)
    promoted: bool = False
    root_uploaded: list[str] = field(default_factory=list)
    root_copied: list[str] = field(default_factory=list)
    root_deleted: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    current: str | None = None

    @property
    def bytes_copied(self) -> int:
        """The bytes that did not pass through the client: copied from other versions."""
        return sum(self.copied_sizes.values())

    @property
    def root_written(self) -> list[str]:
        return sorted(self.root_uploaded + self.root_copied)

    def actions(self) -> list[str]:
        """One line per object transfer, in the order they happen."""
        prefix = archive_prefix(self.version)
        return (
            [f"upload {k}" for k in self.uploaded]
            + [f"copy {src} -> {k}" for k, src in sorted(self.copied.items())]
            + [f"delete {k}" for k in self.archive_deleted]
            + [f"upload {k}" for k in self.root_uploaded]
            + [f"copy {prefix}{k} -> {k}" for k in self.root_copied]
            + [f"delete {k}" for k in self.root_deleted]
        )


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


def spec_bytes(path: Path, url: str) -> bytes:
    """The spec at `path` as published with catalog_file = `url`."""
    return _dump_spec(with_catalog_file(read_spec(path), url))


def _dump_spec(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _is_spec(key: str) -> bool:
    return (
        key.startswith("source/") and key.endswith(".json") and not key.endswith("_metadata.json")
    )


def _spec_name(key: str) -> str:
    return key.removeprefix("source/").removesuffix(".json")


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


def _index_bytes(index: dict[str, Any]) -> bytes:
    index["versions"].sort(key=lambda v: parse_version(v["version"]), reverse=True)
    return (json.dumps(index, indent=2) + "\n").encode()


def _with_entry(index: dict[str, Any], entry: dict[str, Any], changed: bool) -> dict[str, Any]:
    """The index with this version's entry; an unchanged re-publish keeps its published time."""
    others = [v for v in index["versions"] if v["version"] != entry["version"]]
    previous = next((v for v in index["versions"] if v["version"] == entry["version"]), None)
    if previous and not changed and {**previous, "published": None} == {**entry, "published": None}:
        entry = previous
    return {**index, "versions": [*others, entry]}


def publish_version(
    bucket: Bucket,
    build_dir: Path,
    version: str,
    datastores: list[str],
    public_base_url: str,
    rows: int,
    promotable: bool = True,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    etag_cache: Path | None = None,
    metacatalog_file: Path | None = None,
    records: dict[str, ArchivedDatastore] | None = None,
    carried: dict[str, ArchivedDatastore] | None = None,
    archive_listing: dict[str, StoredObject] | None = None,
    reuse: bool = True,
    reused: dict[str, dict[str, tuple[str, StoredObject]]] | None = None,
    copied_early: dict[str, str] | None = None,
) -> PublishReport:
    """Upload changed objects to `versions/<v>/`, verify, write the manifest, record, and promote
    if now current. With `dry_run`, only read the bucket and report what would be uploaded,
    copied and deleted.

    `datastores` are published from `build_dir`; `records` gives their manifest entries (rows,
    input digests, fingerprints; the objects are filled in here). `carried` datastores are kept in
    the archive exactly as they are (their objects, as the manifest or listing found them, are
    neither uploaded nor deleted) and promoted with the rest. `archive_listing` is the listing of
    `versions/<v>/` when the caller already has it. With `reuse`, an object another archived
    version holds (by its manifest) is copied from there server-side instead of uploaded;
    `copied_early` (archive key -> the key it was copied from) names objects already copied so
    before the publish, reported as copied when the listing shows them as this build's.
    `etag_cache` remembers local files' etags between runs (by path, size and mtime).
    `metacatalog_file` publishes another metacatalog than the built one (e.g. without the
    entries of datastores that failed)."""
    report = PublishReport(version, dry_run=dry_run)
    carried = carried or {}
    report.carried = sorted(carried)
    reused = reused or {}
    tree = version_tree(build_dir, datastores)
    tree |= {f"source/{n}.json": build_dir / "source" / f"{n}.json" for n in reused}
    if metacatalog_file is not None:
        tree[METACATALOG] = metacatalog_file
    prefix = archive_prefix(version)
    copies = {prefix + k: source for objects in reused.values() for k, source in objects.items()}

    def is_folder(name: str) -> bool:
        if name in reused:
            return any(k.startswith(f"source/{name}.parquet/") for k in reused[name])
        return (build_dir / "source" / f"{name}.parquet").is_dir()

    # The archived specs point at the archived parquet beside them; the built ones at the root.
    payloads: dict[str, Payload] = {
        prefix + key: (
            spec_bytes(
                path,
                public_catalog_url(
                    public_base_url, _spec_name(key), prefix, folder=is_folder(_spec_name(key))
                ),
            )
            if _is_spec(key)
            else path
        )
        for key, path in tree.items()
    }
    kept = {k: o for entry in carried.values() for k, o in entry.objects.items()}
    # Promotion copies the reused objects from this version's archive, as the kept ones.
    copied_or_kept = kept | {k.removeprefix(prefix): stored for k, (_, stored) in copies.items()}
    cache = EtagCache(etag_cache, bucket.etag_scheme, bucket.etags)
    with ThreadPoolExecutor(bucket.concurrency, thread_name_prefix="publish") as pool:
        # Everything read up front, concurrently: the tasks below wait on these futures, which
        # were queued first, so they never wait on work queued behind them.
        setup = None if dry_run else pool.submit(bucket.setup)
        listing = (
            _done(archive_listing)
            if archive_listing is not None
            else pool.submit(bucket.list, prefix)
        )
        stored_index = pool.submit(read_versions_index, bucket)
        stored_manifest = pool.submit(bucket.get_bytes, prefix + MANIFEST)
        donors = pool.submit(_donors, bucket, version, stored_index) if reuse else None
        hidden = parse_version(version).hidden
        root = None if hidden else pool.submit(_root_objects, bucket)
        try:
            try:
                expected = _archive(
                    bucket,
                    pool,
                    payloads,
                    copies,
                    cache,
                    setup,
                    listing,
                    donors,
                    report,
                    copied_early or {},
                )
            except MirrorError:
                # A bucket that cannot be set up fails every upload: report that, not a key.
                if setup and setup.exception():
                    raise setup.exception() from None
                raise
            if setup:
                report.setup = setup.result()
            expected |= {prefix + k: Etags(o.size, frozenset({o.etag})) for k, o in kept.items()}
            report.archive_deleted = sorted(
                set(listing.result()) - set(expected) - {prefix + MANIFEST}
            )
            stored = listing.result()
            changed = bool(report.uploaded or report.copied or report.archive_deleted)
            if not dry_run and changed:
                bucket.delete(report.archive_deleted)
                stored = bucket.list(prefix)
                _verify(stored, expected)
            keys = [*tree, *copied_or_kept]
            built = [*datastores, *reused]
            manifest = _manifest(
                version, keys, built, records or {}, carried, stored, stored_manifest.result()
            )
            if not dry_run and manifest.to_bytes() != stored_manifest.result():
                # Written after the objects it names are verified, so it never names a
                # missing one.
                bucket.put(prefix + MANIFEST, manifest.to_bytes())
                changed = True

            index = stored_index.result()
            entry = {
                "version": version,
                "hidden": hidden,
                "published": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
                "datastores": len(datastores) + len(reused) + len(carried),
                "rows": rows,
                "bytes": sum(fp.size for fp in expected.values()),
                "promotable": promotable,
            }
            updated = _with_entry(index, entry, changed)
            report.current = choose_current(updated)
            promote = bool(root) and report.current == version
            writes = (
                _plan_promotion(
                    pool,
                    bucket,
                    version,
                    tree,
                    copied_or_kept,
                    expected,
                    root.result(),
                    cache,
                    report,
                )
                if promote
                else {}
            )
            report.promoted = promote and not dry_run
            # While the root changes, versions.json says so: `promoting` names the version being
            # copied in and `current` still the one the root held. A crash leaves the marker; the
            # re-run that finishes the promotion removes it.
            in_transition = promote and (
                report.root_written or report.root_deleted or updated.get("current") != version
            )
            if in_transition:
                updated["promoting"] = version
            if not dry_run and updated != index:
                bucket.put(VERSIONS_JSON, _index_bytes(updated))
            if not dry_run and in_transition:
                _promote(bucket, pool, writes, report)
                updated["current"] = version
                del updated["promoting"]
                bucket.put(VERSIONS_JSON, _index_bytes(updated))
        finally:
            cache.save()
    log.info(
        "publish%s %s to %s: %d uploaded, %d copied from other versions (%d bytes), "
        "%d unchanged, %d kept from the archive, "
        "%d deleted from the archive; root: %d written, %d deleted; current version %s",
        " (dry run)" if dry_run else "",
        version,
        bucket.describe(),
        len(report.uploaded),
        len(report.copied),
        report.bytes_copied,
        report.unchanged,
        len(report.carried),
        len(report.archive_deleted),
        len(report.root_written),
        len(report.root_deleted),
        report.current,
    )
    return report


def _donors(bucket: Bucket, version: str, index: Future) -> ArchiveDonors | None:
    """The other archived versions' objects; None (upload everything) when they cannot be read.
    The index's own error, if any, is raised where the publish reads it."""
    try:
        return ArchiveDonors(bucket, version, index.result())
    except Exception as exc:  # noqa: BLE001 - a missed copy only costs an upload
        log.warning("publish: other archived versions not read (%s); uploading", one_line(exc))
        return None


def _done(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _manifest(
    version: str,
    keys: list[str],
    datastores: list[str],
    records: dict[str, ArchivedDatastore],
    carried: dict[str, ArchivedDatastore],
    stored: dict[str, StoredObject],
    previous: bytes | None,
) -> Manifest:
    """The version's manifest: the published datastores' objects as the store lists them now,
    with their records, and the carried ones as they were. A datastore the `previous` manifest
    already records exactly so, but for its build seconds, keeps that entry: rebuilding the same
    output does not rewrite the version's records."""
    prefix = archive_prefix(version)

    def objects(name: str) -> dict[str, StoredObject]:
        return {k: stored[prefix + k] for k in datastore_keys(name, keys) if prefix + k in stored}

    try:
        before = Manifest.from_bytes(previous).datastores if previous else {}
    except (ValueError, KeyError, TypeError):
        before = {}
    built = {}
    for name in datastores:
        entry = replace(records.get(name, ArchivedDatastore({})), objects=objects(name))
        same = before.get(name)
        built[name] = same if same and replace(same, seconds=entry.seconds) == entry else entry
    return Manifest(version, built | carried, stored.get(prefix + METACATALOG))


@dataclass(frozen=True)
class Copy:
    """An object to copy server-side, and its size."""

    key: str
    size: int


def _etags(cache: EtagCache, bucket: Bucket, payload: Payload) -> Etags:
    return cache.etags(payload) if isinstance(payload, Path) else bucket.etags(payload)


def _largest_first(
    payloads: dict[str, Payload], copies: dict[str, tuple[str, StoredObject]]
) -> list[str]:
    """Big transfers start first, so the last ones to finish are small (a shorter tail)."""

    def size(key: str) -> int:
        if key in copies:
            return copies[key][1].size
        payload = payloads[key]
        return len(payload) if isinstance(payload, bytes) else payload.stat().st_size

    return sorted([*payloads, *copies], key=size, reverse=True)


def _archive(
    bucket: Bucket,
    pool: ThreadPoolExecutor,
    payloads: dict[str, Payload],
    copies: dict[str, tuple[str, StoredObject]],
    cache: EtagCache,
    setup: Future | None,
    listing: Future,
    donors: Future | None,
    report: PublishReport,
    copied_early: dict[str, str],
) -> dict[str, Etags]:
    """Etags each object and, if the listing lacks it, copy it from another archived
    version that holds it or upload it, in one task per object, so hashing overlaps the
    transfers; the `copies` (key -> archived key and object) are copied from their archived
    key. An object the listing has is unchanged, or copied if in `copied_early`. Returns what
    the listing must show afterwards."""

    def archive_one(key: str) -> tuple[Etags, str | None]:
        if key in copies:
            source, stored = copies[key]
            printed = Etags(stored.size, frozenset({stored.etag}))
            donor = source
        else:
            printed = _etags(cache, bucket, payloads[key])
            donor = None
        if printed.matches(listing.result().get(key)):
            return printed, copied_early.get(key)
        if donor is None and donors and donors.result():
            donor = donors.result().find(printed)
        if not report.dry_run:
            if setup:
                setup.result()  # the bucket exists before the first upload
            if donor:
                bucket.copy(donor, key, printed.size)
            else:
                bucket.put(key, payloads[key])
        return printed, donor or ""

    done = run_all(pool, "upload", archive_one, _largest_first(payloads, copies))
    report.uploaded = sorted(k for k, (_, how) in done.items() if how == "")
    report.copied = {k: how for k, (_, how) in sorted(done.items()) if how}
    report.copied_sizes = {k: done[k][0].size for k in report.copied}
    report.unchanged = len(done) - len(report.uploaded) - len(report.copied)
    return {k: printed for k, (printed, _) in done.items()}


def _verify(stored: dict[str, StoredObject], expected: dict[str, Etags]) -> None:
    wrong = sorted(k for k, fp in expected.items() if not fp.matches(stored.get(k)))
    if wrong:
        raise PublishError(wrong[0], f"upload not verified ({len(wrong)} object(s) differ)")


def _root_objects(bucket: Bucket) -> dict[str, StoredObject]:
    """The root's catalog objects (other root files, such as versions.json, are left alone)."""
    root = bucket.list("source/")
    meta = bucket.list(METACATALOG).get(METACATALOG)
    return {**root, METACATALOG: meta} if meta else root


def _plan_promotion(
    pool: ThreadPoolExecutor,
    bucket: Bucket,
    version: str,
    tree: dict[str, Path],
    kept: dict[str, StoredObject],
    archived: dict[str, Etags],
    root: dict[str, StoredObject],
    cache: EtagCache,
    report: PublishReport,
) -> dict[str, Payload | Copy]:
    """Which root objects promotion writes and deletes (recorded in `report`); returns, for each
    key to write, the spec to upload or the archived object to copy. A built spec is uploaded as
    built (it points at the root); a kept one is read from the archive and pointed at the root."""
    prefix = archive_prefix(version)
    keys = [*tree, *kept]
    kept_specs = [k for k in kept if _is_spec(k)]
    specs: dict[str, Payload] = {k: tree[k] for k in tree if _is_spec(k)}
    specs |= run_all(pool, "read", lambda k: _root_spec(bucket, prefix, k), kept_specs)
    spec_prints = run_all(pool, "hash", lambda k: _etags(cache, bucket, specs[k]), specs)
    report.root_uploaded = sorted(k for k in specs if not spec_prints[k].matches(root.get(k)))
    report.root_copied = sorted(
        k for k in keys if k not in specs and not archived[prefix + k].matches(root.get(k))
    )
    report.root_deleted = sorted(set(root) - set(keys))
    # Largest first, so the last transfers to finish are small.
    sizes = {k: spec_prints[k].size for k in report.root_uploaded}
    sizes |= {k: archived[prefix + k].size for k in report.root_copied}
    order = sorted(report.root_written, key=lambda k: sizes[k], reverse=True)
    return {k: (specs[k] if k in specs else Copy(prefix + k, sizes[k])) for k in order}


def _root_spec(bucket: Bucket, prefix: str, key: str) -> bytes:
    """The archived spec at `prefix + key`, its catalog_file moved from the archive to the root."""
    raw = bucket.get_bytes(prefix + key)
    if raw is None:
        raise PublishError(prefix + key, "archived spec disappeared during the publish")
    document = json.loads(raw)
    url = str(document.get("catalog_file", ""))
    return _dump_spec(with_catalog_file(document, url.replace(f"/{prefix}source/", "/source/", 1)))


def _promote(
    bucket: Bucket,
    pool: ThreadPoolExecutor,
    writes: dict[str, Payload | Copy],
    report: PublishReport,
) -> None:
    """Write the root: datastores, then metacatalog, then drop strays."""

    def write(key: str) -> None:
        source = writes[key]
        if isinstance(source, Copy):
            bucket.copy(source.key, key, source.size)
        else:
            bucket.put(key, source)

    run_all(pool, "promote", write, [k for k in writes if k != METACATALOG])
    run_all(pool, "promote", write, [k for k in writes if k == METACATALOG])
    bucket.delete(report.root_deleted)
