"""Asset checks: they pass on a good version, and a failing blocking check stops the publish.

To make a check fail honestly the staged build is corrupted between two runs (as a bad disk or a
stray hand edit would): the second run finds the inputs unchanged, reuses the build, and the
checks, which read the files themselves, catch what the pipeline's own records cannot.
"""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from mirror_assets.definitions import build_resources
from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.checks import mirror_checks
from mirror_assets.state.staging import VersionStaging
from mirror_assets.store.bucket import LocalBucket
from mirror_assets.store.invariants import catalog_file_problems, partition_layout_problems
from mirror_assets_tests.pipeline import (
    BASE_URL,
    VERSION_A,
    VERSION_B,
    check_evaluations,
    root_snapshot,
    run_job,
    settings_for,
    versions_index,
)

BLOCKING = {
    "rows_preserved_per_datastore",
    "partition_layout_matches",
    "sidecar_num_records_match_rows",
    "metacatalog_names_unique",
}


def test_checks_are_in_the_job_and_blocking_where_they_guard_promotion(tmp_path, sample_catalog):
    staging = tmp_path / "staging"
    settings = settings_for(sample_catalog, tmp_path / "dest", staging)
    result = run_job(settings, VERSION_B)
    assert result.success
    evaluations = check_evaluations(result)
    assert set(evaluations) == {spec.name for check in mirror_checks for spec in check.check_specs}
    failed = {name for name, e in evaluations.items() if not e.passed}
    # The sample's cordex_ig45 predates upstream's rename of experiment_id to
    # driving_experiment_id: a warning, and the version is still published and promoted.
    assert failed == {"partition_columns_present"}
    columns = evaluations["partition_columns_present"]
    assert columns.severity == dg.AssetCheckSeverity.WARN
    assert columns.metadata["missing_partition_columns"].value == (
        "cordex_ig45: driving_experiment_id"
    )
    assert columns.description == (
        f"{staging.resolve()}/{VERSION_B}/raw/source/cordex_ig45.parquet: partition column(s) "
        "driving_experiment_id not in the datastore; partitioned by nothing (one file)"
    )
    assert versions_index(tmp_path / "dest")["current"] == VERSION_B
    blocking = {spec.name for check in mirror_checks for spec in check.check_specs if spec.blocking}
    assert blocking == BLOCKING


def _tamper_num_records(staging, name):
    path = staging / VERSION_B / "build" / "source" / f"{name}_metadata.json"
    document = json.loads(path.read_text())
    document["num_records"] += 1
    path.write_text(json.dumps(document))


def _drop_one_partition_file(staging, name):
    folder = staging / VERSION_B / "build" / "source" / f"{name}.parquet"
    next(p for p in sorted(folder.rglob("*.parquet")) if p.is_file()).unlink()


def _flatten_partition_folder(staging, name):
    folder = staging / VERSION_B / "build" / "source" / f"{name}.parquet"
    files = sorted(p for p in folder.rglob("*.parquet") if p.is_file())
    for i, path in enumerate(files):
        path.rename(folder / f"part{i}.parquet")


def _small_datastore_as_hive_folder(staging, name):
    """What the code before the single-file rule wrote for a small datastore in the table."""
    single = staging / VERSION_B / "build" / "source" / f"{name}.parquet"
    folder = single.with_name("folder.parquet")
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{single}')) TO '{folder}' "
            "(FORMAT parquet, PARTITION_BY (realm, table_id))"
        )
    single.unlink()
    folder.rename(single)


@pytest.mark.parametrize(
    ("tamper", "name", "check", "words", "single_file_max_records"),
    [
        (
            _tamper_num_records,
            "by473",
            "sidecar_num_records_match_rows",
            "num_records 8, source",
            5000,
        ),
        # 4: the sample's 5-row datastores in the partition table are hive folders.
        (_drop_one_partition_file, "cmip6_oi10", "rows_preserved_per_datastore", "rows, source", 4),
        (
            _flatten_partition_folder,
            "era5_rt52",
            "partition_layout_matches",
            "expected product=",
            4,
        ),
        (
            _small_datastore_as_hive_folder,
            "cmip6_oi10",
            "partition_layout_matches",
            "expected a single parquet file",
            5000,
        ),
    ],
    ids=["sidecar_num_records", "rows_lost", "partition_folders", "small_as_folder"],
)
def test_failing_blocking_check_stops_published_catalog(
    tmp_path, sample_catalog, tamper, name, check, words, single_file_max_records
):
    dest, staging = tmp_path / "dest", tmp_path / "staging"
    settings = settings_for(
        sample_catalog, dest, staging, single_file_max_records=single_file_max_records
    )
    assert run_job(settings, VERSION_A).success
    # Build v2025-02-28 without publishing it, then corrupt the staged build.
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("catalog_version", [VERSION_B])
    unpublished = [a for a in mirror_assets if a.key.to_user_string() != "published_catalog"]
    assert dg.materialize(
        unpublished, partition_key=VERSION_B, instance=instance, resources=build_resources(settings)
    ).success
    tamper(staging, name)
    root_before, index_before = root_snapshot(dest), versions_index(dest)

    result = run_job(settings, VERSION_B)

    assert not result.success
    evaluation = check_evaluations(result)[check]
    assert not evaluation.passed
    assert words in evaluation.description and name in evaluation.description
    # published_catalog never ran: nothing of v2025-02-28 reached the store.
    assert not result.asset_materializations_for_node("published_catalog")
    assert not (dest / "versions" / VERSION_B).exists()
    assert root_snapshot(dest) == root_before
    assert versions_index(dest) == index_before


