"""Command-line pieces shared by `mirror-catalog`'s commands (arguments, settings, logging).

Nothing here imports Dagster, so the commands that do not launch a run start fast.
"""

from __future__ import annotations

import argparse
import logging

from mirror_assets.config.settings import Settings, load_settings
from mirror_assets.state.versions import InvalidVersionError, parse_version


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors: `mirror-catalog: error: ...`, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def version_arg(value: str) -> str:
    try:
        return parse_version(value).key
    except InvalidVersionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_version_argument(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """`--catalog-version`, checked for its form; optional means the newest non-hidden version."""
    default = "" if required else " (default: newest non-hidden)"
    parser.add_argument(
        "--catalog-version",
        type=version_arg,
        required=required,
        help=f"vYYYY-MM-DD, or .vYYYY-MM-DD for a hidden version{default}",
    )


# Dagster's console logger level per verbosity: its DEBUG level is the whole event log (a line per
# run, step, output and materialisation event); INFO keeps the assets' per-datastore lines.
DAGSTER_LOG_LEVELS = {-1: "ERROR", 0: "INFO", 1: "DEBUG"}


def add_verbosity_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=1,
        default=0,
        help="also print Dagster's event log (every run, step and materialisation event)",
    )
    group.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const=-1, help="print errors only"
    )


def configure_logging(verbosity: int) -> None:
    """Progress lines at INFO (errors only when quiet), without alembic's start-up chatter."""
    level = logging.ERROR if verbosity < 0 else logging.INFO
    logging.basicConfig(level=level, format="%(message)s")
    # Dagster stamps its SQLite schema through alembic, which announces its plugins and migration
    # context at INFO every time an instance opens.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def add_endpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url", help="S3 API endpoint for an s3:// --dest (default: AWS_ENDPOINT_URL)"
    )


def add_destination_arguments(parser: argparse.ArgumentParser) -> None:
    """`--dest`, `--endpoint-url` and `--config`: enough to open the destination."""
    parser.add_argument(
        "--dest", help="destination folder or s3://bucket[/prefix] (default: ./mirror-output)"
    )
    add_endpoint_argument(parser)
    parser.add_argument("--config", help="TOML file overriding the shipped config/mirror.toml")


def add_s3_arguments(parser: argparse.ArgumentParser) -> None:
    add_endpoint_argument(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be uploaded, copied and deleted; change nothing at the destination",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings every command works with; `run` hands them to the code location in process
    (code_location.py), so they are loaded once."""
    return load_settings(
        args.config,
        overrides={
            "source": args.source,
            "dest": args.dest,
            "staging": args.staging,
            "public_base_url": args.public_base_url,
            "s3_endpoint_url": getattr(args, "endpoint_url", None),
            "dry_run": getattr(args, "dry_run", None) or None,
        },
    )
