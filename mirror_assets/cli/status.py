"""`mirror-catalog status`: the versions a destination has published, from its versions.json."""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from mirror_assets.cli.args import add_destination_arguments, settings_from_args
from mirror_assets.cli.output import print_table
from mirror_assets.errors import one_line
from mirror_assets.store.destinations import bucket_for
from mirror_assets.store.status import HEADERS, NUMERIC, read_status


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    add_destination_arguments(parser)
    parser.set_defaults(source=None, staging=None, public_base_url=None)


def status_main(args: argparse.Namespace) -> int:
    """Exit status: 0 the status was read (whatever it says); 1 the destination could not be
    read; 2 bad arguments."""
    settings = settings_from_args(args)
    bucket = bucket_for(settings)
    try:
        status = read_status(bucket)
    except (BotoCoreError, ClientError, ValueError) as exc:  # ValueError: unreadable JSON
        print(f"mirror-catalog: {settings.dest}: {one_line(exc)}", file=sys.stderr)
        return 1
    if status.versions:
        print_table(HEADERS, status.rows(), right=NUMERIC, title=f"{bucket.describe()}:")
    else:
        print(f"{bucket.describe()}:")
    print("\n".join(status.summary()))
    return 0
