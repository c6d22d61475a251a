import glob

import pytest

from mirror_assets.errors import DatastoreError
from mirror_assets.transforms import (
    copy_writers,
    list_tuples,
    partitioning,
    sorted_rows,
    write_plans,
)
from mirror_assets.transforms.datastore import read_schema
from mirror_assets.transforms.partitioning import (
    choose_sort_columns,
    partition_datastore,
    partitioned_writes,
    writers_for,
)
from mirror_assets.transforms.sidecars import write_uniqs

ROWS = 25_000


def partition(con, src, dest, schema, partition_cols, sort_cols, row_group_size, **options):
    """partition_datastore as the stage runs it: inside partitioned_writes, with as many writers
    as the connection had threads unless told."""
    with partitioned_writes(con, row_group_size) as slots:
        options.setdefault("writers", slots)
        return partition_datastore(
            con, src, dest, schema, partition_cols, sort_cols, row_group_size, **options
        )


def write_cmip_like(con, src, rows: int):
    """realm (2 values) and table_id (3) to partition by; experiment (4), member (5) and
    variable_id (7) to sort by; file_type constant; time_range unique."""
    con.execute(
        f"""COPY (
            SELECT '/g/data/oi10/' || i || '.nc' AS path,
                   ['ocean', 'atmos'][i % 2 + 1] AS realm,
                   ['Omon', 'Amon', 'day'][i % 3 + 1] AS table_id,
                   'exp' || (hash(i) % 4) AS experiment_id,
                   'r' || (hash(i + 1) % 5) || 'i1p1f1' AS member_id,
                   'var' || (hash(i + 2) % 7) AS variable_id,
                   'f' AS file_type,
                   lpad(i::VARCHAR, 6, '0') AS time_range
            FROM range({int(rows)}) t(i)
        ) TO '{src}' (FORMAT parquet)"""
    )
    return src


@pytest.fixture
def big_datastore(con, tmp_path):
    """25k CMIP6-like rows."""
    return write_cmip_like(con, tmp_path / "cmip6_oi10.parquet", ROWS)


CARDINALITIES = {
    "realm": 2,
    "table_id": 3,
    "experiment_id": 4,
    "member_id": 5,
    "variable_id": 7,
    "file_type": 1,
    "time_range": ROWS,
}


def test_sort_columns_are_the_lowest_cardinality_varying_non_partition_columns(con, big_datastore):
    schema = read_schema(con, big_datastore)
    assert choose_sort_columns(schema, CARDINALITIES, ["realm", "table_id"], 3) == [
        "experiment_id",
        "member_id",
        "variable_id",
    ]
    assert choose_sort_columns(schema, CARDINALITIES, [], 3) == [
        "realm",
        "table_id",
        "experiment_id",
    ]
    tie = {**CARDINALITIES, "member_id": 4}
    assert choose_sort_columns(schema, tie, ["realm", "table_id"], 2) == [
        "experiment_id",
        "member_id",
    ]


def _inversions(con, files, sort_cols):
    """Per file, how many rows come before one they sort after (0: the file is sorted)."""
    cols = ", ".join(sort_cols)
    return {
        f: con.execute(
            f"""SELECT count(*) FROM (
                  SELECT [{cols}] AS k, lag([{cols}]) OVER (ORDER BY file_row_number) AS prev
                  FROM read_parquet(?, file_row_number = true)
                ) WHERE prev IS NOT NULL AND prev > k""",
            [f],
        ).fetchall()[0][0]
        for f in files
    }


def _assert_sorted_with_small_row_groups(con, files, sort_cols):
    assert _inversions(con, files, sort_cols) == {f: 0 for f in files}
    for f in files:
        largest = con.execute(
            "SELECT max(row_group_num_rows) FROM parquet_metadata(?)", [f]
        ).fetchall()[0][0]
        assert 0 < largest <= 10_000, f


