import json

import duckdb
import pyarrow.parquet as pq
import pytest

from mirror_assets.errors import DatastoreError
from mirror_assets.transforms import sidecars
from mirror_assets.transforms.sidecars import (
    project_id_from_path,
    read_cardinalities,
    write_sidecars,
)
from mirror_assets_tests.conftest import STRINGS, write_parquet

PATHS = [
    "/g/data/xp65/a/1.nc",
    "/g/data/p73/b/2.nc",
    "/g/data/p73/b/3.nc",
]


@pytest.fixture
def datastore(tmp_path):
    return write_parquet(
        tmp_path / "source" / "by473.parquet",
        {
            "filename": ["1.nc", "2.nc", "3.nc"],
            "path": PATHS,
            "realm": ["ocean", "atmos", None],
            "frequency": ["1mon", "1mon", "1mon"],
            "variable": [["tas", "pr"], ["pr", None], []],
            "variable_units": [["K", "kg m-2 s-1"], None, ["K"]],
        },
    )


def test_uniqs_hold_sorted_distinct_values_and_num_records(con, tmp_path, datastore):
    uniqs, meta = tmp_path / "by473_uniqs.parquet", tmp_path / "by473_metadata.json"
    summary = write_sidecars(con, datastore, uniqs, meta)
    table = pq.read_table(uniqs)
    assert table.num_rows == 1
    assert table.to_pylist()[0] == {
        "filename": ["1.nc", "2.nc", "3.nc"],
        "realm": ["atmos", "ocean"],
        "frequency": ["1mon"],
        "variable": ["pr", "tas"],
        "variable_units": ["K", "kg m-2 s-1"],
    }
    kv = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(uniqs)]).fetchall()
    assert (b"num_records", b"3") in kv
    assert json.loads(meta.read_text()) == {"project_id": "xp65", "num_records": 3}
    assert summary.rows == 3
    assert summary.cardinalities == {
        "filename": 3,
        "realm": 2,
        "frequency": 1,
        "variable": 2,
        "variable_units": 2,
    }
    assert read_cardinalities(con, uniqs) == summary.cardinalities


@pytest.mark.parametrize("max_tuples", [100_000, 2])
def test_distinct_list_tuples_are_kept_for_the_partitioning_stage(
    con, tmp_path, monkeypatch, datastore, max_tuples
):
    """With few enough distinct tuples they land in the tuple file; with too many, no file (and
    none left from an earlier run)."""
    monkeypatch.setattr(sidecars, "MAX_LIST_TUPLES", max_tuples)
    tuples = tmp_path / "tuples" / "by473.parquet"
    tuples.parent.mkdir()
    tuples.write_bytes(b"stale")
    write_sidecars(con, datastore, tmp_path / "u.parquet", tmp_path / "m.json", tuples)
    if max_tuples == 2:
        assert not tuples.exists()
        return
    assert sorted(pq.read_table(tuples).to_pylist(), key=str) == sorted(
        [
            {"variable": ["tas", "pr"], "variable_units": ["K", "kg m-2 s-1"]},
            {"variable": ["pr", None], "variable_units": None},
            {"variable": [], "variable_units": ["K"]},
        ],
        key=str,
    )


def test_a_datastore_of_list_columns_only_has_one_row_of_uniqs(con, tmp_path):
    src = write_parquet(
        tmp_path / "lists.parquet",
        {"path": ["/g/data/xp65/1.nc", "/g/data/xp65/2.nc"], "variable": [["b", "a"], ["a"]]},
    )
    write_sidecars(con, src, tmp_path / "u.parquet", tmp_path / "m.json")
    assert pq.read_table(tmp_path / "u.parquet").to_pylist() == [{"variable": ["a", "b"]}]


@pytest.mark.parametrize(
    ("path", "project"), [("/g/data/xp65/x.nc", "xp65"), ("/g/data/oi10/replicas/a.nc", "oi10")]
)
def test_project_id_is_the_fourth_path_field(tmp_path, path, project):
    assert project_id_from_path(path, tmp_path) == project


def test_missing_path_column_is_a_datastore_error(con, tmp_path):
    src = write_parquet(tmp_path / "nopath.parquet", {"realm": ["ocean"]})
    with pytest.raises(DatastoreError, match=r"nopath.parquet: no 'path' column"):
        write_sidecars(con, src, tmp_path / "u.parquet", tmp_path / "m.json")


def test_unusable_first_path_is_a_datastore_error(con, tmp_path):
    src = write_parquet(tmp_path / "rel.parquet", {"path": ["relative/file.nc"]})
    with pytest.raises(DatastoreError, match=r"cannot derive project_id from first path"):
        write_sidecars(con, src, tmp_path / "u.parquet", tmp_path / "m.json")


