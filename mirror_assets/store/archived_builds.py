"""Builds recorded in archived versions' manifests: a datastore whose inputs and shaping equal one
of them is not transformed again, even when the staging folder has never held that build.

The sidecars stage reads the destination's manifests once per run (`ArchivedBuilds`). A datastore
whose sidecars and partitioned fingerprints (input digests, code versions, shaping settings) both
equal those an archived version's manifest records for one of its datastores, and whose archived
objects are in that version's listing with the manifest's ETags, is taken from there: both stages
record it as reused from that version without writing anything locally, and the publish copies
its objects server-side into this version. Its spec is still written for this version. Reuse is
decided by the recorded fingerprints only, never by names or sizes; a match whose objects are
missing or differ from the manifest is rebuilt, with a warning.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirror_assets.errors import DatastoreError, one_line
from mirror_assets.files import write_json
from mirror_assets.state.outcomes import Outcome, outcomes_by_name
from mirror_assets.state.versions import newest_first
from mirror_assets.store.bucket import Bucket, StoredObject
from mirror_assets.store.manifest import OtherArchives, archive_prefix
from mirror_assets.store.publish import read_versions_index

log = logging.getLogger(__name__)

# The build stages an archived build stands in for; both fingerprints must match.
STAGES = ("sidecars", "partitioned")
# What the lookup found for this version, per datastore (in the version's status folder).
RECORD = "archived-builds.json"


@dataclass(frozen=True)
class ArchivedBuild:
    """A datastore's build as an archived version holds it: its objects (keys relative to that
    version, the spec left out), rows, and the build stages' fingerprints and seconds."""

    version: str
    name: str
    rows: int | None
    fingerprints: dict[str, str]
    objects: dict[str, StoredObject]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def is_folder(self) -> bool:
        """Whether the datastore is a hive folder (its URL then ends in `/`)."""
        return any(k.startswith(f"source/{self.name}.parquet/") for k in self.objects)

    def copies_for(self, name: str) -> dict[str, tuple[str, StoredObject]]:
        """Key relative to a version, for datastore `name` -> (the archived key, the object)."""
        prefix = archive_prefix(self.version)
        own = f"source/{self.name}"
        return {
            f"source/{name}{key.removeprefix(own)}": (prefix + key, stored)
            for key, stored in sorted(self.objects.items())
        }

    def metrics(self) -> dict[str, Any]:
        """What a stage shows for it: rows as recorded, and the data objects' count and bytes."""
        data = [o for k, o in self.objects.items() if k.startswith(f"source/{self.name}.parquet")]
        return {
            "rows": self.rows,
            "bytes": sum(o.size for o in data),
            "files": len(data),
            "archived_in": archive_prefix(self.version),
        }

    def outcome(self, name: str, stage: str) -> Outcome:
        """`stage`'s outcome for datastore `name` taken from this build, with the seconds the
        stage took to build it (what taking it saves)."""
        seconds = {"seconds": self.seconds[stage]} if stage in self.seconds else {}
        return Outcome(
            name,
            True,
            self.metrics() | seconds,
            fingerprint=self.fingerprints[stage],
            reused_from=self.version,
            from_archive=True,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "rows": self.rows,
            "fingerprints": self.fingerprints,
            "objects": {k: [o.size, o.etag] for k, o in sorted(self.objects.items())},
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ArchivedBuild:
        objects = {k: StoredObject(size, etag) for k, (size, etag) in document["objects"].items()}
        return cls(
            document["version"],
            document["name"],
            document["rows"],
            document["fingerprints"],
            objects,
            document.get("seconds", {}),
        )


class ArchivedBuilds:
    """The builds every other archived version's manifest records, newest version first, by their
    sidecars and partitioned fingerprints. (This version's own archive is not a donor: a run of
    a version on a new staging folder rebuilds what it selects, as before.)"""

    def __init__(
        self,
        bucket: Bucket,
        version: str,
        logger: logging.Logger | logging.LoggerAdapter = log,
    ):
        self.logger = logger
        index = read_versions_index(bucket)
        others = [v["version"] for v in index.get("versions", []) if v["version"] != version]
        self.archives = OtherArchives(bucket, newest_first(others), logger)
        self.by_fingerprints: dict[tuple[str, ...], list[ArchivedBuild]] = {}
        for archived, manifest in self.archives.manifests.items():
            for name, entry in sorted(manifest.datastores.items()):
                key = tuple(entry.fingerprints.get(s, "") for s in STAGES)
                if not all(key):
                    continue
                spec = f"source/{name}.json"
                objects = {k: o for k, o in entry.objects.items() if k != spec}
                build = ArchivedBuild(
                    archived, name, entry.rows, entry.fingerprints, objects, entry.seconds
                )
                self.by_fingerprints.setdefault(key, []).append(build)

    def find(self, name: str, fingerprints: dict[str, str]) -> ArchivedBuild | None:
        """An archived build with these fingerprints whose objects are all in its version's
        listing as the manifest records them (one of the same name first), or None."""
        candidates = self.by_fingerprints.get(tuple(fingerprints.get(s, "") for s in STAGES), [])
        for build in sorted(candidates, key=lambda b: b.name != name):
            listing = self.archives.listing(build.version)
            if build.objects and all(listing.get(k) == o for k, o in build.objects.items()):
                return build
            self.logger.warning(
                f"archive: {name}: the build of {build.name} in {archive_prefix(build.version)} "
                "with the same fingerprints differs from its manifest (objects missing or with "
                "other ETags); not reusing it, rebuilding"
            )
        return None


def load_archived_builds(status_dir: Path) -> dict[str, ArchivedBuild]:
    """What the last lookup recorded for this version, per datastore."""
    path = status_dir / RECORD
    if not path.is_file():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return {n: ArchivedBuild.from_json(b) for n, b in document.items()}


def record_archived_builds(status_dir: Path, found: dict[str, ArchivedBuild | None]) -> None:
    """Record, for the datastores looked up, the archived build each is taken from (None: none,
    the entry goes); other datastores' entries are kept."""
    builds = load_archived_builds(status_dir)
    for name, build in found.items():
        if build is None:
            builds.pop(name, None)
        else:
            builds[name] = build
    write_json(status_dir / RECORD, {n: b.to_json() for n, b in sorted(builds.items())})


def taken_from_archive(
    status_dir: Path, stages: tuple[str, ...] = STAGES
) -> dict[str, ArchivedBuild]:
    """The datastores whose ok outcome in every one of `stages` was taken from an archived build,
    with that build."""
    recorded = load_archived_builds(status_dir)
    outcomes = [outcomes_by_name(status_dir, stage) for stage in stages]
    return {
        name: build
        for name, build in recorded.items()
        if all(o.get(name) and o[name].ok and o[name].from_archive for o in outcomes)
    }


Reuse = Callable[[str, str], Outcome | None]


def read_once(read: Callable[[], ArchivedBuilds]) -> Callable[[], ArchivedBuilds]:
    """`read`, called once however many threads ask (a failure is raised, and tried again)."""
    lock = threading.Lock()
    done: list[ArchivedBuilds] = []

    def once() -> ArchivedBuilds:
        with lock:
            if not done:
                done.append(read())
            return done[0]

    return once


def builds_to_reuse(
    archive: ArchivedBuilds, names: list[str], fingerprints: Callable[[str], dict[str, str]]
) -> dict[str, ArchivedBuild]:
    """The archived build each of `names` with one of the same fingerprints would reuse."""
    found = {name: archive.find(name, fingerprints(name)) for name in names}
    return {name: build for name, build in found.items() if build is not None}


def sidecars_from_archive(
    read: Callable[[], ArchivedBuilds],
    fingerprints: Callable[[str], dict[str, str]],
    found: dict[str, ArchivedBuild | None],
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> Reuse:
    """For the sidecars stage's `run_each`: `reuse(name, fingerprint)` takes datastore `name`
    from an archived build with the same sidecars and partitioned `fingerprints(name)` (recorded
    in `found`), or returns None (build it). `read()` reads the archive, once, when first needed;
    an archive that cannot be read only means building."""
    lock = threading.Lock()
    archive: list[ArchivedBuilds | None] = []

    def builds() -> ArchivedBuilds | None:
        with lock:
            if not archive:
                try:
                    archive.append(read())
                except Exception as exc:  # noqa: BLE001 - a missed reuse only costs a build
                    logger.warning(
                        f"archive: archived versions not read ({one_line(exc)}); building"
                    )
                    archive.append(None)
            return archive[0]

    def reuse(name: str, fingerprint: str) -> Outcome | None:
        archived = builds()
        printed = fingerprints(name)
        if archived is None or printed.get("sidecars") != fingerprint:
            return None
        build = archived.find(name, printed)
        found[name] = build
        return None if build is None else build.outcome(name, "sidecars")

    return reuse


def partitioned_from_archive(taken: dict[str, ArchivedBuild]) -> Reuse:
    """For the partitioned stage's `run_each`: a datastore whose sidecars were taken from an
    archived build (`taken`) is taken from the same build; None for the others."""

    def reuse(name: str, fingerprint: str) -> Outcome | None:
        build = taken.get(name)
        if build is None:
            return None
        if build.fingerprints.get("partitioned") != fingerprint:
            # Only when the shaping settings changed between the two stages of one run.
            raise DatastoreError(
                f"source/{name}.parquet",
                f"its sidecars were taken from {archive_prefix(build.version)}, whose "
                "partitioned build has another fingerprint; run it again",
            )
        return build.outcome(name, "partitioned")

    return reuse