def test_hive_partitioned_sorted_output_preserves_rows(con, tmp_path, big_datastore):
    schema = read_schema(con, big_datastore)
    sort_cols = ["experiment_id", "member_id", "variable_id"]
    dest = tmp_path / "out" / "cmip6_oi10.parquet"
    summary = partition(con, big_datastore, dest, schema, ["realm", "table_id"], sort_cols, 10_000)
    folders = sorted(p.relative_to(dest).parent.as_posix() for p in dest.rglob("*.parquet"))
    assert folders == [
        f"realm={r}/table_id={t}" for r in ("atmos", "ocean") for t in ("Amon", "Omon", "day")
    ]
    assert summary.rows == ROWS
    assert summary.files == len(folders)
    files = sorted(glob.glob(f"{dest}/**/*.parquet", recursive=True))
    _assert_sorted_with_small_row_groups(con, files, sort_cols)
    # The hive folder reads back to exactly the source rows.
    diff = con.execute(
        """SELECT count(*) FROM (
             (SELECT path, realm, table_id, experiment_id FROM read_parquet(?))
             EXCEPT ALL
             (SELECT path, realm, table_id, experiment_id
              FROM read_parquet(?, hive_partitioning = true)))""",
        [str(big_datastore), f"{dest}/**/*.parquet"],
    ).fetchall()[0][0]
    assert diff == 0


def test_unpartitioned_datastore_is_one_sorted_file(con, tmp_path, big_datastore):
    schema = read_schema(con, big_datastore)
    dest = tmp_path / "out" / "by473.parquet"
    summary = partition(con, big_datastore, dest, schema, [], ["realm", "table_id"], 10_000)
    assert dest.is_file()
    assert (summary.rows, summary.files) == (ROWS, 1)
    _assert_sorted_with_small_row_groups(con, [str(dest)], ["realm", "table_id"])


def test_rewrite_replaces_an_earlier_output_whole(con, tmp_path, big_datastore):
    schema = read_schema(con, big_datastore)
    dest = tmp_path / "out" / "x.parquet"
    partition(con, big_datastore, dest, schema, ["realm", "table_id"], [], 10_000)
    partition(con, big_datastore, dest, schema, ["realm"], [], 10_000)
    assert sorted(p.name for p in dest.iterdir()) == ["realm=atmos", "realm=ocean"]
    assert not list(dest.parent.glob(".*"))


def test_missing_partition_column_is_named(con, tmp_path, big_datastore):
    schema = read_schema(con, big_datastore)
    with pytest.raises(DatastoreError, match=r"partition column\(s\) table not in the table"):
        partition(con, big_datastore, tmp_path / "o", schema, ["realm", "table"], [], 10_000)


def test_partition_files_stay_sorted_when_the_connection_has_several_threads(con, tmp_path):
    """DuckDB's partitioned writer interleaves the threads' shares of a sorted stream: with two
    threads, 300k rows came out with rows out of order in most files."""
    src = write_cmip_like(con, tmp_path / "many.parquet", 300_000)
    con.execute("SET threads = 2")
    sort_cols = ["experiment_id", "member_id", "variable_id"]
    dest = tmp_path / "out" / "many.parquet"
    summary = partition(
        con, src, dest, read_schema(con, src), ["realm", "table_id"], sort_cols, 10_000
    )
    files = sorted(glob.glob(f"{dest}/**/*.parquet", recursive=True))
    assert (summary.rows, len(files)) == (300_000, 6)
    assert _inversions(con, files, sort_cols) == {f: 0 for f in files}
    # The connection's own settings are left as they were.
    assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 2


LIST_ROWS = 3_000


@pytest.fixture
def list_datastore(con, tmp_path):
    """ACCESS-like: 3 variable-list tuples (one with a NULL list, one with an empty list and a
    NULL element) repeated over 3,000 rows; realm to partition by, frequency and member to sort."""
    src = tmp_path / "by473.parquet"
    con.execute(
        f"""COPY (
            SELECT 'f' || i || '.nc' AS filename,
                   '/g/data/p73/' || i || '.nc' AS path,
                   [['tas', 'pr'], ['sst'], []][i % 3 + 1] AS variable,
                   [['Air temperature', 'Rain'], ['Sea surface temperature'], []][i % 3 + 1]
                     AS variable_long_name,
                   [['K', 'kg m-2 s-1'], NULL, [NULL]][i % 3 + 1] AS variable_units,
                   ['atmos', 'ocean', 'atmos'][i % 3 + 1] AS realm,
                   ['1mon', '1day'][(hash(i) % 2)::BIGINT + 1] AS frequency,
                   'r' || (hash(i + 1) % 3) AS member
            FROM range({LIST_ROWS}) t(i)
        ) TO '{src}' (FORMAT parquet)"""
    )
    return src


