"""The pure pieces of `verify`: comparing a listing with the record, and catalog_file targets."""

import pytest

from mirror_assets.store.bucket import StoredObject
from mirror_assets.store.verify import catalog_file_problem, compare_objects

BASE = "https://example.org/catalog"
A, B = StoredObject(10, "aa"), StoredObject(20, "bb")


def test_compare_objects_names_missing_changed_and_extra_keys():
    expected = {"source/x.json": A, "source/x.parquet": B, "source/y.json": A}
    listing = {"source/x.json": StoredObject(11, "zz"), "source/x.parquet": B, "source/z": A}
    assert compare_objects(expected, listing, "versions/v1/", "the manifest") == [
        "versions/v1/source/x.json: 11 bytes, ETag zz; the manifest records 10 bytes, ETag aa",
        "versions/v1/source/y.json: missing (the manifest records 10 bytes)",
        "versions/v1/source/z: not named by the manifest",
    ]


def test_compare_objects_presence_only_keys_may_differ():
    listing = {"source/x.json": StoredObject(11, "zz")}
    assert compare_objects({"source/x.json": A}, listing, "", "m", {"source/x.json"}) == []


@pytest.mark.parametrize(
    ("url", "listed", "problem"),
    [
        (f"{BASE}/source/x.parquet", {"source/x.parquet": A}, None),
        (f"{BASE}/source/x.parquet/", {"source/x.parquet/a=1/p.parquet": A}, None),
        (
            f"{BASE}/source/x.parquet",
            {"source/x.parquet/a=1/p.parquet": A},
            "names a single file, but source/x.parquet is a hive folder",
        ),
        (
            f"{BASE}/source/x.parquet/",
            {"source/x.parquet": A},
            "names a hive folder (URL ending in /), but source/x.parquet is a single file",
        ),
        (f"{BASE}/source/x.parquet", {}, "points at nothing (source/x.parquet is missing)"),
        ("https://elsewhere/x.parquet", {}, f"is not below {BASE}"),
    ],
)
def test_catalog_file_problem(url, listed, problem):
    found = catalog_file_problem("source/x.json", url, BASE, listed)
    if problem is None:
        assert found is None
    else:
        assert found == f"source/x.json: catalog_file {url} {problem}"
