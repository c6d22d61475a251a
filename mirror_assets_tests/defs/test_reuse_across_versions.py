"""A backfill costs what changed: three versions where the second changes one datastore and the
third adds one and drops one. Unchanged datastores are linked from the version that built them
and copied server-side in the bucket, never built or uploaded again."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from mirror_assets_tests.destinations import Store, settings
from mirror_assets_tests.pipeline import (
    ALL_B,
    BASE_URL,
    VERSION_B,
    metadata_of,
    run_job,
    table_rows,
)

pytestmark = pytest.mark.slow

V1, V2, V3 = "v2025-03-01", "v2025-04-01", "v2025-05-01"
V3_NAMES = sorted([n for n in ALL_B if n != "era5_rt52"] + ["extra"])


def _rewrite(src: Path, dest: Path, keep: str) -> None:
    """`dest`: the rows of the datastore `src` that satisfy `keep` (other content)."""
    with duckdb.connect() as con:
        rows = f"SELECT * FROM read_parquet('{src}') QUALIFY {keep}"
        con.execute(f"COPY ({rows}) TO '{dest}' (FORMAT parquet)")


def make_three_versions(sample_catalog: Path) -> Path:
    """V1, V2 (by473 loses a row) and V3 (extra added, era5_rt52 dropped) from the sample."""
    base = sample_catalog / VERSION_B
    for version in (V1, V2, V3):
        shutil.copytree(base, sample_catalog / version)
    shutil.rmtree(base)
    shutil.rmtree(sample_catalog / "v2025-01-29")
    by473 = sample_catalog / V2 / "source" / "by473.parquet"
    changed = by473.with_name("changed.parquet")
    _rewrite(by473, changed, "row_number() OVER () > 1")
    changed.replace(by473)
    shutil.copy(by473, sample_catalog / V3 / "source" / "by473.parquet")
    v3 = sample_catalog / V3 / "source"
    _rewrite(v3 / "cmip5_al33.parquet", v3 / "extra.parquet", "row_number() OVER () > 2")
    shutil.copy(v3 / "cmip5_al33.json", v3 / "extra.json")
    for suffix in (".parquet", ".json"):
        (v3 / f"era5_rt52{suffix}").unlink()
    return sample_catalog


@pytest.fixture
def three_versions(sample_catalog: Path) -> Path:
    return make_three_versions(sample_catalog)


def _states(result, asset: str) -> dict[str, str]:
    rows = table_rows(metadata_of(result, asset))
    return {
        n: (r["reused_from"] or ("unchanged" if r["unchanged"] else "built"))
        for n, r in rows.items()
    }


def _datastores(store: Store, prefix: str) -> list[str]:
    return sorted(
        k.removeprefix(f"{prefix}source/").removesuffix(".json")
        for k in store.listing(prefix)
        if k.startswith(f"{prefix}source/")
        and k.endswith(".json")
        and not k.endswith("_metadata.json")
        and k.count("/") == prefix.count("/") + 1
    )


def _uploads(store: Store, version: str) -> tuple[set[str], set[str]]:
    """The keys of `version`'s archive that received a body, and those copied server-side."""
    assert store.proxy is not None
    prefix = f"/{store.dest.removeprefix('s3://')}/versions/{version}/"
    sent = {
        p.split("?")[0].removeprefix(prefix)
        for p, _, copy in store.proxy.puts
        if prefix in p and not copy
    }
    copied = {
        p.split("?")[0].removeprefix(prefix)
        for p, _, copy in store.proxy.puts
        if prefix in p and copy
    }
    return sent, copied