@pytest.mark.parametrize(
    "tuples", ["found here", "from the sidecars", "hash collision", "too many to number"]
)
@pytest.mark.parametrize("partition_cols", [["realm"], []])
def test_list_columns_come_through_the_sort_unchanged(
    con, tmp_path, monkeypatch, list_datastore, partition_cols, tuples
):
    """However the lists travel through the sort (numbered tuples joined by hash, or by their
    lists when two tuples share a hash, or the lists themselves), every row reads back as it was.
    Two threads: partitions go to two writers, each on its own cursor with the list variables."""
    con.execute("SET threads = 2")
    schema = read_schema(con, list_datastore)
    tuples_file = None
    if tuples != "found here":
        tuples_file = tmp_path / "tuples.parquet"
        write_uniqs(con, list_datastore, schema, LIST_ROWS, tmp_path / "uniqs.parquet", tuples_file)
        assert tuples_file.is_file()
    if tuples == "hash collision":
        monkeypatch.setattr(list_tuples, "tuple_hash", lambda columns, alias="": "42")
    if tuples == "too many to number":
        monkeypatch.setattr(list_tuples, "MAX_LIST_TUPLES", 2)
    sort_cols = ["frequency", "member"]
    dest = tmp_path / "out" / "by473.parquet"
    summary = partition(
        con, list_datastore, dest, schema, partition_cols, sort_cols, 1_000, list_tuples=tuples_file
    )
    files = sorted(glob.glob(f"{dest}/**/*.parquet", recursive=True)) or [str(dest)]
    assert summary.rows == LIST_ROWS
    assert _inversions(con, files, sort_cols) == {f: 0 for f in files}
    # Every row, lists included, reads back exactly; the columns keep their order.
    columns = ", ".join(schema.columns)
    for a, b in [(str(list_datastore), files), (files, str(list_datastore))]:
        diff = con.execute(
            f"""SELECT count(*) FROM (
                 (SELECT {columns} FROM read_parquet(?, hive_partitioning = true))
                 EXCEPT ALL
                 (SELECT {columns} FROM read_parquet(?, hive_partitioning = true)))""",
            [a, b],
        ).fetchall()[0][0]
        assert diff == 0
    described = con.execute(
        "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [files[0]]
    ).fetchall()
    written = [row[0] for row in described]
    assert written == [c for c in schema.columns if c not in partition_cols]
    assert con.execute("SELECT count(*) FROM duckdb_variables()").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0] == 0


@pytest.mark.parametrize(
    ("rows", "writers", "groups"),
    [
        ([5, 1, 4, 2, 3], 2, [0, 0, 1, 0, 1]),
        ([10, 1, 1, 1], 2, [0, 1, 1, 1]),
        ([3, 3, 3], 2, [0, 1, 0]),
        ([7], 2, [0]),
        ([2, 9, 4], 1, [0, 0, 0]),
        ([], 2, []),
    ],
)
def test_partitions_are_balanced_by_rows_largest_first(rows, writers, groups):
    assert partitioning.balance_partitions(rows, writers) == groups


SKEWED_ROWS = 120_000


@pytest.fixture
def skewed_datastore(con, tmp_path):
    """120k rows over 10 partitions of very different sizes, one of them with NULL values in both
    partition columns and one with a NULL realm only; experiment and member to sort by."""
    src = tmp_path / "skewed.parquet"
    con.execute(
        f"""COPY (
            SELECT '/g/data/' || i || '.nc' AS path,
                   CASE WHEN i % 40 = 0 THEN NULL ELSE ['ocean', 'atmos'][i % 2 + 1] END AS realm,
                   CASE WHEN i % 40 = 0 AND i % 80 != 0 THEN 'Omon' WHEN i % 40 = 0 THEN NULL
                        ELSE ['Omon', 'Omon', 'Omon', 'Amon', 'day', 'fx']
                               [(hash(i + 3) % 6)::BIGINT + 1] END
                     AS table_id,
                   'exp' || (hash(i) % 4) AS experiment_id,
                   'r' || (hash(i + 1) % 5) || 'i1p1f1' AS member_id
            FROM range({SKEWED_ROWS}) t(i)
        ) TO '{src}' (FORMAT parquet)"""
    )
    return src


