"""Shared fixtures: a DuckDB connection, parquet writers, a copy of the sample catalog."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mirror_assets.lib.settings import SAMPLE_CATALOG

# Real S3 servers (moto, Swift s3api) and a fault-injecting proxy, for the publish tests.
pytest_plugins = ["mirror_assets_tests.servers.fixtures"]

STRINGS = pa.list_(pa.string())


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def write_parquet(
    path: Path, columns: dict[str, list], types: dict[str, pa.DataType] | None = None
) -> Path:
    """Write a small parquet file; list values become VARCHAR[], everything else VARCHAR."""
    types = types or {}
    arrays = {}
    for name, values in columns.items():
        kind = types.get(name) or (
            STRINGS if any(isinstance(v, list) for v in values) else pa.string()
        )
        arrays[name] = pa.array(values, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(arrays), path)
    return path


def write_metacatalog(path: Path, rows: list[dict]) -> Path:
    schema = pa.schema(
        [
            ("name", pa.string()),
            ("model", STRINGS),
            ("description", pa.string()),
            ("realm", STRINGS),
            ("frequency", STRINGS),
            ("variable", STRINGS),
            ("yaml", pa.string()),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema), path)
    return path


@pytest.fixture
def sample_catalog(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample catalog (two versions)."""
    dest = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, dest)
    return dest
