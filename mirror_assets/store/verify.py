"""Check a published catalog against its manifest without downloading its data (no Dagster).

Like `rclone check`, for a catalog: the root (against the current version's manifest) or one
archived version (against its own) is listed once, and every object the manifest names must be
there with the recorded size and ETag, and nothing else. Then the small files are read: each
spec's `catalog_file` must name an object that exists (a hive folder when it ends in `/`), and
the metacatalog's `name` column must name only datastores that are there.

A root spec is not compared by size and ETag: promotion rewrites its `catalog_file` to point at
the root, so it differs from the archived spec the manifest records. Every other root object is a
server-side copy of the archived one, which keeps its size and ETag (a multipart copy uses the
upload's part size). A metacatalog name the manifest does not know is an entry that never had a
datastore in the version's source (another project's catalog, kept as it is at publish): noted,
not a problem. An archive made before manifests is checked for what can be: its specs, their
catalog files and its metacatalog; at the root, objects are compared with the archive's listing.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from mirror_assets.errors import one_line
from mirror_assets.state.staging import METACATALOG
from mirror_assets.store.bucket import Bucket, StoredObject
from mirror_assets.store.manifest import MANIFEST, Manifest, archive_prefix, from_listing
from mirror_assets.store.publish import VERSIONS_JSON, read_versions_index


@dataclass
class VerifyReport:
    """What was checked, the problems found (one line each, naming the key) and notes."""

    target: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    datastores: int = 0
    objects: int = 0
    bytes: int = 0
    catalog_files: int = 0
    names: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        checked = (
            f"{self.datastores} datastores, {self.objects} objects ({self.bytes} bytes), "
            f"{self.catalog_files} catalog files, {self.names} metacatalog names"
        )
        if self.ok:
            return f"{self.target}: whole ({checked})"
        return f"{self.target}: {len(self.problems)} problem(s) ({checked})"


def _spec_key(name: str) -> str:
    return f"source/{name}.json"


def _is_spec(key: str) -> bool:
    return (
        key.startswith("source/")
        and key.endswith(".json")
        and key.count("/") == 1
        and not key.endswith("_metadata.json")
    )


def _datastores_present(listing: dict[str, StoredObject]) -> set[str]:
    """The names whose spec and parquet (a file, or a folder of files) are in `listing`."""
    data = {
        parts[1].removesuffix(".parquet")
        for parts in (k.split("/") for k in listing)
        if len(parts) > 1 and parts[0] == "source" and parts[1].endswith(".parquet")
    }
    return {n for n in data if _spec_key(n) in listing}


def compare_objects(
    expected: dict[str, StoredObject],
    listing: dict[str, StoredObject],
    prefix: str,
    recorded_by: str,
    presence_only: set[str] = frozenset(),
) -> list[str]:
    """Each expected object (keys relative to `prefix`) is listed with its size and ETag (only
    listed, for `presence_only` keys), and the listing holds nothing else."""
    problems = []
    for key, want in sorted(expected.items()):
        got = listing.get(key)
        if got is None:
            problems.append(f"{prefix}{key}: missing ({recorded_by} records {want.size} bytes)")
        elif key not in presence_only and got != want:
            problems.append(
                f"{prefix}{key}: {got.size} bytes, ETag {got.etag}; {recorded_by} records "
                f"{want.size} bytes, ETag {want.etag}"
            )
    for key in sorted(set(listing) - set(expected)):
        problems.append(f"{prefix}{key}: not named by {recorded_by}")
    return problems


def _target_key(url: str, public_base_url: str) -> str | None:
    base = public_base_url.rstrip("/") + "/"
    return url[len(base) :] if url.startswith(base) else None


def catalog_file_problem(
    spec_key: str, url: str, public_base_url: str, listed: dict[str, StoredObject]
) -> str | None:
    """What is wrong with `spec_key`'s catalog_file `url`, given `listed` (bucket keys below the
    URL's target): it must name an object, or a hive folder of objects when it ends in `/`."""
    target = _target_key(url, public_base_url)
    if target is None:
        return f"{spec_key}: catalog_file {url} is not below {public_base_url}"
    wanted_folder = target.endswith("/")
    target = target.rstrip("/")
    is_file = target in listed
    is_folder = any(k.startswith(target + "/") for k in listed)
    if (wanted_folder and is_folder) or (not wanted_folder and is_file):
        return None
    if is_file or is_folder:
        found = "a hive folder" if is_folder else "a single file"
        wanted = "a hive folder (URL ending in /)" if wanted_folder else "a single file"
        return f"{spec_key}: catalog_file {url} names {wanted}, but {target} is {found}"
    return f"{spec_key}: catalog_file {url} points at nothing ({target} is missing)"