def test_catalog_file_check_finds_a_spec_pointing_at_nothing(tmp_path, sample_catalog):
    dest = tmp_path / "dest"
    assert run_job(settings_for(sample_catalog, dest, tmp_path / "staging"), VERSION_B).success
    bucket = LocalBucket(dest)
    keys = [f"versions/{VERSION_B}/source/by473.json", "source/by473.json"]
    assert catalog_file_problems(bucket, BASE_URL, keys) == []

    (dest / "versions" / VERSION_B / "source" / "by473.parquet").unlink()
    spec = json.loads((dest / "source" / "by473.json").read_text())
    spec["catalog_file"] = "https://elsewhere.example/by473.parquet"
    (dest / "source" / "by473.json").write_text(json.dumps(spec))

    problems = catalog_file_problems(bucket, BASE_URL, keys)
    assert problems == [
        f"versions/{VERSION_B}/source/by473.json: catalog_file "
        f"{BASE_URL}/versions/{VERSION_B}/source/by473.parquet points at nothing "
        f"(versions/{VERSION_B}/source/by473.parquet is missing)",
        f"source/by473.json: catalog_file https://elsewhere.example/by473.parquet "
        f"is not below {BASE_URL}",
    ]


class ReadCountingBucket(LocalBucket):
    """A local bucket that records the keys read whole."""

    def __init__(self, root):
        super().__init__(root)
        self.read: list[str] = []

    def get_bytes(self, key):
        self.read.append(key)
        return super().get_bytes(key)


def test_catalog_file_check_reads_only_specs_that_differ_from_the_build(tmp_path, sample_catalog):
    """A published spec whose listed ETag is the built spec's, pointed beside itself, is known
    without reading it; one that differs is read, and its problem found."""
    dest, staging = tmp_path / "dest", tmp_path / "staging"
    settings = settings_for(sample_catalog, dest, staging, single_file_max_records=4)
    assert run_job(settings, VERSION_B).success
    built = VersionStaging.of(staging, VERSION_B).build / "source"
    names = ["by473", "cmip6_oi10"]  # a single file (no partition columns) and a hive folder
    keys = [f"{prefix}source/{n}.json" for prefix in (f"versions/{VERSION_B}/", "") for n in names]
    bucket = ReadCountingBucket(dest)
    assert catalog_file_problems(bucket, BASE_URL, keys, built) == []
    assert bucket.read == []

    archived = dest / "versions" / VERSION_B / "source" / "cmip6_oi10.json"
    spec = json.loads(archived.read_text())
    spec["catalog_file"] = spec["catalog_file"].rstrip("/")
    archived.write_text(json.dumps(spec))
    problems = catalog_file_problems(bucket, BASE_URL, keys, built)
    assert bucket.read == [f"versions/{VERSION_B}/source/cmip6_oi10.json"]
    assert problems == [
        f"versions/{VERSION_B}/source/cmip6_oi10.json: catalog_file {spec['catalog_file']} names "
        f"a single file, but versions/{VERSION_B}/source/cmip6_oi10.parquet is a hive folder"
    ]


def test_partition_layout_problems(tmp_path):
    single = tmp_path / "a.parquet"
    single.write_bytes(b"x")
    assert partition_layout_problems(single, []) == []
    assert (
        "expected a hive-partitioned folder by realm"
        in partition_layout_problems(single, ["realm"])[0]
    )
    folder = tmp_path / "b.parquet"
    (folder / "realm=ocean" / "table_id=Omon").mkdir(parents=True)
    (folder / "realm=ocean" / "table_id=Omon" / "data_0.parquet").write_bytes(b"x")
    assert partition_layout_problems(folder, ["realm", "table_id"]) == []
    assert (
        "expected table_id=.../realm=..."
        in partition_layout_problems(folder, ["table_id", "realm"])[0]
    )


def test_catalog_file_check_finds_a_folder_named_as_a_file_and_back(tmp_path):
    """A hive folder's catalog_file ends in / (polars reads it only then); a file's does not."""
    source = tmp_path / "source"
    (source / "cj877.parquet" / "realm=ocean").mkdir(parents=True)
    (source / "cj877.parquet" / "realm=ocean" / "data_0.parquet").write_bytes(b"x")
    (source / "by473.parquet").write_bytes(b"x")
    specs = {
        "cj877_ok": "cj877.parquet/",
        "cj877_no_slash": "cj877.parquet",
        "by473_ok": "by473.parquet",
        "by473_slash": "by473.parquet/",
    }
    for spec, target in specs.items():
        document = {"catalog_file": f"{BASE_URL}/source/{target}"}
        (source / f"{spec}.json").write_text(json.dumps(document))

    problems = catalog_file_problems(
        LocalBucket(tmp_path), BASE_URL, [f"source/{s}.json" for s in specs]
    )

    assert problems == [
        f"source/cj877_no_slash.json: catalog_file {BASE_URL}/source/cj877.parquet names a "
        "single file, but source/cj877.parquet is a hive folder",
        f"source/by473_slash.json: catalog_file {BASE_URL}/source/by473.parquet/ names a hive "
        "folder (URL ending in /), but source/by473.parquet is a single file",
    ]
