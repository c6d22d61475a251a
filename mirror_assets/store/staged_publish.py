"""Publish a version built in the staging folder, with the rest of it carried over from the archive.

Shared by the `published_catalog` asset and `mirror-catalog publish`. The bucket is the record:
the datastores of a version are those at the source (as the fetch recorded them), and a
datastore this run did not rebuild keeps its archived objects (found through the version's
manifest, or the listing of an archive made before manifests). So a run on a fresh staging folder
limited to some datastores publishes them and keeps every other one as it is; a datastore whose
rebuild failed keeps its last good build; a datastore gone from the source leaves the version.
A datastore neither built nor archived is reported as missing, and its metacatalog entry is left
out (entries that never had a datastore in the version's source/ are kept).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import duckdb

from mirror_assets.errors import VersionError
from mirror_assets.state.digests import load_input_digests
from mirror_assets.state.outcomes import (
    BUILD_STAGES,
    DatastoreStatus,
    Outcome,
    outcomes_by_name,
    save_outcomes,
    version_picture,
)
from mirror_assets.state.staging import METACATALOG, VersionStaging
from mirror_assets.store.archived_builds import ArchivedBuild, taken_from_archive
from mirror_assets.store.bucket import Bucket, StoredObject
from mirror_assets.store.manifest import (
    KEPT,
    MANIFEST,
    ArchivedDatastore,
    Manifest,
    from_listing,
    input_files,
)
from mirror_assets.store.publish import PublishReport, archive_prefix, publish_version
from mirror_assets.transforms.metacatalog import write_without_names

# Etags of the built files, remembered between publishes of this version.
ETAG_CACHE = "publish-etags.json"

# The publish stage's state of a datastore kept from the archive, and of one found nowhere.
ARCHIVED = "archived"
MISSING = "missing"
MISSING_CAUSE = "not built in this run and not in the archive"


@dataclass(frozen=True)
class PublishPlan:
    """Every datastore of the version: its state in each stage, including the publish stage
    (ok: from the staging folder, or copied from another version's archived build; archived:
    kept from the archive; missing), and what goes."""

    picture: list[DatastoreStatus]
    publish: list[str]
    carried: dict[str, ArchivedDatastore]
    # Built in this run by taking another archived version's build (no local files).
    reused: dict[str, ArchivedBuild] = field(default_factory=dict)

    @property
    def healthy(self) -> list[str]:
        return sorted([*self.publish, *self.carried, *self.reused])

    @property
    def failed(self) -> list[DatastoreStatus]:
        return [d for d in self.picture if not d.ok]

    @property
    def missing(self) -> list[str]:
        return [d.name for d in self.picture if d.stages.get("publish") == MISSING]

    @property
    def total_rows(self) -> int:
        rows = {d.name: d.rows or 0 for d in self.picture}
        return sum(rows[n] for n in self.healthy)

    def left_out(self) -> list[str]:
        """Datastores of the version the store will not hold: their metacatalog entries go."""
        return sorted({d.name for d in self.picture} - set(self.healthy))

    def outcomes(self) -> list[Outcome]:
        """The publish stage's outcomes: what the store holds, then every failure."""
        done = [
            Outcome(d.name, True, {"rows": d.rows, "published": d.stages["publish"]})
            for d in self.picture
            if d.name in self.healthy
        ]
        return done + [
            Outcome(d.name, False, file=d.file, cause=f"{d.failed_stage}: {d.cause}")
            for d in self.failed
        ]


def plan_publish(
    picture: list[DatastoreStatus],
    at_source: list[str] | None,
    selected: Collection[str] | None,
    archived: dict[str, ArchivedDatastore],
    listing: dict[str, StoredObject],
    from_archive: dict[str, ArchivedBuild] | None = None,
) -> PublishPlan:
    """Decide, for every datastore of the version, whether it is published from the staging
    folder, kept as archived, or missing.

    `picture`: the build stages' record; `at_source`: the datastores at the source (None when the
    fetch did not record them: every datastore built or archived counts); `selected`: the
    datastores this run worked on (None: all); `archived`: the archive's datastores, whose objects
    must be in `listing` (keys relative to the version) to be kept; `from_archive`: the
    datastores the build stages took from an archived build, published by copying it.
    """
    by_name = {d.name: d for d in picture}
    names = set(at_source) if at_source is not None else set(by_name) | set(archived)
    whole = {n for n, entry in archived.items() if entry.present_in(listing)}

    def covered(name: str) -> bool:
        return selected is None or name in selected

    from_archive = from_archive or {}
    publish, carried, reused, result = [], {}, {}, []
    for name in sorted(names):
        status = by_name.get(name) or DatastoreStatus(name, dict.fromkeys(BUILD_STAGES, ""))
        built_here = name in by_name and status.ok
        if built_here and (covered(name) or name not in whole):
            if name in from_archive:
                reused[name] = from_archive[name]
            else:
                publish.append(name)
            state = "ok"
        elif name in whole:
            entry = archived[name]
            if not status.ok and name in by_name:
                entry = replace(entry, state=KEPT, cause=f"{status.failed_stage}: {status.cause}")
            carried[name] = entry
            state = ARCHIVED
            if status.rows is None:
                status = replace(status, rows=entry.rows)
        elif status.ok:
            cause = MISSING_CAUSE
            if name in archived:
                cause += " (its archived objects differ from the manifest)"
            status = replace(status, failed_stage="publish", file="", cause=cause)
            state = MISSING
        else:
            state = ""
        result.append(replace(status, stages={**status.stages, "publish": state}))
    return PublishPlan(result, publish, carried, reused)


