from mirror_assets.store.bucket import StoredObject
from mirror_assets.store.manifest import (
    KEPT,
    ArchivedDatastore,
    Manifest,
    datastore_keys,
    from_listing,
)

LISTING = {
    "metacatalog.parquet": StoredObject(10, "m"),
    "source/a.json": StoredObject(1, "a1"),
    "source/a_uniqs.parquet": StoredObject(2, "a2"),
    "source/a_metadata.json": StoredObject(3, "a3"),
    "source/a.parquet": StoredObject(4, "a4"),
    "source/ab.json": StoredObject(5, "b1"),
    "source/ab.parquet/realm=atmos/data_0.parquet": StoredObject(6, "b2"),
    "source/ab_uniqs.parquet": StoredObject(7, "b3"),
    "source/c.json": StoredObject(8, "c1"),  # a spec without its data: not a datastore
}


def test_datastore_keys_do_not_take_a_longer_name_sharing_the_prefix():
    assert datastore_keys("a", LISTING) == [
        "source/a.json",
        "source/a.parquet",
        "source/a_metadata.json",
        "source/a_uniqs.parquet",
    ]
    assert datastore_keys("ab", LISTING) == [
        "source/ab.json",
        "source/ab.parquet/realm=atmos/data_0.parquet",
        "source/ab_uniqs.parquet",
    ]


def test_an_archive_without_manifest_is_read_from_its_listing():
    found = from_listing(LISTING)
    assert sorted(found) == ["a", "ab"]
    assert found["ab"].objects == {k: LISTING[k] for k in datastore_keys("ab", LISTING)}
    assert found["a"].rows is None
    assert sorted(from_listing(LISTING, ["ab", "zz"])) == ["ab"]


def test_manifest_round_trips_and_checks_objects_against_a_listing():
    entry = ArchivedDatastore(
        {"source/a.json": StoredObject(1, "a1"), "source/a.parquet": StoredObject(4, "a4")},
        rows=7,
        state=KEPT,
        inputs={"source/a.parquet": "f" * 64},
        fingerprints={"partitioned": "e" * 64},
        cause="partitioned: broken",
    )
    manifest = Manifest("v2025-02-28", {"a": entry}, StoredObject(10, "m"))

    again = Manifest.from_bytes(manifest.to_bytes())

    assert again == manifest
    assert again.rows == 7 and again.bytes == 15
    assert entry.present_in(LISTING)
    assert not entry.present_in({**LISTING, "source/a.parquet": StoredObject(4, "other")})
    assert not entry.present_in({k: v for k, v in LISTING.items() if k != "source/a.json"})
    assert not ArchivedDatastore({}).present_in(LISTING)
