"""Publish a version already built in the staging folder: which datastores go, and the outcomes.

Shared by the `published_catalog` asset and `mirror-catalog publish`, so both choose the same
healthy datastores from the per-stage outcomes in `status/`, leave out the metacatalog entries of
datastores that failed, and apply the same promotion policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from mirror_assets.lib.bucket import Bucket
from mirror_assets.lib.errors import VersionError
from mirror_assets.lib.metacatalog import write_without_names
from mirror_assets.lib.outcomes import DatastoreStatus, Outcome, save_outcomes, version_picture
from mirror_assets.lib.publish import PublishReport, publish_version
from mirror_assets.lib.staging import METACATALOG, VersionStaging

# Etags of the built files, remembered between publishes of this version.
FINGERPRINTS = "publish-fingerprints.json"


@dataclass(frozen=True)
class BuiltVersion:
    """Every datastore of a staged version across the build stages."""

    picture: list[DatastoreStatus]

    @property
    def healthy(self) -> list[str]:
        return [d.name for d in self.picture if d.ok]

    @property
    def failed(self) -> list[DatastoreStatus]:
        return [d for d in self.picture if not d.ok]

    @property
    def total_rows(self) -> int:
        return sum(d.rows or 0 for d in self.picture if d.ok)

    def outcomes(self) -> list[Outcome]:
        """The publish stage's outcomes: the healthy datastores, then every failure."""
        done = [Outcome(d.name, True, {"rows": d.rows}) for d in self.picture if d.ok]
        return done + [
            Outcome(d.name, False, file=d.file, cause=f"{d.failed_stage}: {d.cause}")
            for d in self.failed
        ]


def publish_staged(
    bucket: Bucket,
    staging: VersionStaging,
    version: str,
    public_base_url: str,
    allow_partial: bool = False,
    dry_run: bool = False,
) -> tuple[BuiltVersion, PublishReport]:
    """Publish the staged build of `version`; record the publish outcomes unless `dry_run`.

    A datastore that failed in any stage is left out, and so is its metacatalog entry (entries
    with no datastore in the version's source/ are kept); such a version is only promoted with
    `allow_partial`.
    """
    if not (staging.build / METACATALOG).is_file():
        raise VersionError(
            staging.build / METACATALOG,
            "no built version in this staging folder (run mirror-catalog --catalog-version "
            f"{version} with the same --staging first)",
        )
    built = BuiltVersion(version_picture(staging.status))
    if not built.healthy:
        raise VersionError(
            staging.status, f"no datastore of {version} was built, nothing published"
        )
    metacatalog = staging.build / METACATALOG
    if built.failed:
        metacatalog = staging.root / "publish" / METACATALOG
        with duckdb.connect() as con:
            write_without_names(
                con, staging.build / METACATALOG, metacatalog, [d.name for d in built.failed]
            )
    report = publish_version(
        bucket,
        staging.build,
        version,
        built.healthy,
        public_base_url,
        built.total_rows,
        promotable=not built.failed or allow_partial,
        dry_run=dry_run,
        fingerprint_cache=staging.root / FINGERPRINTS,
        metacatalog_file=metacatalog,
    )
    if not dry_run:
        save_outcomes(staging.status, "publish", built.outcomes())
    return built, report
