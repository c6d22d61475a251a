"""Invariants of a built or published version, checked independently of the code that built it.

Each function returns the problems it found (one line each, naming the file), empty when the
invariant holds.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import duckdb

from mirror_assets.errors import MirrorError, one_line
from mirror_assets.files import tree_files
from mirror_assets.state.staging import VersionStaging
from mirror_assets.store.archived_builds import ArchivedBuild, taken_from_archive
from mirror_assets.store.bucket import Bucket
from mirror_assets.store.publish import archive_prefix, spec_bytes
from mirror_assets.store.transfers import run_all
from mirror_assets.transforms.datastore import count_rows, read_schema
from mirror_assets.transforms.layout import DatastoreLayout, choose_layout
from mirror_assets.transforms.specs import public_catalog_url


def _rows(con: duckdb.DuckDBPyConnection, path: Path, hive: bool = False) -> int | str:
    try:
        return count_rows(con, path, hive=hive)
    except MirrorError as exc:
        return exc.cause


def rows_preserved(
    con: duckdb.DuckDBPyConnection, version: VersionStaging, names: list[str]
) -> list[str]:
    """The partitioned output of each datastore holds exactly the source's rows. One taken from
    an archived build is checked against the rows its version's manifest records (that build's
    files are not here; the same check blocked its own publish)."""
    problems = []
    archived = taken_from_archive(version.status, ("partitioned",))
    for name in names:
        src, dest = version.raw_file(name, ".parquet"), version.built_datastore(name)
        source_rows = _rows(con, src)
        if name in archived:
            problems += _archived_rows_problems(archived[name], ".parquet", src, source_rows)
            continue
        output_rows = _rows(con, dest, hive=dest.is_dir())
        if source_rows != output_rows:
            problems.append(f"{dest}: {output_rows} rows, source {src.name} has {source_rows}")
    return problems


def _archived_rows_problems(
    build: ArchivedBuild, suffix: str, src: Path, source_rows: int
) -> list[str]:
    """A build taken from the archive (its files are not here) must have recorded the rows of
    the fetched source `src`."""
    if build.rows == source_rows:
        return []
    return [
        f"{_archived_key(build, suffix)}: {build.rows} rows recorded in the manifest of "
        f"{build.version}, source {src.name} has {source_rows}"
    ]


def _num_records_kv(con: duckdb.DuckDBPyConnection, uniqs: Path) -> str | None:
    rows = con.execute(
        "SELECT decode(value) FROM parquet_kv_metadata(?) WHERE decode(key) = 'num_records'",
        [str(uniqs)],
    ).fetchall()
    return rows[0][0] if rows else None


def sidecars_match_rows(
    con: duckdb.DuckDBPyConnection, version: VersionStaging, names: list[str]
) -> list[str]:
    """`_uniqs.parquet` num_records and `_metadata.json` num_records equal the source's rows.
    For sidecars taken from an archived build, the rows its version's manifest records do (their
    num_records were checked when that build was published)."""
    problems = []
    archived = taken_from_archive(version.status, ("sidecars",))
    for name in names:
        src = version.raw_file(name, ".parquet")
        rows = _rows(con, src)
        if name in archived:
            problems += _archived_rows_problems(archived[name], "_uniqs.parquet", src, rows)
            continue
        uniqs, metadata = version.uniqs(name), version.metadata_json(name)
        try:
            kv = _num_records_kv(con, uniqs)
        except duckdb.Error as exc:
            kv = f"unreadable ({one_line(exc)})"
        if kv != str(rows):
            problems.append(f"{uniqs}: num_records {kv}, source has {rows} rows")
        try:
            recorded = json.loads(metadata.read_text(encoding="utf-8")).get("num_records")
        except (OSError, ValueError, AttributeError) as exc:
            recorded = f"unreadable ({one_line(exc)})"
        if recorded != rows:
            problems.append(f"{metadata}: num_records {recorded}, source has {rows} rows")
    return problems


def metacatalog_names(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM read_parquet(?)", [str(path)]).fetchall()]


def duplicate_names(names: list[str]) -> list[str]:
    """Names that occur more than once, sorted."""
    return sorted(n for n, count in Counter(names).items() if count > 1)


def unpaired_names(metacatalog: list[str], datastores: list[str]) -> tuple[list[str], list[str]]:
    """(metacatalog names with no datastore pair, datastores with no metacatalog entry)."""
    return sorted(set(metacatalog) - set(datastores)), sorted(set(datastores) - set(metacatalog))


def source_layout(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    configured: list[str],
    single_file_max_records: int,
) -> DatastoreLayout:
    """The layout the fetched datastore `src` must have been written in, from its own columns
    and rows; DatastoreError when it cannot be read."""
    return choose_layout(
        configured, read_schema(con, src).columns, count_rows(con, src), single_file_max_records
    )


def empty_datastores(
    con: duckdb.DuckDBPyConnection, version: VersionStaging, names: list[str]
) -> list[str]:
    """The datastores among `names` whose fetched parquet holds no rows."""
    return [n for n in names if _rows(con, version.raw_file(n, ".parquet")) == 0]


def _archived_key(build: ArchivedBuild, suffix: str) -> str:
    return f"{archive_prefix(build.version)}source/{build.name}{suffix}"


def built_layout_problems(
    version: VersionStaging, name: str, partition_cols: list[str]
) -> list[str]:
    """`partition_layout_problems` of datastore `name`'s build: its local files, or, when it was
    taken from an archived build, that build's objects as the manifest records them."""
    build = taken_from_archive(version.status, ("partitioned",)).get(name)
    if build is None:
        return partition_layout_problems(version.built_datastore(name), partition_cols)
    data = f"source/{build.name}.parquet"
    keys = [k for k in build.objects if k == data or k.startswith(data + "/")]
    where = _archived_key(build, ".parquet")
    if not partition_cols:
        return [] if keys == [data] else [f"{where}: expected a single parquet file"]
    files = [k.removeprefix(data + "/") for k in keys if k != data]
    if not files or data in keys:
        return [f"{where}: expected a hive-partitioned folder by {', '.join(partition_cols)}"]
    for relative in files:
        folders = relative.split("/")[:-1]
        if [unquote(part.partition("=")[0]) for part in folders] != partition_cols:
            return [
                f"{where}/{relative}: partition folders {'/'.join(folders) or '(none)'}, "
                f"expected {'/'.join(c + '=...' for c in partition_cols)}"
            ]
    return []