def test_a_backfill_builds_and_uploads_each_distinct_datastore_once(
    tmp_path, three_versions, store
):
    staging = tmp_path / "staging"
    runs, uploads = {}, {}
    for version in (V1, V2, V3):
        if store.proxy:
            store.proxy.clear()
        runs[version] = run_job(settings(three_versions, staging, store), version)
        assert runs[version].success
        if store.proxy:
            uploads[version] = _uploads(store, version)

    # Transforms: built once, then linked from the version that built them.
    for asset in ("datastore_sidecars", "partitioned_datastores"):
        assert set(_states(runs[V1], asset).values()) == {"built"}
        assert _states(runs[V2], asset) == {n: "built" if n == "by473" else V1 for n in ALL_B}
        assert _states(runs[V3], asset) == {
            n: "built" if n == "extra" else (V2 if n == "by473" else V1) for n in V3_NAMES
        }
    assert metadata_of(runs[V2], "partitioned_datastores")["datastores_reused"] == 6

    # Every archived version and the root hold exactly their datastores.
    assert _datastores(store, f"versions/{V1}/") == ALL_B
    assert _datastores(store, f"versions/{V2}/") == ALL_B
    assert _datastores(store, f"versions/{V3}/") == V3_NAMES
    assert _datastores(store, "") == V3_NAMES
    for prefix in (f"versions/{V1}/", f"versions/{V3}/", ""):
        for name in _datastores(store, prefix):
            url = store.json(f"{prefix}source/{name}.json")["catalog_file"]
            assert url == f"{BASE_URL}/{prefix}source/{name}.parquet"
    v1 = store.listing(f"versions/{V1}/")
    v2 = store.listing(f"versions/{V2}/")
    same = [
        k.removeprefix(f"versions/{V1}/")
        for k in v1
        if "/by473" not in k and k.endswith(("parquet", "_metadata.json"))
    ]
    same.remove("metacatalog.parquet")
    assert same and all(v2[f"versions/{V2}/{k}"] == v1[f"versions/{V1}/{k}"] for k in same)

    # Uploads: only what changed went through the client; the rest was copied in the bucket.
    published = metadata_of(runs[V2], "published_catalog")
    assert published["objects_copied_from_other_versions"] == len(same)
    assert published["bytes_not_uploaded"] > 0
    reused = table_rows(published, "reused_from_other_versions")
    assert {n: r["reused_from"] for n, r in reused.items()} == {
        n: V1 for n in ALL_B if n != "by473"
    }
    assert sum(r["objects_copied"] for r in reused.values()) == len(same)
    assert sum(r["bytes_not_uploaded"] for r in reused.values()) == published["bytes_not_uploaded"]
    if store.proxy:
        sent, copied = uploads[V2]
        assert copied == set(same)
        specs = {f"source/{n}.json" for n in ALL_B}
        assert sent == specs | {"metacatalog.parquet", "manifest.json"} | {
            k.removeprefix(f"versions/{V2}/") for k in v2 if "/by473" in k
        }
        sent3, _ = uploads[V3]
        assert {k for k in sent3 if not k.endswith(".json")} >= {
            "source/extra_uniqs.parquet",
            "source/extra.parquet",
        }
        assert not any("by473" in k and not k.endswith("by473.json") for k in sent3)


def test_a_corrupted_archived_object_is_uploaded_not_copied(tmp_path, three_versions, store):
    staging = tmp_path / "staging"
    assert run_job(settings(three_versions, staging, store), V1).success
    damaged = f"versions/{V1}/source/cmip5_al33_uniqs.parquet"
    store.write(damaged, b"not what the manifest says")
    if store.proxy:
        store.proxy.clear()

    second = run_job(settings(three_versions, staging, store), V2)

    assert second.success
    good = store.listing(f"versions/{V2}/")[f"versions/{V2}/source/cmip5_al33_uniqs.parquet"]
    assert good != store.listing(damaged)[damaged]
    published = metadata_of(second, "published_catalog")
    assert table_rows(published, "reused_from_other_versions")["cmip5_al33"]["reused_from"] == V1
    if store.proxy:
        sent, copied = _uploads(store, V2)
        assert "source/cmip5_al33_uniqs.parquet" in sent
        assert "source/cmip5_al33_uniqs.parquet" not in copied
        assert "source/cmip5_al33_metadata.json" in copied


def test_no_reuse_builds_and_uploads_everything(tmp_path, three_versions, store):
    staging = tmp_path / "staging"
    assert run_job(settings(three_versions, staging, store), V1).success

    again = run_job(settings(three_versions, staging, store), V2, reuse=False)

    assert again.success
    assert set(_states(again, "partitioned_datastores").values()) == {"built"}
    assert metadata_of(again, "published_catalog")["objects_copied_from_other_versions"] == 0
