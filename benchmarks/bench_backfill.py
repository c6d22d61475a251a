"""Backfill benchmark: what versions 2-4 of a catalog cost when each changes one datastore.

Generates 4 versions of a synthetic catalog (benchmarks/generate_catalog.py, ~2.5 M rows by
default) where each version after the first rewrites one datastore holding about 5 % of the rows,
starts moto's S3 server as its own process behind the tests' recording proxy, and mirrors the 4
versions with `mirror-catalog backfill` (one process and one staging folder, as a backfill on one
machine runs). With --separate-processes each version is its own `mirror-catalog run` process,
and with --fresh-staging each also gets a new staging folder, as on new machines, so that
unchanged datastores are taken from the archive. Reports per version the wall time and the bytes
that went through the client (PUT bodies counted at the proxy; server-side copies carry none),
against the targets: versions 2-4 each at most 0.25x the first's wall and 10 % of its bytes, the
total at most 1.75x a single version.

    python benchmarks/bench_backfill.py [--rows 2500000] [--out benchmarks/results/backfill]
        [--separate-processes | --fresh-staging] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the generator, and the tests' servers
from bench_publish import make_bucket  # noqa: E402
from generate_catalog import generate  # noqa: E402

from mirror_assets_tests.servers.fault_proxy import FaultProxy  # noqa: E402
from mirror_assets_tests.servers.moto_s3 import moto_process  # noqa: E402

# (version, wall seconds, bytes uploaded through the client, server-side copies)
Measure = tuple[str, float, int, int]
VERSIONS = ["v2025-01-01", "v2025-02-01", "v2025-03-01", "v2025-04-01"]
# About 5 % of the balanced catalog's rows each: one changes in each version after the first.
CHANGED = ["cmip6_xx01", "cmip5_rr3", "cmip6_xx01"]


def make_versions(out: Path, rows: int) -> None:
    generate(out, VERSIONS[0], rows)
    for previous, version, name in zip(VERSIONS[:-1], VERSIONS[1:], CHANGED, strict=True):
        shutil.copytree(out / previous, out / version, copy_function=shutil.copy2)
        path = out / version / "source" / f"{name}.parquet"
        tmp = path.with_name("changed.parquet")
        with duckdb.connect() as con:
            rows_kept = f"SELECT * FROM read_parquet('{path}') QUALIFY row_number() OVER () > 10"
            con.execute(f"COPY ({rows_kept}) TO '{tmp}' (FORMAT parquet)")
        tmp.replace(path)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_", "DAGSTER_HOME"))}
    return {**env, "PYTHONUNBUFFERED": "1"}  # each version's summary as it is printed


def _cli(*args: str, staging: Path, dest: str, endpoint: str, catalog: Path) -> list[str]:
    return [
        sys.executable, "-m", "mirror_assets.cli", *args, "--source", str(catalog),
        "--staging", str(staging), "--dest", dest, "--endpoint-url", endpoint,
    ]  # fmt: skip


def _sent(proxy: FaultProxy) -> tuple[int, int]:
    """(bytes of PUT bodies, server-side copies) the proxy has seen so far."""
    puts = list(proxy.puts)
    return sum(size for _, size, copy in puts if not copy), sum(1 for *_, copy in puts if copy)


def backfill(catalog: Path, work: Path, dest: str, proxy: FaultProxy) -> list[Measure]:
    """One `mirror-catalog backfill` of the 4 versions. A version's wall runs from the end of the
    previous one's (the first's: from the process start) to its summary's title line."""
    proxy.clear()
    start = time.perf_counter()
    cmd = _cli("backfill", *VERSIONS, staging=work / "staging", dest=dest,
               endpoint=proxy.endpoint_url, catalog=catalog)  # fmt: skip
    process = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    results, last, before = [], start, (0, 0)
    for line in process.stdout:
        if line.rstrip().rstrip(":") in VERSIONS and line.rstrip().endswith(":"):
            now, sent = time.perf_counter(), _sent(proxy)
            version = line.rstrip()[:-1]
            results.append((version, now - last, sent[0] - before[0], sent[1] - before[1]))
            last, before = now, sent
    stderr = process.stderr.read()
    if process.wait() != 0 or len(results) != len(VERSIONS):
        raise SystemExit(f"backfill failed:\n{stderr[-3000:]}")
    total = time.perf_counter() - start
    # What follows the last version's summary (the backfill table, the process exit) is its.
    version, wall, sent, copies = results[-1]
    results[-1] = (version, wall + total - (last - start), sent, copies)
    return results


