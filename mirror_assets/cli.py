"""`mirror-catalog`: mirror a catalog version through the Dagster job, or list versions.

Exit status: 0 all datastores mirrored; 1 the run failed, a datastore failed, or the version is not
at the source; 2 bad arguments (unknown flag, malformed version).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from mirror_assets.cli_args import (
    OneLineParser,
    add_s3_arguments,
    add_version_argument,
    settings_from_args,
)
from mirror_assets.lib.errors import MirrorError
from mirror_assets.lib.run_options import RunOptionsError, parse_datastore_list
from mirror_assets.lib.settings import Settings, SettingsError
from mirror_assets.lib.sources import open_source
from mirror_assets.lib.versions import newest_visible


def _datastores_arg(value: str) -> list[str]:
    try:
        return parse_datastore_list(value)
    except RunOptionsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mirror-catalog", description=__doc__.splitlines()[0])
    add_version_argument(parser)
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the versions at the source (with --dest: which are archived there)",
    )
    parser.add_argument(
        "--source",
        help="folder holding version folders, or sftp://[user@]host[:port]/base/path "
        "(default: bundled sample)",
    )
    parser.add_argument(
        "--dest", help="destination folder or s3://bucket[/prefix] (default: ./mirror-output)"
    )
    parser.add_argument("--staging", help="local working folder (default: ./mirror-staging)")
    parser.add_argument("--public-base-url", help="public URL the published tree is served from")
    parser.add_argument("--config", help="TOML file overriding the shipped config/mirror.toml")
    parser.add_argument(
        "--datastores",
        type=_datastores_arg,
        metavar="A,B",
        help="work on these datastores only (e.g. re-run what failed); the others keep their "
        "earlier results",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        default=None,
        help="promote the version to the root even if some datastores failed",
    )
    parser.add_argument(
        "--no-reuse",
        action="store_true",
        help="build and upload every datastore, even one another version has built or archived",
    )
    add_s3_arguments(parser)
    return parser


def _listed(versions: list[str], settings: Settings) -> list[str]:
    """Each source version, marked when the destination has it archived (and current)."""
    from mirror_assets.lib.destinations import bucket_for
    from mirror_assets.lib.publish import read_versions_index

    index = read_versions_index(bucket_for(settings))
    archived = {v["version"] for v in index["versions"]}
    lines = []
    for version in versions:
        mark = "archived" if version in archived else ""
        if version == index.get("current"):
            mark += " (current)"
        lines.append(f"{version}\t{mark}".rstrip())
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["fetch"]:
        from mirror_assets.cli_fetch import fetch_main

        return fetch_main(argv[1:])
    if argv[:1] == ["publish"]:
        from mirror_assets.cli_publish import publish_main

        return publish_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Opening a persistent (SQLite) instance checks its schema with alembic, which talks at INFO.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = settings_from_args(args)
        source = open_source(settings)
        versions = source.list_versions()
        if args.list:
            print("\n".join(_listed(versions, settings) if args.dest else versions))
            return 0
        version = args.catalog_version or newest_visible(versions)
        if version is None:
            print(
                f"mirror-catalog: no catalog version found at {source.describe()}", file=sys.stderr
            )
            return 1
        if version not in versions:
            print(
                f"mirror-catalog: catalog version {version} not found: "
                f"{source.version_location(version)} does not exist",
                file=sys.stderr,
            )
            return 1
        from mirror_assets.cli_run import run_version  # Dagster loads only to launch a run

        return run_version(
            settings, version, args.datastores, args.allow_partial, reuse=not args.no_reuse
        )
    except (MirrorError, SettingsError) as exc:
        print(f"mirror-catalog: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
