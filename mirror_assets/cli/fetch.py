"""`mirror-catalog fetch`: only fetch a catalog version into `<staging>/<version>/raw`.

Operators use it to pre-stage a version (a later run finds the files unchanged and skips them); the
fetch benchmark times it. Same layout, skipping and resuming as the pipeline's raw_catalog asset.
"""

from __future__ import annotations

import argparse
import logging
import sys

from mirror_assets.cli.args import add_version_argument, settings_from_args
from mirror_assets.errors import MirrorError
from mirror_assets.fetch.sources import open_source
from mirror_assets.state.staging import VersionStaging
from mirror_assets.state.version_lock import version_lock
from mirror_assets.state.versions import newest_visible


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    add_version_argument(parser)
    parser.add_argument(
        "--source",
        help="sftp://[user@]host[:port]/base/path or a folder (default: bundled sample)",
    )
    parser.add_argument("--staging", help="local working folder (default: ./mirror-staging)")
    parser.add_argument("--config", help="TOML file overriding the shipped config/mirror.toml")
    parser.set_defaults(dest=None, public_base_url=None)


def fetch_main(args: argparse.Namespace) -> int:
    """Exit status: 0 fetched; 1 the version is missing, the source unreachable or a datastore
    left out (each printed as FAILED); 2 bad arguments."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = settings_from_args(args)
    source = open_source(settings)
    version = args.catalog_version or newest_visible(source.list_versions())
    if version is None:
        raise MirrorError(source.describe(), "no catalog version found")
    staging = VersionStaging.of(settings.staging, version)
    raw = staging.raw
    # Not while a run of the version (or another fetch) writes the same staging folder.
    with version_lock(staging.root, "mirror-catalog fetch"):
        report = source.fetch_version(version, raw)
    for name in report.ignored:
        logging.warning(f"fetch: ignored unknown file source/{name}")
    print(
        f"fetched {version} into {raw}: {len(report.datastores)} datastores, "
        f"{len(report.transferred)} files transferred ({report.bytes_transferred} bytes), "
        f"{len(report.skipped)} unchanged"
    )
    for problem in report.problems:
        print(f"FAILED {problem.name} (fetch): {problem.file}: {problem.cause}", file=sys.stderr)
    return 1 if report.problems else 0