def test_concurrent_writers_each_write_whole_partitions(con, tmp_path, skewed_datastore):
    """With two threads the partitions are split between two writers: every partition folder
    holds one sorted file with exactly that partition's rows, so no partition was written by
    both writers and no writer's rows landed in another's file."""
    con.execute("SET threads = 2")
    sort_cols = ["experiment_id", "member_id"]
    dest = tmp_path / "out" / "skewed.parquet"
    schema = read_schema(con, skewed_datastore)
    summary = partition(
        con, skewed_datastore, dest, schema, ["realm", "table_id"], sort_cols, 10_000
    )
    expected = dict(
        con.execute(
            """SELECT concat_ws('/', 'realm=' || coalesce(realm, '__HIVE_DEFAULT_PARTITION__'),
                                 'table_id=' || coalesce(table_id, '__HIVE_DEFAULT_PARTITION__')),
                      count(*)
               FROM read_parquet(?) GROUP BY ALL""",
            [str(skewed_datastore)],
        ).fetchall()
    )
    assert len(expected) == 10
    written = {
        p.relative_to(dest).as_posix(): sorted(f.name for f in p.iterdir())
        for p in dest.glob("*/*")
    }
    assert written == {folder: ["data_0.parquet"] for folder in expected}
    assert [p.name for p in dest.iterdir() if p.name.startswith(".")] == []
    counts = {
        folder: con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(dest / folder / "data_0.parquet")]
        ).fetchall()[0][0]
        for folder in expected
    }
    assert counts == expected
    assert summary == partitioning.PartitionSummary(
        rows=SKEWED_ROWS,
        files=10,
        bytes=summary.bytes,
        plan="2 partition groups, 2 writers at once",
    )
    files = [str(dest / folder / "data_0.parquet") for folder in expected]
    _assert_sorted_with_small_row_groups(con, files, sort_cols)
    # The writers' scratch tables and the connection's settings are gone / restored.
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0] == 0
    assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 2


def test_a_partition_written_by_two_writers_is_an_error(con, tmp_path, skewed_datastore):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    folders = [tmp / ".writer-0", tmp / ".writer-1"]
    for folder, realms in zip(folders, [["ocean"], ["ocean", "atmos"]], strict=True):
        con.execute(
            f"""COPY (SELECT * FROM read_parquet('{skewed_datastore}') WHERE realm IN ?)
                TO '{folder}' (FORMAT parquet, PARTITION_BY (realm))""",
            [realms],
        )
    with pytest.raises(DatastoreError, match=r"partition realm=ocean written by two writers$"):
        copy_writers.gather_writer_folders(tmp, folders, skewed_datastore)


def test_a_failing_writer_is_one_line_and_leaves_no_output(con, tmp_path, skewed_datastore):
    """8 MB is enough to plan the writers but not for their sorts: the first writer to fail
    interrupts the other, and its own error is the one reported."""
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '8MB'")
    dest = tmp_path / "out" / "skewed.parquet"
    schema = read_schema(con, skewed_datastore)
    with pytest.raises(DatastoreError, match=r"skewed.parquet: cannot write partitioned") as err:
        partition(con, skewed_datastore, dest, schema, ["realm", "table_id"], ["member_id"], 10_000)
    assert "Out of Memory" in str(err.value)
    assert "\n" not in str(err.value)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def _keys_in_file_order_and_rows(con, files, keys):
    """Per file: the sort keys row by row (ties may come in any order), and the sorted rows."""
    read = "read_parquet(?, file_row_number = true, hive_partitioning = false)"
    return [
        (
            con.execute(f"SELECT {keys} FROM {read} ORDER BY file_row_number", [f]).fetchall(),
            sorted(con.execute("SELECT * FROM read_parquet(?)", [f]).fetchall()),
        )
        for f in files
    ]


