import pytest

from mirror_assets.transforms import list_tuples
from mirror_assets.transforms.list_tuples import distinct_tuples_table, list_dictionary


@pytest.fixture
def colliding_lists(con, tmp_path):
    """Tuples that DuckDB's plain list hash cannot tell apart: [] and NULL, [NULL] and [], and
    the same values split differently between two columns; each repeated on 100 rows."""
    src = tmp_path / "lists.parquet"
    con.execute(
        f"""COPY (
            SELECT [[]::VARCHAR[], NULL, [NULL]::VARCHAR[], ['a', 'b'], ['a']][i % 5 + 1] AS v,
                   [[], [], [], ['c'], ['b', 'c']][i % 5 + 1]::VARCHAR[] AS w
            FROM range(500) t(i)
        ) TO '{src}' (FORMAT parquet)"""
    )
    return src


def test_distinct_tuples_are_told_apart_by_their_hash(con, colliding_lists):
    plain = con.execute(
        "SELECT count(DISTINCT hash(v, w)) FROM read_parquet(?)", [str(colliding_lists)]
    ).fetchall()[0][0]
    assert plain < 5  # what the length and NULL-ness in tuple_hash are for
    with list_dictionary(con, colliding_lists, ["v", "w"]) as lists:
        assert lists is not None and lists.by_hash
        ids = con.execute(
            f"SELECT s.v, s.w, {lists.tuple_id()} FROM {lists.join('read_parquet(?)')}",
            [str(colliding_lists)],
        ).fetchall()
        numbered = con.execute(f"SELECT v, w, {list_tuples.TUPLE_ID} FROM {lists.table}")
        # Each row got the id of its own tuple: the same (lists, id) triples, once each.
        assert sorted({str(row) for row in ids}) == sorted(str(row) for row in numbered.fetchall())
    assert len(ids) == 500
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0] == 0


def test_the_tuple_file_decides_and_a_tuple_missing_from_it_is_an_error(
    con, tmp_path, colliding_lists
):
    tuples = tmp_path / "tuples.parquet"
    with distinct_tuples_table(con, colliding_lists, ["v", "w"]) as (table, count):
        assert count == 5
        con.execute(f"COPY (SELECT * FROM {table} WHERE v IS NOT NULL) TO '{tuples}'")
    with list_dictionary(con, colliding_lists, ["v", "w"], tuples) as lists:
        assert con.execute(f"SELECT count(*) FROM {lists.table}").fetchall()[0][0] == 4
        with pytest.raises(Exception, match="a list tuple is missing from the tuple file"):
            con.execute(
                f"SELECT {lists.tuple_id()} FROM {lists.join('read_parquet(?)')}",
                [str(colliding_lists)],
            ).fetchall()


def test_no_list_columns_or_too_many_tuples_means_no_dictionary(con, monkeypatch, colliding_lists):
    with list_dictionary(con, colliding_lists, []) as lists:
        assert lists is None
    monkeypatch.setattr(list_tuples, "MAX_LIST_TUPLES", 4)
    with list_dictionary(con, colliding_lists, ["v", "w"]) as lists:
        assert lists is None


def test_no_dictionary_when_its_lists_would_take_a_large_share_of_memory(
    con, monkeypatch, colliding_lists
):
    """Each writer holds the lists outside memory_limit: the 5 tuples take 32 bytes as text,
    within 1/1,600,000 of a 100 MB limit (62 bytes), not within 1/3,200,000 (31 bytes)."""
    con.execute("SET memory_limit = '100MB'")
    monkeypatch.setattr(list_tuples, "MAX_DICTIONARY_SHARE_OF_MEMORY", 1 / 1_600_000)
    with list_dictionary(con, colliding_lists, ["v", "w"]) as lists:
        assert lists is not None
    monkeypatch.setattr(list_tuples, "MAX_DICTIONARY_SHARE_OF_MEMORY", 1 / 3_200_000)
    with list_dictionary(con, colliding_lists, ["v", "w"]) as lists:
        assert lists is None
