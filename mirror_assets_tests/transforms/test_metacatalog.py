import pytest

from mirror_assets.errors import VersionError
from mirror_assets.transforms.metacatalog import restructure_metacatalog
from mirror_assets_tests.conftest import write_metacatalog, write_parquet

ROWS = [
    {
        "name": "b",
        "model": ["M2", "M1"],
        "description": None,
        "realm": ["ocean"],
        "frequency": ["1mon"],
        "variable": ["v2", "v1"],
        "yaml": None,
    },
    {
        "name": "a",
        "model": ["A"],
        "description": "first a",
        "realm": None,
        "frequency": ["1day", None],
        "variable": [],
        "yaml": "yaml a",
    },
    {
        "name": "b",
        "model": ["M1", "M3"],
        "description": "first b",
        "realm": ["seaIce", "ocean"],
        "frequency": ["1day"],
        "variable": ["v3"],
        "yaml": "yaml b1",
    },
    {
        "name": "b",
        "model": None,
        "description": "second b",
        "realm": ["atmos"],
        "frequency": ["1mon"],
        "variable": ["v1"],
        "yaml": "yaml b2",
    },
]


def test_one_row_per_name_with_sorted_unions_and_first_non_null(con, tmp_path):
    src = write_metacatalog(tmp_path / "in.parquet", ROWS)
    dest = tmp_path / "out" / "metacatalog.parquet"
    assert restructure_metacatalog(con, src, dest) == ["a", "b"]
    rows = con.execute(
        "SELECT name, model, realm, frequency, variable, description, yaml FROM read_parquet(?)",
        [str(dest)],
    ).fetchall()
    assert rows == [
        ("a", ["A"], [], ["1day"], [], "first a", "yaml a"),
        (
            "b",
            ["M1", "M2", "M3"],
            ["atmos", "ocean", "seaIce"],
            ["1day", "1mon"],
            ["v1", "v2", "v3"],
            "first b",
            "yaml b1",
        ),
    ]


def test_output_is_byte_for_byte_reproducible(con, tmp_path):
    src = write_metacatalog(tmp_path / "in.parquet", ROWS * 50)
    first, second = tmp_path / "1.parquet", tmp_path / "2.parquet"
    restructure_metacatalog(con, src, first)
    restructure_metacatalog(con, src, second)
    assert first.read_bytes() == second.read_bytes()


def test_missing_metacatalog_fails_the_version(con, tmp_path):
    with pytest.raises(VersionError, match=r"metacatalog.parquet: metacatalog.parquet not found"):
        restructure_metacatalog(con, tmp_path / "metacatalog.parquet", tmp_path / "out.parquet")


def test_wrong_schema_names_the_columns(con, tmp_path):
    src = write_parquet(tmp_path / "metacatalog.parquet", {"name": ["a"], "model": ["not a list"]})
    with pytest.raises(VersionError) as err:
        restructure_metacatalog(con, src, tmp_path / "out.parquet")
    message = str(err.value)
    assert message.startswith(str(src))
    assert "model is VARCHAR, expected VARCHAR[]" in message
    assert "realm missing" in message
    assert "\n" not in message


def test_not_parquet_fails_with_one_line(con, tmp_path):
    src = tmp_path / "metacatalog.parquet"
    src.write_text("hello")
    with pytest.raises(VersionError, match=r"cannot read metacatalog") as err:
        restructure_metacatalog(con, src, tmp_path / "out.parquet")
    assert "\n" not in str(err.value)
