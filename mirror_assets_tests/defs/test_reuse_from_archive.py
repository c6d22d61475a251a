"""A backfill on new machines: each version runs from an empty staging folder against the same
destination. A datastore whose inputs and shaping equal those of a build an archived version's
manifest records is not transformed again: its objects are copied server-side from that archive,
and only its spec is written for the new version."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import pyarrow.parquet as pq
import pytest

from mirror_assets.definitions import build_definitions
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets_tests.defs.test_reuse_across_versions import (
    V1,
    V2,
    V3,
    V3_NAMES,
    _datastores,
    _states,
    _uploads,
    make_three_versions,
)
from mirror_assets_tests.destinations import Store, settings
from mirror_assets_tests.pipeline import (
    ALL_B,
    BASE_URL,
    check_evaluations,
    log_messages,
    metadata_of,
    run_job,
    table_rows,
)

pytestmark = pytest.mark.slow

# Small enough that the datastores with partition columns are hive folders.
SINGLE_FILE_MAX = 4


@pytest.fixture
def three_versions(sample_catalog: Path) -> Path:
    return make_three_versions(sample_catalog)


def _run(three_versions, tmp_path, store: Store, version: str, **options):
    """`version` on a machine of its own: a staging folder nothing was built in."""
    staging = tmp_path / f"machine-{version}"
    assert not staging.exists()
    if store.proxy:
        store.proxy.clear()
    config = settings(three_versions, staging, store, single_file_max_records=SINGLE_FILE_MAX)
    result = run_job(config, version, **options)
    assert result.success
    failed = [
        n
        for n, e in check_evaluations(result).items()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert failed == []
    return result


def _relative(store: Store, prefix: str) -> dict[str, str]:
    """Keys below `prefix` relative to it, with their ETags (unquoted, as manifests hold them)."""
    return {k.removeprefix(prefix): v.strip('"') for k, v in store.listing(prefix).items()}


def _holds_its_manifest(store: Store, version: str) -> dict:
    """The archive of `version` holds exactly what its manifest names, with those ETags (the
    folder destination's listing shows md5s, which are the manifest's ETags there too)."""
    prefix = f"versions/{version}/"
    manifest = store.json(f"{prefix}manifest.json")
    named = {k: o["etag"] for d in manifest["datastores"].values() for k, o in d["objects"].items()}
    named["metacatalog.parquet"] = manifest["metacatalog"]["etag"]
    listing = _relative(store, prefix)
    listing.pop("manifest.json")
    assert listing == named
    return manifest


def _is_spec(key: str) -> bool:
    return key.count("/") == 1 and key.endswith(".json") and not key.endswith("_metadata.json")


def _catalog_files_point_beside_themselves(store: Store, prefix: str) -> None:
    listing = _relative(store, prefix)
    for name in _datastores(store, prefix):
        folder = any(k.startswith(f"source/{name}.parquet/") for k in listing)
        url = store.json(f"{prefix}source/{name}.json")["catalog_file"]
        assert url == f"{BASE_URL}/{prefix}source/{name}.parquet" + ("/" if folder else "")


def test_a_backfill_on_new_machines_copies_unchanged_datastores_from_the_archive(
    tmp_path, three_versions, store
):
    runs, uploads = {}, {}
    for version in (V1, V2, V3):
        runs[version] = _run(three_versions, tmp_path, store, version)
        if store.proxy:
            # Keys as requested (URL-encoded) -> keys.
            sent, copied = _uploads(store, version)
            uploads[version] = ({unquote(k) for k in sent}, {unquote(k) for k in copied})

    # Transforms: only what changed is built; the rest is taken from the newest archive.
    for asset in ("datastore_sidecars", "partitioned_datastores"):
        assert set(_states(runs[V1], asset).values()) == {"built"}
        assert _states(runs[V2], asset) == {n: "built" if n == "by473" else V1 for n in ALL_B}
        assert _states(runs[V3], asset) == {n: "built" if n == "extra" else V2 for n in V3_NAMES}
    partitioned = metadata_of(runs[V2], "partitioned_datastores")
    assert partitioned["datastores_reused"] == 6
    assert (
        partitioned["total_rows"]
        == metadata_of(runs[V1], "partitioned_datastores")["total_rows"] - 1
    )
    # Nothing of a reused datastore was written on the new machine but its spec.
    built = tmp_path / f"machine-{V2}" / V2 / "build" / "source"
    assert sorted(p.name for p in built.iterdir() if "cmip5_al33" in p.name) == ["cmip5_al33.json"]

    # Every archived version and the root hold exactly their datastores' objects.
    assert _datastores(store, f"versions/{V1}/") == ALL_B
    assert _datastores(store, f"versions/{V2}/") == ALL_B
    assert _datastores(store, f"versions/{V3}/") == V3_NAMES
    assert _datastores(store, "") == V3_NAMES
    manifests = {v: _holds_its_manifest(store, v) for v in (V1, V2, V3)}
    v1, v2, v3 = (_relative(store, f"versions/{v}/") for v in (V1, V2, V3))
    root = {k: e for k, e in _relative(store, "").items() if k.startswith("source/")}
    assert root.keys() == {k for k in v3 if k.startswith("source/")}
    assert {k: e for k, e in root.items() if not k.endswith(".json")} == {
        k: e for k, e in v3.items() if k.startswith("source/") and not k.endswith(".json")
    }
    assert any(k.startswith("source/cmip5_al33.parquet/") for k in v2), "a hive folder"
    for prefix in (f"versions/{V1}/", f"versions/{V2}/", f"versions/{V3}/", ""):
        _catalog_files_point_beside_themselves(store, prefix)
    # The web app's contract: num_records in the uniqs, one object for a small datastore.
    uniqs = pq.read_metadata(
        io.BytesIO(store.read(f"versions/{V2}/source/era5_rt52_uniqs.parquet"))
    )
    assert (
        uniqs.metadata[b"num_records"]
        == str(manifests[V2]["datastores"]["era5_rt52"]["rows"]).encode()
    )
    # A reused datastore with no partition columns stays one object; the metacatalog is there.
    assert "source/esmvaltool-obs-ct11.parquet" in v2 and "metacatalog.parquet" in v2
    assert store.metacatalog_names(f"versions/{V2}/") == ALL_B

    # The reused datastores' objects are the archived build's, under this version's names.
    for name in (n for n in ALL_B if n != "by473"):
        for key in manifests[V1]["datastores"][name]["objects"]:
            if key != f"source/{name}.json":
                assert v2[key] == v1[key]
        entry = manifests[V2]["datastores"][name]
        assert (
            entry["fingerprints"]["partitioned"]
            == (manifests[V1]["datastores"][name]["fingerprints"]["partitioned"])
        )
        assert entry["rows"] == manifests[V1]["datastores"][name]["rows"]
    same = [k for k in v1 if k.startswith("source/") and "by473" not in k and not _is_spec(k)]

    # Uploads: only what changed went through the client; the rest was copied in the bucket.
    published = metadata_of(runs[V2], "published_catalog")
    assert published["datastores_built"] == 1
    assert published["datastores_copied_from_archive"] == 6
    assert published["objects_copied_from_other_versions"] == len(same)
    reused = table_rows(published, "reused_from_other_versions")
    assert {n: r["reused_from"] for n, r in reused.items()} == {
        n: V1 for n in ALL_B if n != "by473"
    }
    assert sum(r["objects_copied"] for r in reused.values()) == len(same)
    assert sum(r["bytes_not_uploaded"] for r in reused.values()) == published["bytes_not_uploaded"]
    # The seconds not spent are what the build took on V1's machine, carried by its manifest.
    build_stages = {"sidecars": "datastore_sidecars", "partitioned": "partitioned_datastores"}
    for stage, asset in build_stages.items():
        taken = {n: manifests[V1]["datastores"][n]["seconds"][stage] for n in reused}
        assert all(s > 0 for s in taken.values())
        rows = table_rows(metadata_of(runs[V2], asset))
        assert {n: rows[n]["seconds"] for n in reused} == taken
        not_spent = metadata_of(runs[V2], asset)["seconds_not_spent"]
        assert not_spent == pytest.approx(sum(taken.values()), abs=1e-3)
        # ... and carried on by V2's manifest, for V3 to take.
        assert {n: manifests[V2]["datastores"][n]["seconds"][stage] for n in reused} == taken
    if store.proxy:
        sent, copied = uploads[V2]
        assert copied == set(same)
        specs = {f"source/{n}.json" for n in ALL_B}
        records = {"metacatalog.parquet", "manifest.json"}
        assert sent == specs | records | {k for k in v2 if k.startswith("source/by473")}
        sent3, copied3 = uploads[V3]
        specs3 = {f"source/{n}.json" for n in V3_NAMES}
        extra = {k for k in v3 if k.startswith("source/extra") and k != "source/extra.json"}
        assert sent3 == specs3 | records | extra
        assert copied3 == {k for k in v3 if k.startswith("source/")} - specs3 - extra


def test_a_corrupted_archived_object_is_rebuilt_with_a_warning(tmp_path, three_versions, store):
    _run(three_versions, tmp_path, store, V1)
    damaged = f"versions/{V1}/source/cmip5_al33_uniqs.parquet"
    store.write(damaged, b"not what the manifest says")

    instance = dg.DagsterInstance.ephemeral()
    second = _run(three_versions, tmp_path, store, V2, instance=instance)

    for asset in ("datastore_sidecars", "partitioned_datastores"):
        states = _states(second, asset)
        assert states == {n: "built" if n in ("by473", "cmip5_al33") else V1 for n in ALL_B}
    # The warning is in the run's event log (the UI), not only on a console.
    assert any(
        "archive: cmip5_al33:" in m and "differs from its manifest" in m
        for m in log_messages(instance, second.run_id)
    )
    key = f"versions/{V2}/source/cmip5_al33_uniqs.parquet"
    assert store.listing(key)[key] != store.listing(damaged)[damaged]
    _holds_its_manifest(store, V2)
    if store.proxy:
        sent, copied = _uploads(store, V2)
        assert "source/cmip5_al33_uniqs.parquet" in sent
        assert "source/cmip5_al33_uniqs.parquet" not in copied


def test_no_reuse_builds_everything_on_a_new_machine(tmp_path, three_versions, store):
    _run(three_versions, tmp_path, store, V1)

    again = _run(three_versions, tmp_path, store, V2, reuse=False)

    for asset in ("datastore_sidecars", "partitioned_datastores"):
        assert set(_states(again, asset).values()) == {"built"}
    published = metadata_of(again, "published_catalog")
    assert published["objects_copied_from_other_versions"] == 0
    assert published["datastores_copied_from_archive"] == 0


def test_reused_objects_are_copied_while_the_version_is_built(tmp_path, three_versions, store):
    """The copies start in the sidecars step, beside the transforms: the publish finds them in
    place and reports them as copied; none is made twice."""
    _run(three_versions, tmp_path, store, V1)
    instance = dg.DagsterInstance.ephemeral()
    second = _run(three_versions, tmp_path, store, V2, instance=instance)

    copied = metadata_of(second, "published_catalog")["objects_copied_from_other_versions"]
    assert copied > 0
    [early] = [
        entry
        for entry in instance.all_logs(second.run_id)
        if entry.user_message.startswith("early copies:")
    ]
    assert early.step_key == "datastore_sidecars"
    assert early.user_message.startswith(
        f"early copies: {copied} object(s) of 6 reused datastore(s) copied into versions/{V2}/"
    )
    if store.proxy:
        prefix = f"/{store.dest.removeprefix('s3://')}/versions/{V2}/"
        order = [copy for path, _, copy in store.proxy.puts if prefix in path]
        # Every copy precedes the publish's first upload into the version, and none repeats.
        assert order == [True] * copied + [False] * (len(order) - copied)
        copies = [p for p, _, copy in store.proxy.puts if prefix in p and copy]
        assert len(set(copies)) == len(copies)


def test_early_copies_no_publish_takes_are_deleted_when_the_run_ends(
    tmp_path, three_versions, store
):
    _run(three_versions, tmp_path, store, V1)
    config = settings(
        three_versions, tmp_path / "machine-V2", store, single_file_max_records=SINGLE_FILE_MAX
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(catalog_versions.name, [V2])
    result = (
        build_definitions(config)
        .resolve_job_def("mirror_catalog")
        .execute_in_process(
            partition_key=V2,
            instance=instance,
            asset_selection=[dg.AssetKey("raw_catalog"), dg.AssetKey("datastore_sidecars")],
        )
    )

    assert result.success
    assert any(m.startswith("early copies:") for m in log_messages(instance, result.run_id))
    assert store.listing(f"versions/{V2}/") == {}
    assert _datastores(store, f"versions/{V1}/") == ALL_B
