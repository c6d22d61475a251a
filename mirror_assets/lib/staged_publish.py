"""Publish a version already built in the staging folder: which datastores go, and the outcomes.

Shared by the `published_catalog` asset and `mirror-catalog publish`, so both choose the same
healthy datastores from the per-stage outcomes in `status/`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mirror_assets.lib.bucket import Bucket
from mirror_assets.lib.errors import VersionError
from mirror_assets.lib.outcomes import STAGES, Outcome, failures, load_outcomes, save_outcomes
from mirror_assets.lib.publish import PublishReport, publish_version
from mirror_assets.lib.staging import METACATALOG, VersionStaging

BUILD_STAGES = [s for s in STAGES if s != "publish"]
# Etags of the built files, remembered between publishes of this version.
FINGERPRINTS = "publish-fingerprints.json"


@dataclass(frozen=True)
class BuiltVersion:
    """The datastores of a staged version that were built, and every failure on the way."""

    healthy: list[str]
    rows: dict[str, int]
    failed: list[tuple[str, Outcome]]

    @property
    def promotable(self) -> bool:
        return not self.failed

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def outcomes(self) -> list[Outcome]:
        """The publish stage's outcomes: the healthy datastores, then every failure."""
        done = [Outcome(n, True, {"rows": self.rows[n]}) for n in self.healthy]
        return done + [
            Outcome(o.name, False, file=o.file, cause=f"{stage}: {o.cause}")
            for stage, o in self.failed
        ]


def built_version(staging: VersionStaging) -> BuiltVersion:
    """Healthy = partitioned successfully and failed in no earlier stage."""
    built = {o.name: o for o in load_outcomes(staging.status, "partitioned") if o.ok}
    failed = failures(staging.status, BUILD_STAGES)
    healthy = sorted(set(built) - {o.name for _, o in failed})
    return BuiltVersion(healthy, {n: int(built[n].metrics["rows"]) for n in healthy}, failed)


def publish_staged(
    bucket: Bucket,
    staging: VersionStaging,
    version: str,
    public_base_url: str,
    dry_run: bool = False,
) -> tuple[BuiltVersion, PublishReport]:
    """Publish the staged build of `version`; record the publish outcomes unless `dry_run`."""
    if not (staging.build / METACATALOG).is_file():
        raise VersionError(
            staging.build / METACATALOG,
            "no built version in this staging folder (run mirror-catalog --catalog-version "
            f"{version} with the same --staging first)",
        )
    built = built_version(staging)
    report = publish_version(
        bucket,
        staging.build,
        version,
        built.healthy,
        public_base_url,
        built.total_rows,
        promotable=built.promotable,
        dry_run=dry_run,
        fingerprint_cache=staging.root / FINGERPRINTS,
    )
    if not dry_run:
        save_outcomes(staging.status, "publish", built.outcomes())
    return built, report
