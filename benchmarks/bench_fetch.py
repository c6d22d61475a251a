"""Time the SFTP fetch of a ~150 MB, ~30-file version against `rsync -a -e ssh`, in one run.

    python benchmarks/bench_fetch.py [--work DIR] [--repeat 3] [--mb 150] [--datastores 15]

Both read from the same OpenSSH sshd on 127.0.0.1 (started here with generated keys, as the tests
do) into fresh folders, alternating rsync, fetch, fetch, rsync, ...; the best wall of each is
compared. Then a second fetch with nothing changed, in-process and as `mirror-catalog fetch` (the
latter includes Python start-up and imports). Results go to `<work>/bench_fetch.json`.
Targets (issue 3): fetch <= 1.2x rsync; unchanged fetch <= 1 s.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from generate_fetch_version import VERSION, generate  # noqa: E402

from mirror_assets.config.settings import SftpSettings  # noqa: E402
from mirror_assets.fetch.sftp.source import SftpSource  # noqa: E402
from mirror_assets.fetch.sftp.ssh_config import SftpUrl  # noqa: E402
from mirror_assets_tests.ssh_servers import OpenSshServer, SshKeys, sshd_unavailable  # noqa: E402

ALIAS = "bench-sshd"


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def rsync(ssh_config: Path, remote: str, dest: Path) -> None:
    subprocess.run(
        ["rsync", "-a", "-e", f"ssh -F {ssh_config} -o BatchMode=yes", remote, f"{dest}/"],
        check=True,
    )


def same_tree(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files == theirs and all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mb", type=int, default=150)
    parser.add_argument("--datastores", type=int, default=15)
    args = parser.parse_args()
    reason = sshd_unavailable()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_fetch-"))
    catalog = work / "catalog"
    if not (catalog / VERSION).is_dir():
        generate(catalog, args.datastores, args.mb)
    files = [p for p in (catalog / VERSION).rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    keys = SshKeys(work / "keys")
    (work / "sshd").mkdir(exist_ok=True)
    server = OpenSshServer(keys, work / "sshd").start()
    try:
        keys.trust(server.port)
        ssh_config = keys.ssh_config(ALIAS, server.port)
        sftp = SftpSource(
            SftpUrl(ALIAS, None, None, str(catalog)), SftpSettings(ssh_config=str(ssh_config))
        )
        rsync_dest, raw = work / "rsync", work / "staging" / VERSION / "raw"
        remote = f"{ALIAS}:{catalog / VERSION}/"
        rsync_walls, fetch_walls = [], []
        for i in range(args.repeat):
            order = ["rsync", "fetch"] if i % 2 == 0 else ["fetch", "rsync"]
            for tool in order:
                if tool == "rsync":
                    shutil.rmtree(rsync_dest, ignore_errors=True)
                    rsync_dest.mkdir(parents=True)
                    wall, _ = timed(
                        lambda: rsync(ssh_config, f"{ALIAS}:{catalog / VERSION}/", rsync_dest)
                    )
                    rsync_walls.append(wall)
                else:
                    shutil.rmtree(raw, ignore_errors=True)
                    wall, report = timed(lambda: sftp.fetch_version(VERSION, raw))
                    assert len(report.transferred) == len(files), report
                    fetch_walls.append(wall)
                print(f"  {tool:6s} {wall:.2f} s", flush=True)
        identical = same_tree(catalog / VERSION, raw) and same_tree(rsync_dest, raw)
        unchanged_walls = []
        for _ in range(args.repeat):
            wall, report = timed(lambda: sftp.fetch_version(VERSION, raw))
            assert not report.transferred, report
            unchanged_walls.append(wall)
        rsync_unchanged, _ = timed(lambda: rsync(ssh_config, remote, rsync_dest))
        config = work / "bench.toml"
        config.write_text(f'[sftp]\nssh_config = "{ssh_config}"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIRROR_")}
        cli = [sys.executable, "-m", "mirror_assets.cli", "fetch", "--catalog-version", VERSION]
        cli += ["--source", f"sftp://{ALIAS}{catalog}", "--staging", str(work / "staging")]
        cli += ["--config", str(config)]
        cli_wall, done = timed(lambda: subprocess.run(cli, env=env, capture_output=True, text=True))
        assert done.returncode == 0 and "0 files transferred" in done.stdout, done.stderr
    finally:
        server.stop()
    results = {
        "files": len(files),
        "megabytes": round(size / 1e6, 1),
        "rsync_best_s": round(min(rsync_walls), 3),
        "fetch_best_s": round(min(fetch_walls), 3),
        "ratio": round(min(fetch_walls) / min(rsync_walls), 2),
        "rsync_median_s": round(statistics.median(rsync_walls), 3),
        "fetch_median_s": round(statistics.median(fetch_walls), 3),
        "ratio_of_medians": round(
            statistics.median(fetch_walls) / statistics.median(rsync_walls), 2
        ),
        "fetch_throughput_mb_s": round(size / 1e6 / min(fetch_walls), 1),
        "unchanged_fetch_best_s": round(min(unchanged_walls), 3),
        "unchanged_rsync_s": round(rsync_unchanged, 3),
        "unchanged_cli_fetch_s": round(cli_wall, 3),
        "identical": identical,
        "settings": {
            "max_transfers": sftp.settings.max_transfers,
            "block_size": sftp.settings.block_size,
            "max_requests": sftp.settings.max_requests,
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "walls": {"rsync": rsync_walls, "fetch": fetch_walls, "unchanged": unchanged_walls},
    }
    (work / "bench_fetch.json").write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "walls"}, indent=2))
    met = results["ratio"] <= 1.2 and results["unchanged_cli_fetch_s"] <= 1.0 and identical
    print(f"targets (<= 1.2x rsync, unchanged <= 1 s, identical): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
