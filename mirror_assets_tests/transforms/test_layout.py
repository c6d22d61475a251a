"""The layout rule: which datastores become hive folders, by which columns."""

import pytest

from mirror_assets.transforms.layout import DatastoreLayout, choose_layout

COLUMNS = ["path", "realm", "frequency", "variable"]


@pytest.mark.parametrize(
    ("configured", "rows", "threshold", "expected"),
    [
        # The web app's threshold: 5,000 rows is still one object, 5,001 a hive folder.
        (["realm", "frequency"], 5000, 5000, DatastoreLayout([], [])),
        (["realm", "frequency"], 5001, 5000, DatastoreLayout(["realm", "frequency"], [])),
        # Not in the partition table: one file whatever its size.
        ([], 1_000_000, 5000, DatastoreLayout([], [])),
        # A configured column the datastore lacks is left out, in configured order, and named.
        (
            ["driving_experiment_id", "frequency"],
            5001,
            5000,
            DatastoreLayout(["frequency"], ["driving_experiment_id"]),
        ),
        (
            ["table_id", "realm", "grid"],
            9000,
            5000,
            DatastoreLayout(["realm"], ["table_id", "grid"]),
        ),
        # None of them present: one sorted file, both named.
        (["table_id", "grid"], 9000, 5000, DatastoreLayout([], ["table_id", "grid"])),
        # Small and lacking a column: one file, the column still named.
        (["table_id", "realm"], 10, 5000, DatastoreLayout([], ["table_id"])),
        # Empty: one file even with a threshold of 0.
        (["realm"], 0, 0, DatastoreLayout([], [])),
        (["realm"], 1, 0, DatastoreLayout(["realm"], [])),
    ],
    ids=[
        "at_threshold",
        "one_above",
        "not_configured",
        "renamed_column",
        "two_missing",
        "none_present",
        "small_missing",
        "empty",
        "threshold_zero",
    ],
)
def test_choose_layout(configured, rows, threshold, expected):
    layout = choose_layout(configured, COLUMNS, rows, threshold)
    assert layout == expected
    assert layout.hive is bool(expected.partition_columns)