def _catalog_files(
    bucket: Bucket,
    pool: ThreadPoolExecutor,
    prefix: str,
    listing: dict[str, StoredObject],
    spec_keys: list[str],
    public_base_url: str,
) -> list[str]:
    """Read each spec (small JSON) and check its catalog_file against `listing` (keys relative
    to `prefix`), or a listing of its own when it points outside `prefix`."""

    def check(key: str) -> str | None:
        raw = bucket.get_bytes(prefix + key)
        if raw is None:
            return f"{prefix}{key}: missing"
        try:
            url = str(json.loads(raw)["catalog_file"])
        except (ValueError, KeyError, TypeError) as exc:
            return f"{prefix}{key}: unreadable spec ({one_line(exc)})"
        target = _target_key(url, public_base_url) or ""
        if target.startswith(prefix):
            listed = {prefix + k: o for k, o in listing.items()}
        else:
            listed = bucket.list(target.rstrip("/"))
        return catalog_file_problem(prefix + key, url, public_base_url, listed)

    return [p for p in pool.map(check, spec_keys) if p]


def metacatalog_names(raw: bytes) -> list[str]:
    """The `name` column of a metacatalog.parquet held in memory."""
    # Not pq.read_table: its dataset scanner decodes on Arrow's CPU thread pool even with
    # use_threads=False, and a pool worker then drops the last reference to the reader and its
    # Python file object. Done while the interpreter finalizes, that needs the GIL, so CPython
    # ends the worker thread, and its unwinding through Arrow's noexcept destructor aborts the
    # process ("terminate called without an active exception"). ParquetFile.read decodes on
    # this thread, over an Arrow buffer, and the reader is released here when it is closed.
    with pq.ParquetFile(pa.BufferReader(raw), pre_buffer=False) as parquet:
        table = parquet.read(columns=["name"], use_threads=False)
    return sorted(set(table.column("name").to_pylist()))


def _metacatalog(
    bucket: Bucket,
    report: VerifyReport,
    prefix: str,
    listing: dict[str, StoredObject],
    known: set[str] | None,
) -> None:
    """The metacatalog names only datastores in `listing`; `known` are the version's datastores
    (None: unknown, the archive has no manifest)."""
    key = prefix + METACATALOG
    if METACATALOG not in listing:
        report.problems.append(f"{key}: missing")
        return
    raw = bucket.get_bytes(key)
    if raw is None:
        report.problems.append(f"{key}: missing")
        return
    try:
        names = metacatalog_names(raw)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        report.problems.append(f"{key}: unreadable ({type(exc).__name__}: {one_line(exc)})")
        return
    report.names = len(names)
    where = "at the root" if not prefix else f"in {prefix}"
    present = _datastores_present(listing)
    absent = [n for n in names if n not in present]
    if known is None:
        if absent:
            report.notes.append(
                f"{key}: names without a datastore {where} (without a manifest, an external "
                f"entry cannot be told from a missing datastore): {', '.join(absent)}"
            )
        return
    report.problems += [f"{key}: names {n}, which is not {where}" for n in absent if n in known]
    external = [n for n in absent if n not in known]
    if external:
        report.notes.append(
            f"{key}: {len(external)} name(s) with no datastore in the version, kept as the "
            f"source has them (another project's catalog): {', '.join(external)}"
        )