def test_text_values_sort_as_enums_from_the_uniqs_with_the_same_result(
    con, tmp_path, monkeypatch, big_datastore
):
    schema = read_schema(con, big_datastore)
    uniqs = tmp_path / "uniqs.parquet"
    write_uniqs(con, big_datastore, schema, ROWS, uniqs)
    monkeypatch.setattr(sorted_rows, "MAX_ENUM_VALUES", 10)
    with sorted_rows.enum_types(con, uniqs, schema.text_columns) as enums:
        # Columns with more distinct values than allowed (time_range) keep their text.
        assert sorted(enums) == sorted(c for c, n in CARDINALITIES.items() if n <= 10)
    sort_cols = ["experiment_id", "member_id", "variable_id"]
    outputs = {}
    for how in ("text", "enums"):
        dest = tmp_path / how / "cmip6_oi10.parquet"
        options = {"uniqs": uniqs} if how == "enums" else {}
        partition(con, big_datastore, dest, schema, ["realm"], sort_cols, 4_000, **options)
        files = sorted(glob.glob(f"{dest}/**/*.parquet", recursive=True))
        outputs[how] = (
            [f.removeprefix(str(dest)) for f in files],
            _keys_in_file_order_and_rows(con, files, ", ".join(sort_cols)),
        )
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [files[0]]).fetchall()
        assert {row[1] for row in described} == {"VARCHAR"}
    assert outputs["enums"] == outputs["text"]
    assert con.execute("SELECT count(*) FROM duckdb_types() WHERE NOT internal").fetchall() == [
        (0,)
    ]


def test_a_value_missing_from_the_uniqs_is_a_one_line_error(con, tmp_path, big_datastore):
    schema = read_schema(con, big_datastore)
    uniqs = tmp_path / "uniqs.parquet"
    con.execute(f"COPY (SELECT ['exp0', 'exp1'] AS experiment_id) TO '{uniqs}'")
    dest = tmp_path / "out" / "cmip6_oi10.parquet"
    with pytest.raises(DatastoreError, match=r"cannot write partitioned.*exp[23]") as err:
        partition(
            con, big_datastore, dest, schema, ["realm"], ["experiment_id"], 10_000, uniqs=uniqs
        )
    assert "\n" not in str(err.value)
    assert not dest.exists()


def test_partitioned_writes_are_single_threaded(con, tmp_path, big_datastore):
    con.execute("SET threads = 2")
    dest = tmp_path / "out" / "cmip6_oi10.parquet"
    schema = read_schema(con, big_datastore)
    with pytest.raises(ValueError, match="partitioned_writes"):
        partition_datastore(con, big_datastore, dest, schema, ["realm"], [], 10_000)
    with partitioned_writes(con, 10_000) as slots:
        assert slots == 2
        setting = "SELECT current_setting('partitioned_write_flush_threshold')"
        with con.cursor() as other:
            assert other.execute(setting).fetchall() == [(10_000,)]
            assert other.execute("SELECT current_setting('threads')").fetchall() == [(1,)]
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]


@pytest.mark.parametrize(
    ("size", "total", "slots", "writers"),
    [
        (40, 100, 2, 1),
        (50, 100, 2, 1),
        (60, 100, 2, 2),
        (100, 100, 2, 2),
        (100, 100, 4, 4),
        (30, 100, 4, 2),
        (0, 100, 2, 1),
        (5, 0, 2, 1),
    ],
)
def test_a_datastore_gets_more_writers_only_when_it_outweighs_a_slot(size, total, slots, writers):
    assert writers_for(size, total, slots) == writers


WIDE_ROWS = 100_000