def separate(catalog: Path, work: Path, dest: str, proxy: FaultProxy, fresh: bool) -> list[Measure]:
    """One `mirror-catalog run` process per version, one after another."""
    results = []
    for version in VERSIONS:
        proxy.clear()
        staging = work / (f"staging-{version}" if fresh else "staging")
        cmd = _cli("--catalog-version", version, staging=staging, dest=dest,
                   endpoint=proxy.endpoint_url, catalog=catalog)  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{version} failed:\n{done.stderr[-3000:]}")
        results.append((version, wall, *_sent(proxy)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_500_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/backfill"))
    parser.add_argument(
        "--separate-processes",
        action="store_true",
        help="one `mirror-catalog run` process per version instead of one `backfill` process",
    )
    parser.add_argument(
        "--fresh-staging",
        action="store_true",
        help="a process and a new staging folder per version, as on new machines (reuse from "
        "the archive)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the whole backfill N times (a new bucket and staging each); report each run "
        "and the median wall of each version",
    )
    args = parser.parse_args()
    catalog = args.out / "catalog"
    if not (catalog / VERSIONS[-1]).is_dir():
        shutil.rmtree(catalog, ignore_errors=True)
        make_versions(catalog, args.rows)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    runs = []
    for _ in range(args.repeat):
        runs.append(one_backfill(catalog, args.separate_processes, args.fresh_staging))
        report(runs[-1])
    if len(runs) > 1:
        print(f"\nmedian of {len(runs)} runs:")
        report(
            [
                (version, statistics.median(r[i][1] for r in runs), sent, copies)
                for i, (version, _, sent, copies) in enumerate(runs[0])
            ]
        )


def one_backfill(catalog: Path, separate_processes: bool, fresh_staging: bool) -> list[Measure]:
    """The 4 versions mirrored to a new moto server, behind the recording proxy."""
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    try:
        with moto_process(work / "moto.log") as endpoint:
            bucket = f"backfill-{uuid.uuid4().hex[:8]}"
            make_bucket(endpoint, bucket)
            proxy = FaultProxy(int(endpoint.endpoint_url.rsplit(":", 1)[1])).start()
            try:
                dest = f"s3://{bucket}"
                if separate_processes or fresh_staging:
                    return separate(catalog, work, dest, proxy, fresh_staging)
                return backfill(catalog, work, dest, proxy)
            finally:
                proxy.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: list[Measure]) -> None:
    _, first_wall, first_bytes, _ = results[0]
    print("\n| version | wall (s) | × first | uploaded (MB) | % of first | server-side copies |")
    print("|---|---:|---:|---:|---:|---:|")
    for version, wall, sent, copies in results:
        print(
            f"| {version} | {wall:.1f} | {wall / first_wall:.2f} | {sent / 1e6:.1f} | "
            f"{100 * sent / first_bytes:.1f} | {copies} |"
        )
    total = sum(wall for _, wall, _, _ in results)
    later = results[1:]
    print(f"\ntotal {total:.1f} s = {total / first_wall:.2f}× one version (target ≤ 1.75)")
    print(
        "later versions: wall ≤ 0.25× first: "
        f"{all(w <= 0.25 * first_wall for _, w, _, _ in later)}; "
        f"uploads ≤ 10 %: {all(s <= 0.10 * first_bytes for _, _, s, _ in later)}"
    )


if __name__ == "__main__":
    main()