def read_archive(
    bucket: Bucket, version: str, names: list[str] | None
) -> tuple[dict[str, ArchivedDatastore], dict[str, StoredObject]]:
    """The archive of `version`: its datastores (from the manifest, else from the listing for the
    datastores among `names`, or every one it has a spec of) and its listing, keys relative to
    `versions/<v>/`."""
    prefix = archive_prefix(version)
    listing = {k.removeprefix(prefix): o for k, o in bucket.list(prefix).items()}
    raw = bucket.get_bytes(prefix + MANIFEST)
    if raw is not None:
        return Manifest.from_bytes(raw).datastores, listing
    return from_listing(listing, names), listing


def _records(staging: VersionStaging, plan: PublishPlan) -> dict[str, ArchivedDatastore]:
    """The manifest entries of the datastores published from here: rows, the digests of their
    inputs, each build stage's fingerprint (code version and settings included) and seconds."""
    digests = load_input_digests(staging.status)
    outcomes = {stage: outcomes_by_name(staging.status, stage) for stage in BUILD_STAGES}
    rows = {d.name: d.rows for d in plan.picture}
    return {
        name: ArchivedDatastore(
            {},
            rows[name],
            inputs={p: digests[p].sha256 for p in input_files(name) if p in digests},
            fingerprints={
                s: o[name].fingerprint
                for s, o in outcomes.items()
                if o.get(name) and o[name].fingerprint
            },
            seconds={
                s: float(o[name].metrics["seconds"])
                for s, o in outcomes.items()
                if o.get(name) and isinstance(o[name].metrics.get("seconds"), int | float)
            },
        )
        for name in [*plan.publish, *plan.reused]
    }


def publish_staged(
    bucket: Bucket,
    staging: VersionStaging,
    version: str,
    public_base_url: str,
    allow_partial: bool = False,
    dry_run: bool = False,
    selected: Collection[str] | None = None,
    reuse: bool = True,
    copied_early: dict[str, str] | None = None,
) -> tuple[PublishPlan, PublishReport]:
    """Publish the staged build of `version` (only the `selected` datastores, when given, the
    others kept as archived); record the publish outcomes unless `dry_run`. With `reuse`, objects
    other archived versions hold are copied from them server-side, not uploaded; `copied_early`
    names those already copied before the publish (store/early_copies.py).

    A datastore that failed, or is missing, is left out of the metacatalog unless its archived
    build is kept; such a version is only promoted with `allow_partial`.
    """
    if not (staging.build / METACATALOG).is_file():
        raise VersionError(
            staging.build / METACATALOG,
            "no built version in this staging folder (run mirror-catalog --catalog-version "
            f"{version} with the same --staging first)",
        )
    at_source = staging.source_datastores()
    archived, listing = read_archive(bucket, version, at_source)
    plan = plan_publish(
        version_picture(staging.status),
        at_source,
        selected,
        archived,
        listing,
        taken_from_archive(staging.status),
    )
    if not plan.healthy:
        raise VersionError(
            staging.status, f"no datastore of {version} was built or archived, nothing published"
        )
    metacatalog = staging.build / METACATALOG
    if plan.left_out():
        metacatalog = staging.root / "publish" / METACATALOG
        with duckdb.connect() as con:
            write_without_names(con, staging.build / METACATALOG, metacatalog, plan.left_out())
    prefix = archive_prefix(version)
    report = publish_version(
        bucket,
        staging.build,
        version,
        plan.publish,
        public_base_url,
        plan.total_rows,
        promotable=not plan.failed or allow_partial,
        dry_run=dry_run,
        etag_cache=staging.root / ETAG_CACHE,
        metacatalog_file=metacatalog,
        records=_records(staging, plan),
        carried=plan.carried,
        archive_listing={prefix + k: o for k, o in listing.items()},
        reuse=reuse,
        reused={name: build.copies_for(name) for name, build in plan.reused.items()},
        copied_early=copied_early,
    )
    if not dry_run:
        save_outcomes(staging.status, "publish", plan.outcomes())
    return plan, report
