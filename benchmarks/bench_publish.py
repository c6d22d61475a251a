"""Publish benchmark: our S3 publisher against `rclone sync` on the same tree and the same server.

Generates a ~150-file, ~90 MB built version (hive folders, a few files above the multipart
threshold), starts moto's S3 server as its own process on 127.0.0.1, and times in one run:
  first publish   publish_version (archive under versions/<v>/, verify, promote to the root by
                  server-side copy)   vs   rclone sync --transfers 16 (one copy of the tree)
  re-publish      the same call with nothing changed   vs   rclone sync --fast-list --checksum
Each figure is the median of --repeat runs, each on fresh buckets.

    python benchmarks/bench_publish.py [--files 150] [--mb 90] [--repeat 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from mirror_assets.store.publish import publish_version
from mirror_assets.store.s3 import MIB, S3Bucket, S3Location
from mirror_assets_tests.servers.moto_s3 import S3Endpoint, moto_process

VERSION = "v2025-02-28"
BASE = "https://objects.example/v1/AUTH_bench/catalog"


def generate_tree(root: Path, files: int, total_mb: int, seed: int = 7) -> list[str]:
    """A built version: metacatalog, and per datastore a spec, two sidecars and hive partitions.
    Partition sizes are skewed like real catalogs: most small, a few above the multipart threshold.
    """
    rng = random.Random(seed)
    names = [f"ds{i:02d}" for i in range(10)]
    source = root / "source"
    source.mkdir(parents=True)
    (root / "metacatalog.parquet").write_bytes(rng.randbytes(200_000))
    for name in names:
        spec = {"id": name, "catalog_file": f"{BASE}/source/{name}.parquet"}
        (source / f"{name}.json").write_text(json.dumps(spec))
        (source / f"{name}_uniqs.parquet").write_bytes(rng.randbytes(20_000))
        (source / f"{name}_metadata.json").write_text(json.dumps({"num_records": 1000}))
    partitions = files - 1 - 3 * len(names)
    weights = [rng.paretovariate(1.2) for _ in range(partitions)]
    budget = total_mb * MIB - 200_000 - len(names) * 20_100
    for i, weight in enumerate(weights):
        name = names[i % len(names)]
        folder = source / f"{name}.parquet" / f"realm=r{i % 4}" / f"frequency=f{i // 40}"
        folder.mkdir(parents=True, exist_ok=True)
        size = max(4096, int(budget * weight / sum(weights)))
        (folder / f"data_{i}.parquet").write_bytes(rng.randbytes(size))
    return names


def tree_stats(root: Path) -> tuple[int, int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    sizes = [p.stat().st_size for p in files]
    return len(files), sum(sizes), max(sizes)


def make_bucket(endpoint: S3Endpoint, name: str) -> None:
    boto3.client(
        "s3",
        endpoint_url=endpoint.endpoint_url,
        region_name=endpoint.region,
        config=Config(s3={"addressing_style": "path"}),
    ).create_bucket(Bucket=name)


def ours(
    endpoint: S3Endpoint,
    bucket: str,
    tree: Path,
    names: list[str],
    concurrency: int,
    cache: Path | None,
    version: str = VERSION,
):
    start = time.perf_counter()
    location = S3Location(
        bucket=bucket,
        endpoint_url=endpoint.endpoint_url,
        region=endpoint.region,
        concurrency=concurrency,
    )
    report = publish_version(
        S3Bucket(location), tree, version, names, BASE, rows=0, etag_cache=cache
    )
    return time.perf_counter() - start, report


def rclone(endpoint: S3Endpoint, bucket: str, tree: Path, *flags: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(
        RCLONE_CONFIG="/dev/null",
        RCLONE_S3_PROVIDER="Other",
        RCLONE_S3_ENDPOINT=endpoint.endpoint_url,
        RCLONE_S3_ACCESS_KEY_ID=endpoint.access_key,
        RCLONE_S3_SECRET_ACCESS_KEY=endpoint.secret_key,
        RCLONE_S3_REGION=endpoint.region,
        RCLONE_S3_FORCE_PATH_STYLE="true",
    )
    start = time.perf_counter()
    subprocess.run(
        ["rclone", "sync", "--transfers", "16", *flags, str(tree), f":s3:{bucket}"],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--mb", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("rclone"):
        raise SystemExit("rclone is not installed: apt-get install rclone")
    for var, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(var, value)
    endpoint_keys = (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])

    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        tree = Path(tmp) / "build"
        names = generate_tree(tree, args.files, args.mb)
        count, size, largest = tree_stats(tree)
        print(f"tree: {count} files, {size / MIB:.1f} MiB, largest {largest / MIB:.1f} MiB")
        results: dict[str, list[float]] = {
            k: [] for k in ("ours", "rclone", "ours2", "rclone2", "archive")
        }
        with moto_process(Path(tmp) / "moto.log") as server:
            endpoint = S3Endpoint(server.endpoint_url, *endpoint_keys)
            for _ in range(args.repeat):
                a, b, c = (f"bench-{uuid.uuid4().hex[:10]}" for _ in range(3))
                for name in (a, b, c):
                    make_bucket(endpoint, name)
                # The same transfers without promotion: a hidden version is archived only.
                wall, hidden = ours(endpoint, c, tree, names, args.concurrency, None, "." + VERSION)
                results["archive"].append(wall)
                assert len(hidden.uploaded) == count and not hidden.promoted
                cache = Path(tmp) / f"{a}.etags.json"  # as the pipeline keeps per version
                wall, first = ours(endpoint, a, tree, names, args.concurrency, cache)
                results["ours"].append(wall)
                assert len(first.uploaded) == count and first.promoted
                results["rclone"].append(rclone(endpoint, b, tree))
                wall, again = ours(endpoint, a, tree, names, args.concurrency, cache)
                results["ours2"].append(wall)
                assert again.uploaded == [] and again.root_written == []
                results["rclone2"].append(rclone(endpoint, b, tree, "--fast-list", "--checksum"))

    report(results, args)


def report(results: dict[str, list[float]], args: argparse.Namespace) -> None:
    """Medians, and the median of per-run ratios (each run times ours and rclone back to back,
    which holds up better than ratios of medians on a busy machine)."""
    med = {k: statistics.median(v) for k, v in results.items()}

    def ratio(ours_key: str, theirs_key: str) -> float:
        pairs = zip(results[ours_key], results[theirs_key], strict=True)
        return statistics.median(a / b for a, b in pairs)

    first, archive, again = (
        ratio("ours", "rclone"),
        ratio("archive", "rclone"),
        ratio("ours2", "rclone2"),
    )
    print(f"runs: {args.repeat} (medians), concurrency {args.concurrency}, moto_server process")
    print(
        f"first publish   ours {med['ours']:.2f} s (upload + verify + promote by server copy)  "
        f"rclone sync --transfers 16 {med['rclone']:.2f} s  ratio {first:.2f}  "
        f"target <= 1.2: {'met' if first <= 1.2 else 'NOT met'}"
    )
    print(
        f"archive only    ours {med['archive']:.2f} s (a hidden version: upload + verify, "
        f"no promotion)  ratio to rclone {archive:.2f}"
    )
    print(
        f"re-publish      ours {med['ours2']:.2f} s  rclone sync --fast-list --checksum "
        f"{med['rclone2']:.2f} s  ratio {again:.2f}  "
        f"target <= 1.0: {'met' if again <= 1.0 else 'NOT met'}"
    )
    print("all runs:", {k: [round(x, 2) for x in v] for k, v in results.items()})


if __name__ == "__main__":
    main()
