"""Built version trees for the publish tests (files stand in for parquet: publish moves bytes)."""

from __future__ import annotations

import json
from pathlib import Path

BASE = "https://objects.example/v1/AUTH_x/catalog"


def make_build(
    root: Path,
    datastores: dict[str, list[str]],
    marker: str = "1",
    big: dict[str, int] | None = None,
) -> Path:
    """A built version tree: metacatalog plus, per datastore, spec, sidecars and a hive folder.
    `big` maps a datastore to the size of an extra partition file (to exercise multipart)."""
    (root / "source").mkdir(parents=True, exist_ok=True)
    (root / "metacatalog.parquet").write_text(f"meta {marker} {sorted(datastores)}")
    for name, partitions in datastores.items():
        # As datastore_specs writes it: a hive folder's URL ends in /.
        folder = "/" if partitions or name in (big or {}) else ""
        (root / "source" / f"{name}.json").write_text(
            json.dumps({"id": name, "catalog_file": f"{BASE}/source/{name}.parquet{folder}"})
        )
        (root / "source" / f"{name}_uniqs.parquet").write_text(f"uniqs {name}")
        (root / "source" / f"{name}_metadata.json").write_text('{"num_records": 1}')
        for part in partitions:
            path = root / "source" / f"{name}.parquet" / part / "data_0.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name} {part} {marker}")
    for name, size in (big or {}).items():
        path = root / "source" / f"{name}.parquet" / "big=1" / "data_0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = f"{name} {marker} ".encode()
        path.write_bytes((seed * (size // len(seed) + 1))[:size])
    return root
