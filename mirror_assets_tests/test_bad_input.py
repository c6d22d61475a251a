"""The bad-input matrix: each broken input costs its datastore only, with a one-line error naming
the file and the cause; the others are published; the root keeps the version it had.

Every test starts from a destination where v2025-01-29 is published and current, then mirrors
v2025-02-28 (7 datastores) with one thing broken, through the whole mirror_catalog job.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mirror_assets.config.settings import SAMPLE_CATALOG
from mirror_assets_tests.conftest import write_metacatalog, write_parquet
from mirror_assets_tests.pipeline import (
    ALL_B,
    BASE_URL,
    VERSION_A,
    VERSION_B,
    check_evaluations,
    log_messages,
    metacatalog_names,
    metadata_of,
    published_datastores,
    root_snapshot,
    run_job,
    settings_for,
    step_failures,
    table_rows,
    version_rows,
    versions_index,
)

MALFORMED = Path(__file__).parent / "fixtures" / "malformed"


@pytest.fixture(scope="module")
def published_a(tmp_path_factory) -> Path:
    """A destination holding v2025-01-29, published and current."""
    root = tmp_path_factory.mktemp("published_a")
    settings = settings_for(SAMPLE_CATALOG, root / "dest", root / "staging")
    assert run_job(settings, VERSION_A).success
    return root / "dest"


@dataclass
class World:
    catalog: Path
    dest: Path
    staging: Path

    @property
    def source(self) -> Path:
        return self.catalog / VERSION_B / "source"

    instance: dg.DagsterInstance = field(default_factory=dg.DagsterInstance.ephemeral)

    def run(self, partitions=None, single_file_max_records=None, **options):
        settings = settings_for(
            self.catalog,
            self.dest,
            self.staging,
            partitions,
            single_file_max_records=single_file_max_records,
        )
        return run_job(settings, VERSION_B, instance=self.instance, **options)


@pytest.fixture
def world(tmp_path, sample_catalog, published_a) -> World:
    dest = tmp_path / "dest"
    shutil.copytree(published_a, dest)
    return World(sample_catalog, dest, tmp_path / "staging")


def _rewrite_parquet(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def _edit_spec(path: Path, change: Callable[[dict], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _copy_pair(source: Path, name: str, new_name: str) -> None:
    for suffix in (".parquet", ".json"):
        shutil.copyfile(source / f"{name}{suffix}", source / f"{new_name}{suffix}")


@dataclass(frozen=True)
class Case:
    """How to break v2025-02-28's source/, and the failure each datastore must then show."""

    id: str
    breaks: Callable[[Path], None]
    # datastore -> (stage, file it names, words of the cause)
    failed: dict[str, tuple[str, str, str]]
    partitions: dict[str, list[str]] | None = None


