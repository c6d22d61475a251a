"""`mirror-catalog`: mirror a catalog version through the Dagster job, or list versions.

Exit status: 0 all datastores mirrored; 1 the run failed, a datastore failed, or the version is not
at the source; 2 bad arguments (unknown flag, malformed version).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import dagster as dg

from mirror_assets.code_location import execute_partition_run
from mirror_assets.definitions import catalog_source_for
from mirror_assets.defs.jobs import mirror_catalog_job
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.lib.errors import MirrorError
from mirror_assets.lib.outcomes import STAGES, failures
from mirror_assets.lib.settings import Settings, SettingsError, load_settings
from mirror_assets.lib.staging import VersionStaging
from mirror_assets.lib.versions import InvalidVersionError, newest_visible, parse_version


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `mirror-catalog: error: ...`, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _version_arg(value: str) -> str:
    try:
        return parse_version(value).key
    except InvalidVersionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mirror-catalog", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--catalog-version",
        type=_version_arg,
        help="vYYYY-MM-DD, or .vYYYY-MM-DD for a hidden version (default: newest non-hidden)",
    )
    parser.add_argument("--list", action="store_true", help="list the versions at the source")
    parser.add_argument("--source", help="folder holding version folders (default: bundled sample)")
    parser.add_argument("--dest", help="destination folder (default: ./mirror-output)")
    parser.add_argument("--staging", help="local working folder (default: ./mirror-staging)")
    parser.add_argument("--public-base-url", help="public URL the published tree is served from")
    parser.add_argument("--config", help="TOML file overriding the shipped config/mirror.toml")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(
        args.config,
        overrides={
            "source": args.source,
            "dest": args.dest,
            "staging": args.staging,
            "public_base_url": args.public_base_url,
        },
    )
    # The code location reads the same settings, so runs re-executed from the UI match this one.
    if args.config:
        os.environ["MIRROR_CONFIG"] = os.path.abspath(args.config)
    for var, value in {
        "MIRROR_SOURCE": settings.source,
        "MIRROR_DEST": settings.dest,
        "MIRROR_STAGING": settings.staging,
        "MIRROR_PUBLIC_BASE_URL": settings.public_base_url,
    }.items():
        if value:
            os.environ[var] = value
    return settings


def _instance() -> dg.DagsterInstance:
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def run_version(settings: Settings, version: str) -> int:
    """Materialise every asset of the job for `version`; returns the exit status.

    The run belongs to the code location's `mirror_catalog` job (the UI lists it there with its
    partition and can re-execute it); the code location builds its resources from the
    environment `_settings` prepared from the same flags.
    """
    with _instance() as instance:
        instance.add_dynamic_partitions(catalog_versions.name, [version])
        result = execute_partition_run(instance, mirror_catalog_job.name, version)
    status = VersionStaging.of(settings.staging, version).status
    failed = failures(status, STAGES[:-1])
    for stage, outcome in failed:
        where = f"{outcome.file}: " if outcome.file else ""
        print(f"FAILED {outcome.name} ({stage}): {where}{outcome.cause}", file=sys.stderr)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data:
                error = event.step_failure_data.error
                message = error.message.strip().splitlines()[0] if error else "step failed"
                print(f"FAILED step {event.step_key}: {message}", file=sys.stderr)
        return 1
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = _settings(args)
        source = catalog_source_for(settings)
        versions = source.list_versions()
        if args.list:
            print("\n".join(versions))
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
        return run_version(settings, version)
    except (MirrorError, SettingsError) as exc:
        print(f"mirror-catalog: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