def _read_manifest(bucket: Bucket, version: str, report: VerifyReport) -> Manifest | None:
    key = archive_prefix(version) + MANIFEST
    raw = bucket.get_bytes(key)
    if raw is None:
        report.notes.append(
            f"{key}: none (archived before manifests); checking what can be checked without it"
        )
        return None
    try:
        return Manifest.from_bytes(raw)
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"{key}: unreadable manifest ({one_line(exc)})")
        return None


def _expected(manifest: Manifest) -> dict[str, StoredObject]:
    objects = {k: o for d in manifest.datastores.values() for k, o in d.objects.items()}
    if manifest.metacatalog:
        objects[METACATALOG] = manifest.metacatalog
    return objects


def _check(
    bucket: Bucket,
    report: VerifyReport,
    prefix: str,
    listing: dict[str, StoredObject],
    expected: dict[str, StoredObject] | None,
    recorded_by: str,
    known: set[str] | None,
    public_base_url: str,
    specs_presence_only: bool,
) -> None:
    """The checks shared by the root and an archive; `listing` is relative to `prefix`."""
    if expected is not None:
        specs = {k for k in expected if _is_spec(k)} if specs_presence_only else set()
        report.problems += compare_objects(expected, listing, prefix, recorded_by, specs)
    names = sorted(known) if known is not None else sorted(from_listing(listing))
    report.datastores = len(names)
    report.objects = len(listing)
    report.bytes = sum(o.size for o in listing.values())
    spec_keys = [_spec_key(n) for n in names if _spec_key(n) in listing]
    report.catalog_files = len(spec_keys)
    with ThreadPoolExecutor(bucket.concurrency, thread_name_prefix="verify") as pool:
        report.problems += _catalog_files(bucket, pool, prefix, listing, spec_keys, public_base_url)
    _metacatalog(bucket, report, prefix, listing, known)


def verify_archive(bucket: Bucket, version: str, public_base_url: str) -> VerifyReport:
    """Check `versions/<version>/` against its manifest."""
    prefix = archive_prefix(version)
    report = VerifyReport(prefix)
    listing = {k.removeprefix(prefix): o for k, o in bucket.list(prefix).items()}
    if not listing:
        report.problems.append(f"{prefix}: nothing archived for {version}")
        return report
    manifest = _read_manifest(bucket, version, report)
    listing.pop(MANIFEST, None)
    _check(
        bucket,
        report,
        prefix,
        listing,
        _expected(manifest) if manifest else None,
        f"{version}'s manifest",
        set(manifest.datastores) if manifest else None,
        public_base_url,
        specs_presence_only=False,
    )
    return report


def root_listing(bucket: Bucket) -> dict[str, StoredObject]:
    """The root's catalog objects: `source/...` and `metacatalog.parquet`."""
    listing = bucket.list("source/")
    meta = bucket.list(METACATALOG).get(METACATALOG)
    return {**listing, METACATALOG: meta} if meta else listing


def verify_root(bucket: Bucket, public_base_url: str) -> VerifyReport:
    """Check the root against the manifest of the current version (from `versions.json`)."""
    index = read_versions_index(bucket)
    current, promoting = index.get("current"), index.get("promoting")
    report = VerifyReport(f"root ({current or 'no current version'})")
    if promoting:
        report.notes.append(
            f"versions.json: {promoting} is being promoted (current is still {current}); "
            "the root may be part way through the copy"
        )
    listing = root_listing(bucket)
    if current is None:
        if not index.get("versions"):
            report.notes.append(f"{VERSIONS_JSON}: no version published here")
        report.problems += [
            f"{k}: at the root, but versions.json names no current version" for k in listing
        ]
        return report
    manifest = _read_manifest(bucket, current, report)
    if manifest:
        expected, recorded_by = _expected(manifest), f"{current}'s manifest"
    else:
        prefix = archive_prefix(current)
        archived = bucket.list(prefix)
        expected = {k.removeprefix(prefix): o for k, o in archived.items()}
        expected.pop(MANIFEST, None)
        recorded_by = f"the archive of {current}"
    _check(
        bucket,
        report,
        "",
        listing,
        expected,
        recorded_by,
        set(manifest.datastores) if manifest else None,
        public_base_url,
        specs_presence_only=True,
    )
    return report
