"""Generate the bundled sample catalog from the real esm-datastore fixtures beside this file.

    python -m mirror_assets.sample.generate [--out DIR]

Writes two catalog versions, each with metacatalog.parquet and source/<name>.parquet + .json pairs,
laid out exactly like the production catalog on Gadi. The output is reproducible byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GADI_BASE = "/g/data/xp65/public/apps/access-nri-intake-catalog"

# datastore name -> (fixture stem, model column, realm column, frequency column, variable column)
DATASTORES = {
    "cmip6_oi10": ("cmip6-oi10", "source_id", "realm", "frequency", "variable_id"),
    "cmip5_al33": ("cmip5_al33", "model", "realm", "frequency", "variable"),
    "barpa_py18": ("barpa-py18", "source_id", None, "freq", "variable_id"),
    "era5_rt52": ("era5-rt52", "product", None, None, "variable"),
    "by473": ("by473", None, "realm", "frequency", "variable"),
    "esmvaltool-obs-ct11": ("access-ct11", "source_id", None, "table_id", "variable_id"),
    "cordex_ig45": ("cordex-ig45", None, None, "frequency", "variable_id"),
}
# The older version lacks cordex_ig45: it was added to the catalog in the newer one.
VERSIONS = {
    "v2025-01-29": [n for n in DATASTORES if n != "cordex_ig45"],
    "v2025-02-28": list(DATASTORES),
}


def read_fixture(stem: str) -> tuple[list[str], set[str], list[dict[str, object]]]:
    """Columns, which of them hold Python-literal lists (ACCESS variable columns), and rows."""
    with (FIXTURES / f"{stem}.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames or [] if c]
        raw_rows = list(reader)
    list_columns = {c for c in columns if all(r[c].startswith("[") for r in raw_rows)}
    rows = [
        {c: ast.literal_eval(r[c]) if c in list_columns else r[c] for c in columns}
        for r in raw_rows
    ]
    return columns, list_columns, rows


def write_datastore(
    name: str, stem: str, source_dir: Path, version: str
) -> list[dict[str, object]]:
    columns, list_columns, rows = read_fixture(stem)
    arrays = {
        col: pa.array(
            [r[col] for r in rows], pa.list_(pa.string()) if col in list_columns else pa.string()
        )
        for col in columns
    }
    pq.write_table(pa.table(arrays), source_dir / f"{name}.parquet")
    spec = json.loads((FIXTURES / f"{stem}.json").read_text(encoding="utf-8"))
    spec["id"] = name
    spec["catalog_file"] = f"{GADI_BASE}/{version}/source/{name}.parquet"
    (source_dir / f"{name}.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return rows


def _values(rows: list[dict[str, object]], column: str | None, default: str) -> list[str]:
    if column is None:
        return [default]
    found: set[str] = set()
    for row in rows:
        value = row[column]
        found.update(value if isinstance(value, list) else [value])
    return sorted(v for v in found if v)


def metacatalog_rows(name: str, rows: list[dict[str, object]], version: str) -> list[dict]:
    """Two translator slices per datastore (first and second half), as the real builder emits."""
    _, model_col, realm_col, freq_col, var_col = DATASTORES[name]
    description = f"Sample of the {name} datastore from the ACCESS-NRI intake catalog test suite"
    yaml = (
        f"sources:\n  {name}:\n    args:\n      obj: {GADI_BASE}/{version}/source/{name}.json\n"
        f"    description: {description}\n    driver: intake_esm.core.esm_datastore\n"
    )
    half = max(1, len(rows) // 2)
    slices = [rows[:half], rows[half:]] if len(rows) > 1 else [rows]
    return [
        {
            "name": name,
            "model": _values(part, model_col, name),
            # First slice: no description/yaml, so the restructure must take the first non-null.
            "description": None if i == 0 and len(slices) > 1 else description,
            "realm": _values(part, realm_col, "none"),
            "frequency": _values(part, freq_col, "fx"),
            "variable": _values(part, var_col, ""),
            "yaml": None if i == 0 and len(slices) > 1 else yaml,
        }
        for i, part in enumerate(slices)
    ]


def generate(out: Path) -> None:
    for version, names in VERSIONS.items():
        version_dir = out / version
        if version_dir.exists():
            shutil.rmtree(version_dir)
        source_dir = version_dir / "source"
        source_dir.mkdir(parents=True)
        meta: list[dict] = []
        for name in names:
            rows = write_datastore(name, DATASTORES[name][0], source_dir, version)
            meta += metacatalog_rows(name, rows, version)
        strings = pa.list_(pa.string())
        schema = pa.schema(
            [
                ("name", pa.string()),
                ("model", strings),
                ("description", pa.string()),
                ("realm", strings),
                ("frequency", strings),
                ("variable", strings),
                ("yaml", pa.string()),
            ]
        )
        pq.write_table(pa.Table.from_pylist(meta, schema), version_dir / "metacatalog.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "catalog")
    generate(parser.parse_args().out)


if __name__ == "__main__":
    main()
