"""What the sidecars and partitioned stages' fingerprints of a datastore cover: the digest of its
fetched parquet, the stage's code version and the settings that shape its output, nothing of the
version. Both stages need both: a build is taken from the archive only when both match."""

import duckdb

from mirror_assets.config.settings import Settings
from mirror_assets.state.digests import InputDigest, build_fingerprint

# Bump when a stage's output would change for the same input (also the assets' code_version).
SIDECARS_CODE_VERSION = "3"
PARTITIONED_CODE_VERSION = "3"


def sidecars_fingerprint(digests: dict[str, InputDigest], name: str) -> str:
    return build_fingerprint(
        digests,
        [f"source/{name}.parquet"],
        "sidecars",
        SIDECARS_CODE_VERSION,
        {"duckdb": duckdb.__version__},
    )


def partitioned_fingerprint(digests: dict[str, InputDigest], settings: Settings, name: str) -> str:
    shaping = {
        "partition_columns": settings.partition_columns(name),
        "single_file_max_records": settings.single_file_max_records,
        "sort_column_count": settings.sort_column_count,
        "row_group_size": settings.row_group_size,
        "duckdb": duckdb.__version__,
    }
    return build_fingerprint(
        digests, [f"source/{name}.parquet"], "partitioned", PARTITIONED_CODE_VERSION, shaping
    )
