"""`mirror-catalog publish`: publish a version already built in a staging folder.

Nothing is fetched or transformed: the healthy datastores of `<staging>/<version>/build/` (as the
`status/` outcomes record them) go to the destination exactly as the pipeline's publish step would.
"""

from __future__ import annotations

import argparse
import logging
import sys

from botocore.exceptions import BotoCoreError, ClientError

from mirror_assets.cli.args import (
    add_s3_arguments,
    add_version_argument,
    settings_from_args,
)
from mirror_assets.errors import one_line
from mirror_assets.state.staging import VersionStaging
from mirror_assets.state.version_lock import version_lock
from mirror_assets.store.destinations import bucket_for
from mirror_assets.store.staged_publish import publish_staged


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    add_version_argument(parser, required=True)
    parser.add_argument("--staging", help="staging folder holding the build (./mirror-staging)")
    parser.add_argument(
        "--dest", help="destination folder or s3://bucket[/prefix] (default: ./mirror-output)"
    )
    parser.add_argument("--public-base-url", help="public URL the published tree is served from")
    parser.add_argument("--config", help="TOML file overriding the shipped config/mirror.toml")
    add_s3_arguments(parser)
    parser.set_defaults(source=None)


def publish_main(args: argparse.Namespace) -> int:
    """Exit status: 0 published; 1 nothing to publish, a transfer failed or a datastore had
    failed in the build; 2 bad arguments."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    version = args.catalog_version
    settings = settings_from_args(args)
    staging = VersionStaging.of(settings.staging, version)
    try:
        # Not while a run of the version (or another publish) uses the same staging folder.
        with version_lock(staging.root, "mirror-catalog publish"):
            built, report = publish_staged(
                bucket_for(settings),
                staging,
                version,
                settings.public_base_url,
                allow_partial=settings.allow_partial,
                dry_run=settings.dry_run,
            )
    except (BotoCoreError, ClientError) as exc:
        print(f"mirror-catalog: {settings.dest}: {one_line(exc)}", file=sys.stderr)
        return 1
    if report.dry_run:
        for action in report.actions():
            print(f"would {action}")
    print(
        f"{version}: {len(built.publish)} datastores built, {len(built.carried)} kept as "
        f"archived, {len(report.uploaded)} objects "
        f"{'to upload' if report.dry_run else 'uploaded'}, {report.unchanged} unchanged; "
        f"root {'would be ' if report.dry_run else ''}promoted: "
        f"{report.current == version}; current version {report.current}"
    )
    if built.carried:
        print(f"kept as archived: {', '.join(sorted(built.carried))}")
    for failed in built.failed:
        where = f"{failed.file}: " if failed.file else ""
        print(
            f"FAILED {failed.name} ({failed.failed_stage}): {where}{failed.cause}", file=sys.stderr
        )
    return 1 if built.failed else 0
