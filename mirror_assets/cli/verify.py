"""`mirror-catalog verify`: check the root, or an archived version, against its manifest."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from mirror_assets.cli.args import add_destination_arguments, settings_from_args, version_arg
from mirror_assets.errors import one_line
from mirror_assets.store.destinations import bucket_for
from mirror_assets.store.verify import verify_archive, verify_root


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog-version",
        type=version_arg,
        help="check the archived version versions/<V>/ (default: the root, against the current "
        "version's manifest)",
    )
    add_destination_arguments(parser)
    parser.add_argument(
        "--public-base-url", help="public URL the published tree is served from (catalog_file)"
    )
    parser.set_defaults(source=None, staging=None)


def verify_main(args: argparse.Namespace) -> int:
    """Exit status: 0 whole (one summary line); 1 a problem (one line each on stdout, naming the
    key) or the destination could not be read; 2 bad arguments. Notes go to stderr."""
    settings = settings_from_args(args)
    bucket = bucket_for(settings)
    try:
        if args.catalog_version:
            report = verify_archive(bucket, args.catalog_version, settings.public_base_url)
        else:
            report = verify_root(bucket, settings.public_base_url)
    except (BotoCoreError, ClientError, ValueError) as exc:  # ValueError: unreadable JSON
        print(f"mirror-catalog: {settings.dest}: {one_line(exc)}", file=sys.stderr)
        return 1
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if report.ok:
        print(f"{bucket.describe()}: {report.summary()}")
        return 0
    print("\n".join(report.problems))
    print(f"{bucket.describe()}: {report.summary()}", file=sys.stderr)
    return 1