CASES = [
    Case(
        "truncated_parquet",
        lambda s: (s / "by473.parquet").write_bytes((s / "by473.parquet").read_bytes()[:700]),
        {"by473": ("sidecars", "by473.parquet", "not a readable parquet file")},
    ),
    Case(
        "parquet_that_is_not_parquet",
        lambda s: shutil.copyfile(MALFORMED / "corrupted.csv", s / "by473.parquet"),
        {"by473": ("sidecars", "by473.parquet", "not a readable parquet file")},
    ),
    Case(
        "invalid_json",
        lambda s: shutil.copyfile(MALFORMED / "corrupted.json", s / "by473.json"),
        {"by473": ("specs", "by473.json", "invalid JSON: Expecting property name")},
    ),
    Case(
        "json_without_catalog_file",
        lambda s: _edit_spec(s / "by473.json", lambda d: d.pop("catalog_file")),
        {"by473": ("specs", "by473.json", "no catalog_file key")},
    ),
    Case(
        "parquet_without_json",
        lambda s: (s / "by473.json").unlink(),
        {"by473": ("fetch", "by473.parquet", "incomplete pair: source/by473.json missing")},
    ),
    Case(
        "json_without_parquet",
        lambda s: (s / "by473.parquet").unlink(),
        {"by473": ("fetch", "by473.json", "incomplete pair: source/by473.parquet missing")},
    ),
    Case(
        "path_column_missing",
        lambda s: _rewrite_parquet(s / "by473.parquet", lambda t: t.drop(["path"])),
        {"by473": ("sidecars", "by473.parquet", "no 'path' column, so project_id cannot")},
    ),
    Case(
        "unsafe_datastore_names",
        lambda s: (_copy_pair(s, "by473", "..by473"), _copy_pair(s, "by473", "sub\\by473")),
        {
            "..by473": ("fetch", "..by473.parquet", "refused: unsafe datastore file name"),
            "sub\\by473": ("fetch", "sub\\by473.parquet", "refused: unsafe datastore file name"),
        },
    ),
    Case(
        "names_differing_only_in_case",
        lambda s: _copy_pair(s, "by473", "BY473"),
        {
            "BY473": ("fetch", "BY473.parquet", "name differs only in case from by473"),
            "by473": ("fetch", "by473.parquet", "name differs only in case from BY473"),
        },
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_datastore_costs_only_itself(world, case):
    root_before = root_snapshot(world.dest)
    case.breaks(world.source)

    result = world.run(case.partitions)

    assert result.success, step_failures(result)
    rows = version_rows(result)
    for name, (stage, file, cause) in case.failed.items():
        row = rows[name]
        assert (row["status"], row["failed_stage"]) == ("failed", stage), row
        assert "\n" not in row["cause"]
        # "<file>: <cause>": the file is named first, then the cause.
        where, _, why = row["cause"].partition(": ")
        assert where.endswith(file), row["cause"]
        assert cause in why, row["cause"]
    healthy = sorted(set(ALL_B) - set(case.failed))
    assert sorted(n for n, r in rows.items() if r["status"] == "ok") == healthy
    # The others are archived; the broken ones and their metacatalog entries are left out.
    archive = f"versions/{VERSION_B}/"
    assert published_datastores(world.dest, archive) == healthy
    assert metacatalog_names(world.dest / archive / "metacatalog.parquet") == healthy
    # Not promoted: readers still get v2025-01-29, untouched.
    index = versions_index(world.dest)
    assert index["current"] == VERSION_A
    assert [v["promotable"] for v in index["versions"] if v["version"] == VERSION_B] == [False]
    assert root_snapshot(world.dest) == root_before
    assert metadata_of(result, "published_catalog")["promoted"] is False


def test_an_empty_datastore_is_published_with_empty_sidecars(world):
    """An experiment whose output is not there yet: zero rows is valid input, not a failure."""
    schema = pq.read_schema(world.source / "by473.parquet")
    _rewrite_parquet(world.source / "by473.parquet", lambda t: t.slice(0, 0))

    result = world.run()

    assert result.success, step_failures(result)
    row = version_rows(result)["by473"]
    assert (row["status"], row["rows"]) == ("ok", 0)
    for where in ("", f"versions/{VERSION_B}/"):
        source = world.dest / where / "source"
        published = pq.read_table(source / "by473.parquet")
        assert published.num_rows == 0
        assert published.schema.remove_metadata() == schema.remove_metadata()
        uniqs = source / "by473_uniqs.parquet"
        assert pq.read_table(uniqs).to_pylist() == [{c: [] for c in schema.names if c != "path"}]
        assert pq.read_metadata(uniqs).metadata[b"num_records"] == b"0"
        document = json.loads((source / "by473_metadata.json").read_text())
        assert document == {"project_id": None, "num_records": 0}
        spec = json.loads((source / "by473.json").read_text())
        assert spec["catalog_file"] == f"{BASE_URL}/{where}source/by473.parquet"
    checks = check_evaluations(result)
    empty = checks["datastores_not_empty"]
    assert (empty.passed, empty.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert empty.metadata["empty_datastores"].value == "by473"
    assert empty.description == (
        f"{world.staging.resolve()}/{VERSION_B}/raw/source/by473.parquet: no rows (published empty)"
    )
    assert checks["sidecar_num_records_match_rows"].passed
    assert checks["rows_preserved_per_datastore"].passed
    # A warning: the version is complete and promoted.
    assert versions_index(world.dest)["current"] == VERSION_B
    assert published_datastores(world.dest) == ALL_B


def test_a_partition_column_the_datastore_lacks_is_left_out_and_named(world):
    """As when upstream renamed cordex_ig45's experiment_id: the datastore is published,
    partitioned by the configured columns it has, and the missing one is named."""
    _rewrite_parquet(world.source / "cmip6_oi10.parquet", lambda t: t.drop(["table_id"]))

    # 4: the sample's 5-row datastores in the partition table are hive folders.
    result = world.run(single_file_max_records=4)

    assert result.success, step_failures(result)
    row = table_rows(metadata_of(result, "partitioned_datastores"))["cmip6_oi10"]
    assert (row["status"], row["partition_columns"], row["missing_partition_columns"]) == (
        "ok",
        "realm",
        "table_id",
    )
    assert (
        "partitioned: cmip6_oi10 lacks partition column(s) table_id; partitioned by realm"
        in log_messages(world.instance, result.run_id)
    )
    folder = world.dest / "source" / "cmip6_oi10.parquet"
    assert sorted(
        p.relative_to(folder).parent.as_posix() for p in folder.rglob("*") if p.is_file()
    ) == ["realm=atmos", "realm=ocean"]
    spec = json.loads((world.dest / "source" / "cmip6_oi10.json").read_text())
    assert spec["catalog_file"] == f"{BASE_URL}/source/cmip6_oi10.parquet/"
    checks = check_evaluations(result)
    present = checks["partition_columns_present"]
    assert (present.passed, present.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert present.metadata["missing_partition_columns"].value == (
        "cmip6_oi10: table_id; cordex_ig45: driving_experiment_id"
    )
    raw = f"{world.staging.resolve()}/{VERSION_B}/raw/source"
    assert present.description == (
        f"{raw}/cmip6_oi10.parquet: partition column(s) table_id not in the datastore; "
        "partitioned by realm\n"
        f"{raw}/cordex_ig45.parquet: partition column(s) driving_experiment_id not in the "
        "datastore; partitioned by frequency"
    )
    assert checks["partition_layout_matches"].passed
    assert checks["catalog_files_exist"].passed
    # A warning: the version is complete and promoted.
    assert versions_index(world.dest)["current"] == VERSION_B
    assert published_datastores(world.dest) == ALL_B


def test_an_unknown_file_in_source_is_ignored_with_a_warning(world):
    (world.source / "README.txt").write_text("notes left by someone\n")
    (world.source / "by473.csv").write_text("path,realm\n")

    result = world.run()

    assert result.success
    raw = metadata_of(result, "raw_catalog")
    assert raw["ignored_files"] == "README.txt, by473.csv"
    assert any(
        "fetch: ignored unknown file source/README.txt" in line
        for line in log_messages(world.instance, result.run_id)
    )
    # Nothing failed: the version is complete and becomes current.
    assert versions_index(world.dest)["current"] == VERSION_B
    assert published_datastores(world.dest) == ALL_B


def _read_back(path: Path, query: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(query.format(src=f"read_parquet('{path}')")).fetchall()


PARTITION_VALUES = [None, "a/b", "x=y", "50%", "with space", "ñandú/東京", "%2F", "plain"]


def test_awkward_partition_values_round_trip(world):
    n = len(PARTITION_VALUES)
    write_parquet(
        world.source / "awkward.parquet",
        {
            "path": [f"/g/data/zz99/file{i}.nc" for i in range(n)],
            "realm": PARTITION_VALUES,
            "frequency": ["mon", "day"] * (n // 2),
        },
    )
    shutil.copyfile(world.source / "by473.json", world.source / "awkward.json")

    # 8 rows: a hive folder only below the shipped single_file_max_records.
    result = world.run(partitions={"awkward": ["realm"]}, single_file_max_records=7)

    assert result.success
    assert version_rows(result)["awkward"]["status"] == "ok"
    out = world.dest / "versions" / VERSION_B / "source" / "awkward.parquet"
    assert out.is_dir()
    back = _read_back(
        out,
        "SELECT path, realm FROM read_parquet('" + str(out) + "/**/*.parquet', "
        "hive_partitioning = true) ORDER BY path",
    )
    expected = sorted((f"/g/data/zz99/file{i}.nc", v) for i, v in enumerate(PARTITION_VALUES))
    assert back == expected
    # The folder names are what DuckDB wrote, one per distinct value, NULL included.
    assert len([p for p in out.iterdir() if p.is_dir()]) == n
    # Not in the metacatalog: a warning, not a failure.
    pairing = check_evaluations(result)["metacatalog_matches_datastores"]
    assert not pairing.passed and pairing.severity.value == "WARN"
    assert "awkward" in pairing.metadata["datastores_without_entry"].value


def test_nulls_in_list_columns_and_empty_lists_round_trip(world, con):
    lists = [["tas", None], [], None, ["pr"], [None]]
    write_parquet(
        world.source / "lists.parquet",
        {
            "path": [f"/g/data/zz99/f{i}.nc" for i in range(len(lists))],
            "variable": lists,
            "realm": ["atmos"] * len(lists),
        },
    )
    shutil.copyfile(world.source / "by473.json", world.source / "lists.json")

    result = world.run()

    assert result.success
    source = world.dest / "versions" / VERSION_B / "source"
    back = con.execute(
        "SELECT path, variable FROM read_parquet(?) ORDER BY path",
        [str(source / "lists.parquet")],
    ).fetchall()
    assert back == [(f"/g/data/zz99/f{i}.nc", v) for i, v in enumerate(lists)]
    uniqs = con.execute(
        "SELECT variable FROM read_parquet(?)", [str(source / "lists_uniqs.parquet")]
    ).fetchall()
    assert uniqs == [(["pr", "tas"],)]
    assert json.loads((source / "lists_metadata.json").read_text())["num_records"] == 5


def test_a_one_megabyte_string_value_round_trips(world, con):
    big = "x" * (1 << 20) + "end"
    write_parquet(
        world.source / "big.parquet",
        {
            "path": ["/g/data/zz99/a.nc", "/g/data/zz99/b.nc"],
            "description": [big, "short"],
            "realm": ["ocean", "atmos"],
        },
    )
    shutil.copyfile(world.source / "by473.json", world.source / "big.json")

    result = world.run()

    assert result.success
    assert version_rows(result)["big"]["status"] == "ok"
    source = world.dest / "versions" / VERSION_B / "source"
    back = con.execute(
        "SELECT description FROM read_parquet(?) ORDER BY path", [str(source / "big.parquet")]
    ).fetchall()
    assert back == [(big,), ("short",)]
    [(distinct,)] = con.execute(
        "SELECT description FROM read_parquet(?)", [str(source / "big_uniqs.parquet")]
    ).fetchall()
    assert sorted(distinct) == sorted([big, "short"])


def _metacatalog_missing(version_dir: Path) -> None:
    (version_dir / "metacatalog.parquet").unlink()


def _metacatalog_without_yaml(version_dir: Path) -> None:
    _rewrite_parquet(version_dir / "metacatalog.parquet", lambda t: t.drop(["yaml"]))


def _metacatalog_name_is_integer(version_dir: Path) -> None:
    def change(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index("name")
        ids = pa.array(range(table.num_rows), pa.int64())
        return table.set_column(index, "name", ids)

    _rewrite_parquet(version_dir / "metacatalog.parquet", change)


def _metacatalog_not_parquet(version_dir: Path) -> None:
    shutil.copyfile(MALFORMED / "corrupted.csv", version_dir / "metacatalog.parquet")


@pytest.mark.parametrize(
    ("breaks", "cause"),
    [
        (_metacatalog_missing, "metacatalog.parquet not found"),
        (_metacatalog_without_yaml, "wrong metacatalog schema: yaml missing"),
        (
            _metacatalog_name_is_integer,
            "wrong metacatalog schema: name is BIGINT, expected VARCHAR",
        ),
        (_metacatalog_not_parquet, "cannot read metacatalog"),
    ],
    ids=["missing", "column_missing", "wrong_type", "not_parquet"],
)
def test_bad_metacatalog_fails_the_whole_version_fast(world, breaks, cause):
    dest_before = {
        p.relative_to(world.dest).as_posix(): p.read_bytes()
        for p in world.dest.rglob("*")
        if p.is_file()
    }
    breaks(world.catalog / VERSION_B)

    result = world.run()

    assert not result.success
    failures = step_failures(result)
    assert list(failures) == ["raw_catalog"]
    assert "metacatalog.parquet: " + cause in failures["raw_catalog"]
    # Failed fast: nothing downstream ran, nothing was published, the destination is as it was.
    assert not result.asset_materializations_for_node("metacatalog")
    assert not result.asset_materializations_for_node("datastore_sidecars")
    dest_after = {
        p.relative_to(world.dest).as_posix(): p.read_bytes()
        for p in world.dest.rglob("*")
        if p.is_file()
    }
    assert dest_after == dest_before


def test_metacatalog_with_repeated_and_missing_entries_warns(world):
    # A metacatalog entry pointing outside source/ (like era5_rt52's real one, at /g/data/rt52)
    # is kept as it is; a datastore without an entry is published too. Both warn.
    rows = [
        {"name": n, "model": ["m"], "realm": ["r"], "frequency": ["f"], "variable": ["v"]}
        for n in [*ALL_B[:-1], "elsewhere_rt52", "elsewhere_rt52"]
    ]
    write_metacatalog(world.catalog / VERSION_B / "metacatalog.parquet", rows)

    result = world.run()

    assert result.success
    checks = check_evaluations(result)
    assert checks["metacatalog_names_unique"].passed
    pairing = checks["metacatalog_matches_datastores"]
    assert not pairing.passed and pairing.severity.value == "WARN"
    assert pairing.metadata["names_without_datastore"].value == "elsewhere_rt52"
    assert pairing.metadata["datastores_without_entry"].value == "esmvaltool-obs-ct11"
    # Warnings do not block: the version is complete, promoted, and its metacatalog kept whole.
    assert versions_index(world.dest)["current"] == VERSION_B
    assert metacatalog_names(world.dest / "metacatalog.parquet") == sorted(
        [*ALL_B[:-1], "elsewhere_rt52"]
    )
    assert published_datastores(world.dest) == ALL_B
