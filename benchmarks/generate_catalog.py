"""Generate a synthetic catalog version at a chosen scale, laid out like the one on Gadi.

    python benchmarks/generate_catalog.py --rows 10000000 --out benchmarks/results/catalog

Writes `<out>/<version>/metacatalog.parquet` and `source/<name>.parquet` + `.json` pairs. With
`--shape balanced` (the default), 12 datastores: CMIP6-, CMIP5-, BARPA- and ERA5-like ones and
ACCESS-model-output-like ones with VARCHAR[] variable columns. Some are named in the partition
table of `mirror_assets/config/mirror.toml`, some are not. With `--shape skewed`, 14: one
CMIP6-like datastore with 62.5 % of the rows and 15 text columns, two of 12.5 %, three
ACCESS-like ones and eight of 5-264 rows. Every row is made by DuckDB SQL streaming from
`range(n)`: values are picked from vocabularies by hashes of the row number (deterministic),
skewed towards the first entries the way real catalogs are (a few tables, models and
experiments hold most files).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vocabularies as vocab  # noqa: E402
from datastore_sql import KINDS  # noqa: E402

GADI_BASE = "/g/data/xp65/public/apps/access-nri-intake-catalog"


@dataclass(frozen=True)
class Datastore:
    name: str
    kind: str
    project: str
    share: float
    # A fixed row count, whatever the catalog's size (the tiny datastores of a skewed catalog).
    fixed_rows: int = 0


# Partitioned by mirror.toml: cmip6_oi10, cmip6_fs38, cmip5_al33, cmip5_rr3, barpa_py18, era5_rt52,
# cj877, 01deg_jra55v140_iaf, PI_GWL_B2035. Not in the table: cmip6_xx01, by473, access_om3_xx02.
DATASTORES = [
    Datastore("cmip6_oi10", "cmip6", "oi10", 0.36),
    Datastore("cmip6_fs38", "cmip6", "fs38", 0.14),
    Datastore("cmip6_xx01", "cmip6", "xx01", 0.05),
    Datastore("cmip5_al33", "cmip5", "al33", 0.11),
    Datastore("cmip5_rr3", "cmip5", "rr3", 0.05),
    Datastore("barpa_py18", "barpa", "py18", 0.07),
    Datastore("era5_rt52", "era5", "rt52", 0.09),
    Datastore("by473", "access", "p73", 0.03),
    Datastore("cj877", "access", "p73", 0.03),
    Datastore("01deg_jra55v140_iaf", "access", "ik11", 0.04),
    Datastore("PI_GWL_B2035", "access", "p73", 0.01),
    Datastore("access_om3_xx02", "access", "tm70", 0.02),
]

# One dominant datastore (62.5 % of the rows, 15 text columns), two of 12.5 %, ACCESS-like ones
# of 1.7-8.3 % with VARCHAR[] columns and eight tiny ones of 5-264 rows, like the catalog where a
# single CMIP6 replica holds most rows.
SKEWED_DATASTORES = [
    Datastore("cmip6_oi10", "cmip6_wide", "oi10", 0.625),
    Datastore("cmip6_fs38", "cmip6", "fs38", 0.125),
    Datastore("era5_rt52", "era5", "rt52", 0.125),
    Datastore("by473", "access", "p73", 0.083),
    Datastore("01deg_jra55v140_iaf", "access", "ik11", 0.025),
    Datastore("cj877", "access", "p73", 0.017),
    *(
        Datastore(f"tiny_{k}", "cmip5" if k % 2 else "barpa", f"t{k:03}", 0.0, rows)
        for k, rows in enumerate([5, 12, 30, 48, 77, 120, 190, 264])
    ),
]
SHAPES = {"balanced": DATASTORES, "skewed": SKEWED_DATASTORES}


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Deterministic pseudo-random picks by row number, and the vocabularies as constant lists."""
    con.execute("CREATE TEMP MACRO u(i, salt) AS (hash(i, salt) % 1000003)::DOUBLE / 1000003")
    # An index in [0, n): uniform, or skewed so that low indices are far more frequent.
    con.execute("CREATE TEMP MACRO uniform(i, salt, n) AS floor(u(i, salt) * n)::BIGINT")
    con.execute("CREATE TEMP MACRO skewed(i, salt, n) AS floor(pow(u(i, salt), 2.5) * n)::BIGINT")
    for name, value in vars(vocab).items():
        if name.isupper() and isinstance(value, list):
            if isinstance(value[0], tuple):
                columns = [sql_list([row[k] for row in value]) for k in range(len(value[0]))]
                for k, column in enumerate(columns):
                    con.execute(f"CREATE TEMP MACRO {name.lower()}_{k}() AS {column}")
            else:
                con.execute(f"CREATE TEMP MACRO {name.lower()}() AS {sql_list(value)}")


