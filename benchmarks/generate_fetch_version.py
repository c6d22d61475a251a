"""Generate a catalog version for the fetch benchmark: ~150 MB in ~30 files.

A metacatalog and N datastore pairs whose parquet files hold incompressible strings (the fetch
copies bytes, so only sizes and file counts matter; the files are still valid parquet).

    python benchmarks/generate_fetch_version.py OUT_ROOT [--datastores 15] [--mb 150]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

VERSION = "v2025-06-30"


def _datastore(path: Path, size_bytes: int) -> None:
    rows = max(1, size_bytes // 235)
    paths = [f"/g/data/xp65/bench/{os.urandom(96).hex()}.nc" for _ in range(rows)]
    table = pa.table(
        {"path": paths, "realm": ["ocean", "atmos"] * (rows // 2) + ["ice"] * (rows % 2)}
    )
    pq.write_table(table, path, compression="none")


def generate(root: Path, datastores: int = 15, total_mb: int = 150) -> Path:
    """Write `<root>/v2025-06-30/` and return it."""
    version = root / VERSION
    source = version / "source"
    source.mkdir(parents=True, exist_ok=True)
    per_store = total_mb * 1024 * 1024 // datastores
    names = [f"bench_{i:02d}" for i in range(datastores)]
    for name in names:
        _datastore(source / f"{name}.parquet", per_store)
        spec = {"esmcat_version": "0.0.1", "id": name, "catalog_file": f"{name}.parquet"}
        (source / f"{name}.json").write_text(json.dumps(spec))
    pq.write_table(
        pa.table({"name": names, "description": [f"benchmark datastore {n}" for n in names]}),
        version / "metacatalog.parquet",
    )
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--datastores", type=int, default=15)
    parser.add_argument("--mb", type=int, default=150)
    args = parser.parse_args()
    version = generate(args.root, args.datastores, args.mb)
    files = [p for p in version.rglob("*") if p.is_file()]
    print(f"{version}: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
