"""Time the whole `mirror-catalog` run against the engine floor, in one run, with peak memory.

    python benchmarks/bench_pipeline.py --catalog benchmarks/results/catalog [--repeat 2]

The *engine floor* is, for each datastore, the one DuckDB statement no implementation can avoid:
`COPY (SELECT * FROM src ORDER BY <sort columns>) TO dest (FORMAT parquet, PARTITION_BY (...),
ROW_GROUP_SIZE 10000)` with DuckDB's default settings, using the sort columns the pipeline chooses.
Both run as subprocesses with fresh output folders, alternating (pipeline, floor, floor, pipeline,
...), and each is sampled for the summed RSS of its whole process tree every 50 ms. The best wall
of each is compared; the peak RSS is the highest seen over the repeats. Results go to
`<out>/bench_pipeline-<rows>.json` and `.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path

import duckdb

from mirror_assets.lib.datastore import read_schema
from mirror_assets.lib.duck import quote_ident, sql_literal
from mirror_assets.lib.partitioning import choose_sort_columns
from mirror_assets.lib.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_tree import Measured, run_measured  # noqa: E402

STEP_FINISHED = re.compile(r'Finished execution of step "(\w+)" in (?:(\d+)m)?([\d.]+)(ms|s)\.')


def plan_datastores(catalog: Path, version: str) -> list[dict]:
    """Per datastore: source, rows, partition columns and the sort columns the pipeline picks."""
    settings = load_settings()
    plan = []
    with duckdb.connect() as con:
        for src in sorted((catalog / version / "source").glob("*.parquet")):
            schema = read_schema(con, src)
            counts = ", ".join(
                f"count(DISTINCT {quote_ident(c)})" for c in ["path", *schema.text_columns]
            )
            rows, *distinct = con.execute(
                f"SELECT count(*), {counts} FROM read_parquet(?)", [str(src)]
            ).fetchall()[0]
            cardinalities = dict(zip(schema.text_columns, distinct[1:], strict=True))
            partition_cols = settings.partitions.get(src.stem, [])
            sort_cols = choose_sort_columns(
                schema, cardinalities, partition_cols, settings.sort_column_count
            )
            plan.append(
                {
                    "name": src.stem,
                    "src": str(src),
                    "rows": rows,
                    "bytes": src.stat().st_size,
                    "partition_columns": partition_cols,
                    "sort_columns": sort_cols,
                }
            )
    return plan


def run_floor(plan_file: Path, dest: Path) -> None:
    """The floor itself (run in a subprocess): one COPY per datastore, DuckDB defaults."""
    with duckdb.connect() as con:
        for store in json.loads(plan_file.read_text()):
            order_by = ", ".join(quote_ident(c) for c in store["sort_columns"])
            query = f"SELECT * FROM read_parquet({sql_literal(store['src'])})"
            query += f" ORDER BY {order_by}" if order_by else ""
            options = ["FORMAT parquet", "ROW_GROUP_SIZE 10000"]
            if store["partition_columns"]:
                cols = ", ".join(quote_ident(c) for c in store["partition_columns"])
                options.append(f"PARTITION_BY ({cols})")
            target = sql_literal(dest / f"{store['name']}.parquet")
            con.execute(f"COPY ({query}) TO {target} ({', '.join(options)})")


def _fresh(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _step_walls(log: Path) -> dict[str, float]:
    walls = {}
    for step, minutes, value, unit in STEP_FINISHED.findall(log.read_text(errors="replace")):
        walls[step] = int(minutes or 0) * 60 + float(value) / (1000 if unit == "ms" else 1)
    return walls


def _check_pipeline(work: Path, version: str, plan: list[dict], log: Path) -> None:
    """The pipeline mirrored every row and chose the sort columns the floor used."""
    outcomes = json.loads((work / "staging" / version / "status" / "partitioned.json").read_text())
    chosen = {o["name"]: o for o in outcomes}
    for store in plan:
        outcome = chosen.get(store["name"])
        if not outcome or not outcome["ok"]:
            sys.exit(f"pipeline failed on {store['name']}: see {log}")
        metrics = outcome["metrics"]
        if metrics["sort_columns"] != store["sort_columns"] or metrics["rows"] != store["rows"]:
            sys.exit(f"{store['name']}: pipeline chose {metrics}, the floor used {store}")


def bench(catalog: Path, version: str, repeat: int, work: Path) -> dict:
    plan = plan_datastores(catalog, version)
    work.mkdir(parents=True, exist_ok=True)
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(plan, indent=2))
    cli = Path(sys.executable).with_name("mirror-catalog")
    env_free = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_", "DAGSTER_"))}
    os.environ.clear()
    os.environ.update(env_free)
    runs: dict[str, list[dict]] = {"pipeline": [], "floor": []}

    def pipeline(i: int) -> Measured:
        _fresh(work / "staging", work / "dest")
        log = work / f"pipeline-{i}.log"
        command = [str(cli), "--catalog-version", version, "--source", str(catalog)]
        command += ["--dest", str(work / "dest"), "--staging", str(work / "staging")]
        measured = run_measured(command, log, cwd=work)
        if measured.returncode != 0:
            sys.exit(f"mirror-catalog exited {measured.returncode}: see {log}")
        _check_pipeline(work, version, plan, log)
        runs["pipeline"].append({**vars(measured), "steps_s": _step_walls(log)})
        return measured

    def floor(i: int) -> Measured:
        _fresh(work / "floor")
        (work / "floor").mkdir()
        command = [sys.executable, __file__, "--floor-plan", str(plan_file)]
        command += ["--floor-dest", str(work / "floor")]
        measured = run_measured(command, work / f"floor-{i}.log", cwd=work / "floor")
        if measured.returncode != 0:
            sys.exit(f"floor exited {measured.returncode}: see {work / f'floor-{i}.log'}")
        runs["floor"].append(vars(measured))
        return measured

    for i in range(repeat):
        first, second = (pipeline, floor) if i % 2 == 0 else (floor, pipeline)
        for step in (first, second):
            m = step(i)
            print(
                f"  {step.__name__:8} run {i + 1}: {m.wall_s:6.1f} s, "
                f"peak RSS {m.peak_rss_bytes / 2**20:6.0f} MiB ({m.peak_processes} processes)",
                flush=True,
            )
    _fresh(work / "staging", work / "dest", work / "floor")
    best = {k: min(r["wall_s"] for r in v) for k, v in runs.items()}
    return {
        "catalog": str(catalog),
        "version": version,
        "rows": sum(s["rows"] for s in plan),
        "input_bytes": sum(s["bytes"] for s in plan),
        "datastores": len(plan),
        "repeat": repeat,
        "machine": f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}",
        "duckdb": duckdb.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "pipeline_wall_s": best["pipeline"],
        "floor_wall_s": best["floor"],
        "ratio": best["pipeline"] / best["floor"],
        "pipeline_peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs["pipeline"]),
        "floor_peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs["floor"]),
        "runs": runs,
        "plan": plan,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| rows | input MB | floor wall s | pipeline wall s | ratio | floor peak RSS MiB"
        " | pipeline peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['input_bytes'] / 1e6:.0f} | {r['floor_wall_s']:.1f}"
            f" | {r['pipeline_wall_s']:.1f} | {r['ratio']:.2f}"
            f" | {r['floor_peak_rss_bytes'] / 2**20:.0f}"
            f" | {r['pipeline_peak_rss_bytes'] / 2**20:.0f} |"
        )
    if len(results) == 2:
        small, large = sorted(results, key=lambda r: r["rows"])
        growth = large["pipeline_peak_rss_bytes"] / small["pipeline_peak_rss_bytes"]
        lines.append("")
        lines.append(
            f"Pipeline peak RSS at {large['rows']:,} rows is {growth:.2f}x the figure at "
            f"{small['rows']:,} rows."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, action="append", help="generated catalog folder")
    parser.add_argument("--version", default="v2025-02-28")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--floor-plan", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-dest", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_plan:
        run_floor(args.floor_plan, args.floor_dest)
        return
    if not args.catalog:
        parser.error("--catalog is required")
    results = []
    for catalog in args.catalog:
        catalog = catalog.resolve()
        print(f"{catalog} ({args.version}):", flush=True)
        result = bench(catalog, args.version, args.repeat, args.out.resolve() / "work")
        results.append(result)
        stem = args.out / f"bench_pipeline-{result['rows']}"
        stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    report = table(results)
    print(report)
    (args.out / "bench_pipeline.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
