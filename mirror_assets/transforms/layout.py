"""How a datastore is written: one sorted file, or a hive folder by some of its columns.

The web app downloads `source/<name>.parquet` as one object when a datastore holds at most
5,000 records (`single_file_max_records`), and reads a hive folder otherwise. The partition table
names columns per datastore; upstream renames columns now and then (cordex_ig45's experiment_id
became driving_experiment_id), so a configured column the datastore lacks is left out and
reported rather than failing the datastore.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class DatastoreLayout:
    """`partition_columns`: the hive columns the datastore is written by, in configured order
    (empty: one sorted file); `missing_columns`: configured columns the datastore lacks."""

    partition_columns: list[str]
    missing_columns: list[str]

    @property
    def hive(self) -> bool:
        """Written as a folder `source/<name>.parquet/col=value/...`."""
        return bool(self.partition_columns)


def choose_layout(
    configured: list[str], present: Collection[str], rows: int, single_file_max_records: int
) -> DatastoreLayout:
    """The layout of a datastore of `rows` rows whose columns are `present`, given the partition
    columns `configured` for it: a hive folder by the configured columns it has, unless it holds
    at most `single_file_max_records` rows (or none) or has none of them."""
    missing = [c for c in configured if c not in present]
    usable = [c for c in configured if c in present]
    if rows == 0 or rows <= single_file_max_records:
        usable = []
    return DatastoreLayout(partition_columns=usable, missing_columns=missing)