def partition_layout_problems(dest: Path, partition_cols: list[str]) -> list[str]:
    """Every file of a partitioned output sits under `col=value/` folders for `partition_cols`,
    in order; an unpartitioned output is a single file."""
    if not partition_cols:
        return [] if dest.is_file() else [f"{dest}: expected a single parquet file"]
    if not dest.is_dir():
        return [f"{dest}: expected a hive-partitioned folder by {', '.join(partition_cols)}"]
    files = tree_files(dest)
    if not files:
        return [f"{dest}: no parquet files in the partitioned folder"]
    problems = []
    for path in files:
        folders = path.relative_to(dest).parts[:-1]
        found = [unquote(part.partition("=")[0]) for part in folders]
        if found != partition_cols:
            problems.append(
                f"{path}: partition folders {'/'.join(folders) or '(none)'}, "
                f"expected {'/'.join(c + '=...' for c in partition_cols)}"
            )
            break
    return problems


def _key_of(url: str, public_base_url: str) -> str | None:
    base = public_base_url.rstrip("/") + "/"
    return url[len(base) :] if url.startswith(base) else None


def _catalog_file_target(
    listed: Mapping[str, object], key: str, url: str, target: str
) -> list[str]:
    """`url` (for object `target`) names what the store holds (`listed`: a listing of the
    target's folder): a hive folder of objects when it ends in `/`, else one object."""
    wanted_folder = target.endswith("/")
    target = target.rstrip("/")
    is_file = target in listed
    is_folder = any(k.startswith(target + "/") for k in listed)
    if (wanted_folder and is_folder) or (not wanted_folder and is_file):
        return []
    if is_file or is_folder:
        found = "a hive folder" if is_folder else "a single file"
        wanted = "a hive folder (URL ending in /)" if wanted_folder else "a single file"
        return [f"{key}: catalog_file {url} names {wanted}, but {target} is {found}"]
    return [f"{key}: catalog_file {url} points at nothing ({target} is missing)"]


def catalog_file_problems(
    bucket: Bucket, public_base_url: str, spec_keys: list[str], built: Path | None = None
) -> list[str]:
    """Each published spec's catalog_file is below the public base URL and names an object, or a
    hive folder of objects with a URL ending in `/`, that exists in the store.

    The specs' folders are listed once each, concurrently. A spec is read from the store unless
    `built` (a build's source/ folder) holds it and the listing shows the ETag of the built spec
    pointed at the parquet beside it: then the store holds exactly those bytes."""
    with ThreadPoolExecutor(bucket.concurrency, thread_name_prefix="check") as pool:
        listings = run_all(pool, "list", bucket.list, sorted({_folder(k) for k in spec_keys}))

        def read(key: str) -> bytes | None:
            listed = listings[_folder(key)]
            known = _spec_beside(built, key, listed, public_base_url) if built else None
            if known is not None and bucket.etags(known).matches(listed.get(key)):
                return known
            return bucket.get_bytes(key)

        specs = run_all(pool, "read", read, spec_keys)
    problems = []
    for key in spec_keys:
        raw = specs[key]
        if raw is None:
            problems.append(f"{key}: spec not found in the store")
            continue
        try:
            url = json.loads(raw)["catalog_file"]
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{key}: unreadable spec ({one_line(exc)})")
            continue
        target = _key_of(str(url), public_base_url)
        if target is None:
            problems.append(f"{key}: catalog_file {url} is not below {public_base_url}")
            continue
        folder = _folder(target.rstrip("/"))
        if folder not in listings:
            listings[folder] = bucket.list(folder)
        problems += _catalog_file_target(listings[folder], key, str(url), target)
    return problems


def _folder(key: str) -> str:
    """The folder holding `key`, with its trailing `/` ("" at the top)."""
    folder = key.rpartition("/")[0]
    return folder + "/" if folder else ""


def _spec_beside(
    built: Path, key: str, listed: Mapping[str, object], public_base_url: str
) -> bytes | None:
    """The spec a publish writes at `key` from the build's spec: catalog_file pointed at the
    parquet beside it (a hive folder if `listed` holds objects below it); None if not built."""
    name = key.rpartition("/")[2].removesuffix(".json")
    prefix = key.removesuffix(f"source/{name}.json")
    folder = any(k.startswith(f"{prefix}source/{name}.parquet/") for k in listed)
    try:
        return spec_bytes(
            built / f"{name}.json", public_catalog_url(public_base_url, name, prefix, folder)
        )
    except (OSError, MirrorError):  # not built here, or unreadable: read the store's
        return None


def published_spec_keys(version: str, names: list[str], at_root: bool) -> list[str]:
    """The spec keys of a published version's datastores: archived, and at the root if current."""
    keys = [f"{archive_prefix(version)}source/{n}.json" for n in names]
    if at_root:
        keys += [f"source/{n}.json" for n in names]
    return keys
