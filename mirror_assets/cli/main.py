"""mirror-catalog: mirror catalog versions through the Dagster job; inspect what is published.

Without a command, `run`: `mirror-catalog --catalog-version V` is `mirror-catalog run
--catalog-version V`. Only `run` imports Dagster; the other commands start fast.

Exit status: 0 all datastores mirrored; 1 the run failed, a datastore failed, or the version is not
at the source; 2 bad arguments (unknown flag, malformed version). Each command's help gives its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mirror_assets.cli.args import (
    OneLineParser,
    add_destination_arguments,
    add_s3_arguments,
    add_verbosity_arguments,
    add_version_argument,
    configure_logging,
    settings_from_args,
    version_arg,
)
from mirror_assets.cli.fetch import add_fetch_arguments, fetch_main
from mirror_assets.cli.publish import add_publish_arguments, publish_main
from mirror_assets.cli.status import add_status_arguments, status_main
from mirror_assets.cli.verify import add_verify_arguments, verify_main
from mirror_assets.config.settings import Settings, SettingsError
from mirror_assets.errors import MirrorError
from mirror_assets.fetch.sources import CatalogSource, open_source
from mirror_assets.state.run_scope import RunOptionsError, parse_datastore_list
from mirror_assets.state.versions import newest_visible, parse_version


def _datastores_arg(value: str) -> list[str]:
    try:
        return parse_datastore_list(value)
    except RunOptionsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_source_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        help="folder holding version folders, or sftp://[user@]host[:port]/base/path "
        "(default: bundled sample)",
    )


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_version_argument(parser)
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the versions at the source (with --dest: which are archived there); "
        "the same as the list command",
    )
    parser.add_argument(
        "--datastores",
        type=_datastores_arg,
        metavar="A,B",
        help="work on these datastores only (e.g. re-run what failed); the others keep their "
        "earlier results",
    )
    _add_job_arguments(parser)


def add_backfill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "versions",
        nargs="*",
        type=version_arg,
        metavar="VERSION",
        help="vYYYY-MM-DD, or .vYYYY-MM-DD for a hidden version "
        "(default: every non-hidden version at the source)",
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="only the versions the destination has not archived yet",
    )
    _add_job_arguments(parser)


def _add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a run of the job reads, stages and publishes, and how it reports."""
    _add_source_argument(parser)
    parser.add_argument(
        "--dest", help="destination folder or s3://bucket[/prefix] (default: ./mirror-output)"
    )
    parser.add_argument("--staging", help="local working folder (default: ./mirror-staging)")
    parser.add_argument("--public-base-url", help="public URL the published tree is served from")
    parser.add_argument("--config", help="TOML file overriding the shipped config/mirror.toml")
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
    add_verbosity_arguments(parser)


def add_list_arguments(parser: argparse.ArgumentParser) -> None:
    _add_source_argument(parser)
    add_destination_arguments(parser)
    parser.set_defaults(staging=None, public_base_url=None)


def _versions_index(settings: Settings) -> dict:
    """The destination's versions.json (empty when it has published nothing)."""
    from mirror_assets.store.destinations import bucket_for
    from mirror_assets.store.publish import read_versions_index

    return read_versions_index(bucket_for(settings))


def _listed(versions: list[str], settings: Settings) -> list[str]:
    """Each source version, marked when the destination has it archived (and current)."""
    index = _versions_index(settings)
    archived = {v["version"] for v in index["versions"]}
    lines = []
    for version in versions:
        mark = "archived" if version in archived else ""
        if version == index.get("current"):
            mark += " (current)"
        lines.append(f"{version}\t{mark}".rstrip())
    return lines


def list_main(args: argparse.Namespace) -> int:
    """Exit status: 0 listed; 1 the source (or the destination) could not be read."""
    configure_logging(getattr(args, "verbosity", 0))
    settings = settings_from_args(args)
    versions = open_source(settings).list_versions()
    print("\n".join(_listed(versions, settings) if args.dest else versions))
    return 0


def _not_at_source(source: CatalogSource, version: str) -> str:
    return (
        f"mirror-catalog: catalog version {version} not found: "
        f"{source.version_location(version)} does not exist"
    )


def run_main(args: argparse.Namespace) -> int:
    if args.list:
        return list_main(args)
    configure_logging(args.verbosity)
    settings = settings_from_args(args)
    source = open_source(settings)
    versions = source.list_versions()
    version = args.catalog_version or newest_visible(versions)
    if version is None:
        print(f"mirror-catalog: no catalog version found at {source.describe()}", file=sys.stderr)
        return 1
    if version not in versions:
        print(_not_at_source(source, version), file=sys.stderr)
        return 1
    from mirror_assets.cli.run import run_version  # Dagster loads only to launch a run

    return run_version(
        settings,
        version,
        args.datastores,
        args.allow_partial,
        reuse=not args.no_reuse,
        verbosity=args.verbosity,
    )


def backfill_main(args: argparse.Namespace) -> int:
    """Exit status: 0 every version mirrored (or none to do); 1 a version failed or is not at
    the source."""
    configure_logging(args.verbosity)
    settings = settings_from_args(args)
    source = open_source(settings)
    available = source.list_versions()
    for version in args.versions:
        if version not in available:
            print(_not_at_source(source, version), file=sys.stderr)
            return 1
    versions = set(args.versions) or {v for v in available if not parse_version(v).hidden}
    if not versions:
        print(f"mirror-catalog: no catalog version found at {source.describe()}", file=sys.stderr)
        return 1
    if args.missing:
        versions -= {v["version"] for v in _versions_index(settings)["versions"]}
        if not versions:
            print("mirror-catalog: backfill: every version is archived already; nothing to do")
            return 0
    from mirror_assets.cli.run import backfill_versions  # Dagster loads only to launch runs

    return backfill_versions(
        settings,
        sorted(versions),
        args.allow_partial,
        reuse=not args.no_reuse,
        verbosity=args.verbosity,
    )


Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]

COMMANDS: dict[str, Command] = {
    "run": (
        "fetch, build and publish a version through the Dagster job (the default command)",
        add_run_arguments,
        run_main,
    ),
    "backfill": (
        "mirror several versions (default: all at the source), oldest first, a run each, "
        "in one process",
        add_backfill_arguments,
        backfill_main,
    ),
    "fetch": (
        "only fetch a version into <staging>/<version>/raw",
        add_fetch_arguments,
        fetch_main,
    ),
    "publish": (
        "publish a version already built in a staging folder",
        add_publish_arguments,
        publish_main,
    ),
    "list": (
        "list the versions at the source (with --dest: which are archived there)",
        add_list_arguments,
        list_main,
    ),
    "status": (
        "the versions a destination has published, the current one, a promotion in progress",
        add_status_arguments,
        status_main,
    ),
    "verify": (
        "check the root (or an archived version) against its manifest, without downloading data",
        add_verify_arguments,
        verify_main,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The parser: a subcommand per entry of COMMANDS; without one, `run`'s arguments apply."""
    parser = OneLineParser(
        prog="mirror-catalog",
        description=__doc__.split("\n\n")[0],
        epilog="Without a command: run. `mirror-catalog COMMAND --help` describes each command.",
    )
    add_run_arguments(parser)
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for name, (summary, add_arguments, handler) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        add_arguments(command)
        command.set_defaults(handler=handler)
    parser.set_defaults(handler=run_main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (MirrorError, SettingsError) as exc:
        # Bad settings, an unreachable source, a held lock: one line, whatever the command.
        print(f"mirror-catalog: {exc}", file=sys.stderr)
        return 1