@pytest.fixture
def wide_datastore(con, tmp_path):
    """100k rows with long paths over 18 partitions (realm x table_id), in 10k-row row groups
    (so that reading it takes little memory): two writers at once, each holding a buffer per
    open partition, need far more than 24 MB."""
    src = tmp_path / "wide.parquet"
    con.execute(
        f"""COPY (
            SELECT '/g/data/oi10/replicas/CMIP6/' || md5(i::VARCHAR) || '/' || i || '.nc' AS path,
                   ['ocean', 'atmos', 'land'][i % 3 + 1] AS realm,
                   ['Omon', 'Amon', 'day', 'fx', '3hr', 'Lmon'][(hash(i) % 6)::BIGINT + 1]
                     AS table_id,
                   'experiment-' || (hash(i + 1) % 8) AS experiment_id,
                   'r' || (hash(i + 2) % 5) || 'i1p1f1' AS member_id,
                   'variable_' || (hash(i + 3) % 50) AS variable_id,
                   md5((i * 7)::VARCHAR) AS checksum
            FROM range({WIDE_ROWS}) t(i)
        ) TO '{src}' (FORMAT parquet, ROW_GROUP_SIZE 10000)"""
    )
    return src


def test_out_of_memory_falls_back_to_a_plan_that_fits(con, tmp_path, wide_datastore):
    """Under a 24 MB limit two writers at once run out of memory; the write is retried with
    smaller plans until one fits, and the output is what the planned write would have made."""
    con.execute("SET threads = 2")
    con.execute(f"SET temp_directory = '{tmp_path / 'spill'}'")
    con.execute("SET memory_limit = '24MB'")
    schema = read_schema(con, wide_datastore)
    sort_cols = ["experiment_id", "member_id", "variable_id"]
    dest = tmp_path / "out" / "wide.parquet"
    summary = partition(con, wide_datastore, dest, schema, ["realm", "table_id"], sort_cols, 10_000)
    planned = write_plans.WritePlan(2, 2).describe()
    fallbacks = [p.describe() for p in write_plans.fallback_plans(2, 18)[1:]]
    assert summary.plan != planned
    assert summary.plan in fallbacks
    folders = sorted(p.relative_to(dest).parent.as_posix() for p in dest.rglob("*.parquet"))
    assert folders == sorted(
        f"realm={r}/table_id={t}"
        for r in ("ocean", "atmos", "land")
        for t in ("Omon", "Amon", "day", "fx", "3hr", "Lmon")
    )
    assert (summary.rows, summary.files) == (WIDE_ROWS, 18)
    files = sorted(glob.glob(f"{dest}/**/*.parquet", recursive=True))
    _assert_sorted_with_small_row_groups(con, files, sort_cols)
    con.execute("SET memory_limit = '1GB'")
    columns = ", ".join(schema.columns)
    diff = con.execute(
        f"""SELECT count(*) FROM (
             (SELECT {columns} FROM read_parquet(?))
             EXCEPT ALL
             (SELECT {columns} FROM read_parquet(?, hive_partitioning = true)))""",
        [str(wide_datastore), f"{dest}/**/*.parquet"],
    ).fetchall()[0][0]
    assert diff == 0
    # Nothing of the failed attempts is left, and the settings are restored.
    assert [p.name for p in dest.parent.iterdir()] == ["wide.parquet"]
    assert [p.name for p in dest.iterdir() if p.name.startswith(".")] == []
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall() == [(True,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0] == 0


def test_out_of_memory_in_the_smallest_plan_fails_the_datastore_saying_so(
    con, tmp_path, wide_datastore
):
    con.execute("SET threads = 2")
    con.execute(f"SET temp_directory = '{tmp_path / 'spill'}'")
    con.execute("SET memory_limit = '4MB'")
    schema = read_schema(con, wide_datastore)
    dest = tmp_path / "out" / "wide.parquet"
    with pytest.raises(DatastoreError) as err:
        partition(con, wide_datastore, dest, schema, ["realm", "table_id"], ["member_id"], 10_000)
    message = str(err.value)
    assert message.startswith(
        f"{wide_datastore}: cannot write partitioned datastore: out of memory even with the "
        "smallest plan (one partition at a time, nothing alongside, insertion order off; "
        "memory_limit 3.8 MiB): Out of Memory Error"
    )
    assert "\n" not in message
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []
