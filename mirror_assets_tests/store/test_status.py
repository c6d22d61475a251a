"""The status of a destination read from its versions.json document."""

from mirror_assets.store.status import destination_status

INDEX = {
    "current": "v2025-01-29",
    "promoting": "v2025-02-28",
    "versions": [
        {"version": "v2025-01-29", "hidden": False, "published": "2026-01-01T00:00:00+00:00",
         "datastores": 6, "rows": 34, "bytes": 80023, "promotable": False},
        {"version": ".v2025-03-01", "hidden": True, "published": "2026-01-03T00:00:00+00:00",
         "datastores": 7, "rows": 39, "bytes": 86147},
        {"version": "v2025-02-28", "hidden": False, "published": "2026-01-02T00:00:00+00:00",
         "datastores": 7, "rows": 39, "bytes": 86147, "promotable": True},
    ],
}  # fmt: skip


def test_rows_newest_first_with_states():
    status = destination_status(INDEX)
    assert status.rows() == [
        (".v2025-03-01", "yes", "2026-01-03T00:00:00+00:00", "7", "39", "86147", ""),
        ("v2025-02-28", "", "2026-01-02T00:00:00+00:00", "7", "39", "86147", "promoting"),
        ("v2025-01-29", "", "2026-01-01T00:00:00+00:00", "6", "34", "80023", "current, partial"),
    ]
    assert status.summary() == [
        "current: v2025-01-29",
        "promoting: v2025-02-28 is being copied to the root (current is still v2025-01-29); "
        "if no run is publishing it, re-run it to finish",
    ]


def test_nothing_published():
    status = destination_status({"current": None, "versions": []})
    assert status.rows() == []
    assert status.summary() == ["no version published"]


def test_versions_without_a_current_one():
    status = destination_status({**INDEX, "current": None, "promoting": None})
    assert status.summary() == ["current: none (no version promoted to the root)"]
