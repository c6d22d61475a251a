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
from mirror_assets.lib.run_options import RunOptionsError, parse_datastore_list
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


def _datastores_arg(value: str) -> list[str]:
    try:
        return parse_datastore_list(value)
    except RunOptionsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mirror-catalog", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--catalog-version",
        type=_version_arg,
        help="vYYYY-MM-DD, or .vYYYY-MM-DD for a hidden version (default: newest non-hidden)",
    )
    parser.add_argument("--list", action="store_true", help="list the versions at the source")
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
    add_s3_arguments(parser)
    return parser


def add_s3_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url", help="S3 API endpoint for an s3:// --dest (default: AWS_ENDPOINT_URL)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be uploaded, copied and deleted; change nothing at the destination",
    )


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(
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
    # The code location reads the same settings, so runs re-executed from the UI match this one.
    if args.config:
        os.environ["MIRROR_CONFIG"] = os.path.abspath(args.config)
    for var, value in {
        "MIRROR_SOURCE": settings.source,
        "MIRROR_DEST": settings.dest,
        "MIRROR_STAGING": settings.staging,
        "MIRROR_PUBLIC_BASE_URL": settings.public_base_url,
        "MIRROR_S3_ENDPOINT_URL": settings.s3.endpoint_url,
        "MIRROR_DRY_RUN": "1" if settings.dry_run else "0",
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


def run_options_config(
    datastores: list[str] | None = None, allow_partial: bool | None = None
) -> dict:
    """The run config of the run-scoped `run_options` resource (empty: the defaults)."""
    config: dict = {}
    if datastores:
        config["datastores"] = list(datastores)
    if allow_partial is not None:
        config["allow_partial"] = allow_partial
    return {"resources": {"run_options": {"config": config}}} if config else {}


def _print_failed_checks(result: dg.JobExecutionResult) -> None:
    for event in result.all_events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            continue
        label = "FAILED" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "WARNING"
        detail = (evaluation.description or "did not pass").strip().splitlines()[0]
        check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        print(f"{label} check {check}: {detail}", file=sys.stderr)


def _step_failure_message(event: dg.DagsterEvent) -> str:
    """The first line of the error that failed a step, without Dagster's wrapping."""
    error = event.step_failure_data.error if event.step_failure_data else None
    if error is None:
        return "step failed"
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    text = (error.message.strip().splitlines() or [error.cls_name])[0]
    prefix = f"{error.cls_name}: "
    return text[text.index(prefix) + len(prefix) :] if prefix in text else text


def run_version(
    settings: Settings,
    version: str,
    datastores: list[str] | None = None,
    allow_partial: bool | None = None,
) -> int:
    """Materialise every asset of the job for `version`; returns the exit status.

    `datastores` limits the run to those datastores; `allow_partial` overrides the setting. The
    run belongs to the code location's `mirror_catalog` job (the UI lists it there with its
    partition and can re-execute it); the code location builds its resources from the
    environment `_settings` prepared from the same flags.
    """
    with _instance() as instance:
        instance.add_dynamic_partitions(catalog_versions.name, [version])
        result = execute_partition_run(
            instance,
            mirror_catalog_job.name,
            version,
            run_config=run_options_config(datastores, allow_partial),
        )
    status = VersionStaging.of(settings.staging, version).status
    failed = failures(status, STAGES[:-1])
    for stage, outcome in failed:
        where = f"{outcome.file}: " if outcome.file else ""
        print(f"FAILED {outcome.name} ({stage}): {where}{outcome.cause}", file=sys.stderr)
    _print_failed_checks(result)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"FAILED step {event.step_key}: {_step_failure_message(event)}",
                    file=sys.stderr,
                )
        return 1
    return 1 if failed else 0


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
        return run_version(settings, version, args.datastores, args.allow_partial)
    except (MirrorError, SettingsError) as exc:
        print(f"mirror-catalog: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