def write_spec(path: Path, name: str, version: str, columns: list[str]) -> None:
    spec = {
        "esmcat_version": "0.0.1",
        "attributes": [{"column_name": c, "vocabulary": ""} for c in columns],
        "assets": {"column_name": "path", "format": "netcdf"},
        "aggregation_control": {
            "variable_column_name": "variable" if "variable" in columns else "variable_id",
            "groupby_attrs": [c for c in columns[2:5]],
            "aggregations": [],
        },
        "id": name,
        "description": f"Synthetic {name} datastore for the mirror-assets benchmark",
        "title": None,
        "last_updated": "2025-02-28T00:00:00Z",
        "catalog_file": f"file://{GADI_BASE}/{version}/source/{name}.parquet",
    }
    path.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


def write_metacatalog(
    con: duckdb.DuckDBPyConnection, version_dir: Path, version: str, stores: list[Datastore]
) -> None:
    """Two translator slices per datastore (even and odd rows), as the real builder emits."""
    parts = []
    for store in stores:
        kind = KINDS[store.kind]
        src = version_dir / "source" / f"{store.name}.parquet"
        variable = (
            f"flatten(list(DISTINCT {kind.variable}))"
            if kind.list_variable
            else (f"list(DISTINCT {kind.variable})")
        )
        yaml = (
            f"sources:\n  {store.name}:\n    args:\n      obj: {GADI_BASE}/{version}/source/"
            f"{store.name}.json\n    driver: intake_esm.core.esm_datastore\n"
        )
        parts.append(
            f"""SELECT '{store.name}' AS name,
                  list(DISTINCT {kind.model}) AS model,
                  CASE WHEN s = 1 THEN 'Synthetic {store.name}' END AS description,
                  list(DISTINCT {kind.realm}) AS realm,
                  list(DISTINCT {kind.frequency}) AS frequency,
                  list_distinct({variable})[:200] AS variable,
                  CASE WHEN s = 1 THEN '{yaml}' END AS yaml
               FROM (SELECT *, file_row_number % 2 AS s
                     FROM read_parquet('{src}', file_row_number = true))
               GROUP BY s"""
        )
    con.execute(
        f"COPY ({' UNION ALL '.join(parts)} ORDER BY name, description NULLS FIRST) "
        f"TO '{version_dir / 'metacatalog.parquet'}' (FORMAT parquet)"
    )


def generate(out: Path, version: str, rows: int, shape: str = "balanced") -> dict[str, int]:
    """Write the version with the datastores of `shape`; returns rows per datastore."""
    source = out / version / "source"
    source.mkdir(parents=True, exist_ok=True)
    counts = {}
    with duckdb.connect() as con:
        define_macros(con)
        for store in SHAPES[shape]:
            n = store.fixed_rows or max(1, round(rows * store.share))
            dest = source / f"{store.name}.parquet"
            started = time.perf_counter()
            query = KINDS[store.kind].sql(store.name, store.project, n)
            con.execute(f"COPY ({query}) TO '{dest}' (FORMAT parquet)")
            columns = [r[0] for r in con.execute(f"DESCRIBE {query}").fetchall()]
            write_spec(source / f"{store.name}.json", store.name, version, columns)
            counts[store.name] = n
            print(
                f"{store.name}: {n} rows, {dest.stat().st_size / 1e6:.1f} MB "
                f"in {time.perf_counter() - started:.1f}s",
                flush=True,
            )
        write_metacatalog(con, out / version, version, SHAPES[shape])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="total rows (all datastores)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/catalog"))
    parser.add_argument("--version", default="v2025-02-28")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="balanced")
    args = parser.parse_args()
    if not 0 < args.rows <= 20_000_000:
        parser.error("--rows must be between 1 and 20,000,000")
    counts = generate(args.out, args.version, args.rows, args.shape)
    (args.out / "shape.txt").write_text(args.shape + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in (args.out / args.version).rglob("*.parquet"))
    print(f"{sum(counts.values())} rows in {len(counts)} datastores, {total / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
