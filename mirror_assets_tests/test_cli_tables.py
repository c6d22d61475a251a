"""The CLI's tables off a terminal, and the run summary's states (plain functions)."""

import pytest

from mirror_assets.cli.output import plain_table
from mirror_assets.cli.summary import datastore_state, failure_lines, summary_rows


def test_plain_table_aligns_columns_and_numbers_right():
    assert plain_table(
        ("name", "rows", "note"), [("a", "5", ""), ("bbbb", "123", "x")], {"rows"}
    ) == [
        "name  rows  note",
        "a        5",
        "bbbb   123  x",
    ]


BUILT = {"specs": "ok", "sidecars": "ok", "partitioned": "ok"}


@pytest.mark.parametrize(
    ("stages", "status", "state"),
    [
        ({**BUILT, "fetch": "ok", "publish": "ok"}, "ok", "ok"),
        ({**dict.fromkeys(BUILT, "unchanged"), "publish": "ok"}, "ok", "unchanged"),
        ({**BUILT, "sidecars": "reused from v1", "publish": "ok"}, "ok", "reused"),
        ({"publish": "archived"}, "ok", "archived"),
        ({"publish": "missing"}, "failed", "missing"),
        ({"specs": "failed", "publish": "archived"}, "failed", "failed"),
        ({"fetch": "failed"}, "failed", "failed"),
    ],
)  # fmt: skip
def test_datastore_state(stages, status, state):
    assert datastore_state(stages, status) == state


def test_summary_rows_from_the_version_table_and_stage_tables():
    version_table = [
        {"datastore": "a", "status": "ok", "specs": "ok", "sidecars": "ok",
         "partitioned": "ok", "publish": "ok", "rows": 5, "failed_stage": "", "file": "",
         "cause": ""},
        {"datastore": "b", "status": "failed", "specs": "failed", "publish": "archived",
         "rows": None, "failed_stage": "specs", "file": "/s/b.json", "cause": "/s/b.json: bad"},
        {"datastore": "c", "status": "ok", "publish": "archived", "rows": 2,
         "failed_stage": "", "file": "", "cause": ""},
    ]  # fmt: skip
    stages = {
        "sidecars": [{"datastore": "a", "seconds": 0.25}, {"datastore": "c", "seconds": 9.0}],
        "partitioned": [
            {"datastore": "a", "seconds": 0.5, "bytes": 100},
            {"datastore": "b", "seconds": "", "bytes": None},
            {"datastore": "c", "seconds": 1.0, "bytes": 7, "unchanged": True},
        ],
    }
    assert summary_rows(version_table, stages) == [
        ("a", "ok", "5", "100", "0.75", "", "", ""),
        ("b", "failed", "", "", "", "specs", "/s/b.json", "bad"),
        ("c", "archived", "2", "7", "", "", "", ""),
    ]


def test_summary_rows_when_the_run_stopped_before_the_publish():
    stages = {
        "specs": [{"datastore": "a", "status": "ok"}, {"datastore": "b", "status": "failed",
                                                        "cause": "/s/b.json: bad"}],
    }  # fmt: skip
    assert [r[:2] + r[5:6] for r in summary_rows(None, stages)] == [
        ("a", "not published", ""),
        ("b", "failed", "specs"),
    ]


def test_failure_lines_from_the_version_table():
    version_table = [
        {"datastore": "a", "failed_stage": "", "cause": ""},
        {"datastore": "b", "failed_stage": "specs", "cause": "/s/b.json: bad"},
        {"datastore": "c", "failed_stage": "publish", "cause": "not built in this run"},
    ]
    assert failure_lines(version_table, {}) == [
        "FAILED b (specs): /s/b.json: bad",
        "FAILED c (publish): not built in this run",
    ]


def test_failure_lines_from_the_stage_tables_in_stage_order():
    stages = {
        "sidecars": [{"datastore": "a", "status": "failed", "cause": "/s/a.parquet: no rows"}],
        "fetch": [
            {"datastore": "a", "status": "ok", "cause": ""},
            {"datastore": "b", "status": "failed", "cause": "/s/b.json: missing"},
        ],
    }
    assert failure_lines(None, stages) == [
        "FAILED b (fetch): /s/b.json: missing",
        "FAILED a (sidecars): /s/a.parquet: no rows",
    ]