def test_empty_datastore_gets_empty_uniqs_and_no_project_id(con, tmp_path):
    """An experiment whose output is not there yet: zero rows, published all the same."""
    src = write_parquet(
        tmp_path / "empty.parquet",
        {"path": [], "realm": [], "variable": []},
        {"variable": STRINGS},
    )
    uniqs, meta = tmp_path / "u.parquet", tmp_path / "m.json"
    tuples = tmp_path / "tuples.parquet"
    summary = write_sidecars(con, src, uniqs, meta, tuples)
    assert pq.read_table(uniqs).to_pylist() == [{"realm": [], "variable": []}]
    kv = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(uniqs)]).fetchall()
    assert kv == [(b"num_records", b"0")]
    assert json.loads(meta.read_text()) == {"project_id": None, "num_records": 0}
    assert (summary.rows, summary.project_id) == (0, None)
    assert summary.cardinalities == {"realm": 0, "variable": 0}
    assert pq.read_table(tuples).num_rows == 0


@pytest.mark.parametrize("content", [b"not parquet at all", None])
def test_unreadable_parquet_is_a_one_line_datastore_error(con, tmp_path, datastore, content):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(content if content else datastore.read_bytes()[:-40])
    with pytest.raises(DatastoreError, match=r"broken.parquet: not a readable parquet file") as err:
        write_sidecars(con, broken, tmp_path / "u.parquet", tmp_path / "m.json")
    assert "\n" not in str(err.value)


@pytest.fixture
def many_values(con, tmp_path):
    """100k rows, in 10k-row row groups, of six text columns with 8 to 20,000 distinct values
    each: one scan holding every column's hash table at once needs more than 16 MB."""
    src = tmp_path / "many.parquet"
    con.execute(
        f"""COPY (
            SELECT '/g/data/oi10/' || i || '.nc' AS path,
                   'experiment-' || (hash(i) % 8) AS experiment_id,
                   'variable_' || (hash(i + 1) % 2000) AS variable_id,
                   'v2019' || lpad((hash(i + 2) % 20000)::VARCHAR, 6, '0') AS version,
                   md5((hash(i + 3) % 20000)::VARCHAR) AS checksum,
                   'member-' || (hash(i + 4) % 5000) AS member_id,
                   'source-' || (hash(i + 5) % 3000) AS source_id
            FROM range(100000) t(i)
        ) TO '{src}' (FORMAT parquet, ROW_GROUP_SIZE 10000)"""
    )
    return src


def test_out_of_memory_retries_one_column_at_a_time(con, tmp_path, many_values):
    """Under a 14 MB limit the one-scan aggregate runs out of memory; the retry, one column at a
    time, writes the same uniqs the unbounded run does."""
    expected = write_sidecars(
        con, many_values, tmp_path / "expected.parquet", tmp_path / "expected.json"
    )
    con.execute("SET threads = 1")
    con.execute(f"SET temp_directory = '{tmp_path / 'spill'}'")
    con.execute("SET memory_limit = '14MB'")
    schema = expected.schema
    with pytest.raises(duckdb.OutOfMemoryException):
        sidecars.write_uniqs(con, many_values, schema, 100_000, tmp_path / "one-scan.parquet")
    summary = write_sidecars(con, many_values, tmp_path / "u.parquet", tmp_path / "m.json")
    assert summary == expected
    assert summary.cardinalities["version"] > 19_000
    con.execute("SET memory_limit = '1GB'")
    written, wanted = (pq.read_table(tmp_path / f) for f in ("u.parquet", "expected.parquet"))
    assert written.to_pylist() == wanted.to_pylist()
    assert written.schema.metadata[b"num_records"] == b"100000"
    assert json.loads((tmp_path / "m.json").read_text())["num_records"] == 100_000
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0] == 0


def test_out_of_memory_one_column_at_a_time_fails_the_datastore_saying_so(
    con, tmp_path, many_values
):
    con.execute("SET threads = 1")
    con.execute("SET memory_limit = '4MB'")
    with pytest.raises(DatastoreError) as err:
        write_sidecars(con, many_values, tmp_path / "u.parquet", tmp_path / "m.json")
    assert str(err.value).startswith(
        f"{many_values}: cannot compute distinct values: out of memory even with the smallest "
        "plan (one column at a time, nothing alongside; memory_limit 3.8 MiB): Out of Memory"
    )
    assert "\n" not in str(err.value)
    assert not (tmp_path / "u.parquet").exists()
