"""Reuse across catalog versions: a datastore built for another version from the same inputs with
the same shaping is linked, not built again.

A stage's build fingerprint of a datastore (state/digests.py) covers the digests of what it reads,
the stage's code version and the settings that shape its output, and nothing of the version: so
an ok outcome of the same stage with the same fingerprint, in another version of the same staging
folder, built exactly the files this one would. Reuse is decided by that fingerprint only, never
by names or sizes; its files are hard-linked (no bytes copied) into this version's build.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from mirror_assets.files import replace_atomically
from mirror_assets.state.outcomes import Outcome, load_outcomes
from mirror_assets.state.staging import VersionStaging
from mirror_assets.state.versions import newest_first

log = logging.getLogger(__name__)

# A stage's output files for one datastore, the ones it cannot do without first.
Outputs = Callable[[VersionStaging, str], list[Path]]


@dataclass(frozen=True)
class Donor:
    """A build of another version: where it is and what the stage recorded for it."""

    staging: VersionStaging
    outcome: Outcome

    @property
    def version(self) -> str:
        """The version the files were first built for (a donor may have reused them itself)."""
        return self.outcome.reused_from or self.staging.root.name


def builds_elsewhere(version: VersionStaging, stage: str) -> dict[str, Donor]:
    """Fingerprint -> the newest other version's ok build of `stage` in the same staging folder."""
    root = version.root.parent
    others = newest_first([p.name for p in root.iterdir() if p.is_dir()]) if root.is_dir() else []
    found: dict[str, Donor] = {}
    for other in others:
        if other == version.root.name:
            continue
        staging = VersionStaging(root / other)
        for outcome in load_outcomes(staging.status, stage):
            # A build taken from the archive left no files here to link.
            if outcome.ok and outcome.fingerprint and not outcome.from_archive:
                found.setdefault(outcome.fingerprint, Donor(staging, outcome))
    return found


def link_tree(src: Path, dest: Path) -> None:
    """`dest` becomes a hard-linked copy of the file or folder `src` (a copy across devices)."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    with replace_atomically(dest) as tmp:
        if src.is_dir():
            shutil.copytree(src, tmp, copy_function=link)
        else:
            link(str(src), str(tmp))


def reuser(
    version: VersionStaging, stage: str, outputs: Outputs, required: int = 1, enabled: bool = True
) -> Callable[[str, str], Outcome | None]:
    """For `run_each`: `reuse(name, fingerprint)` links another version's build of the same
    fingerprint into this version and returns its outcome, or returns None (build it).
    `outputs` lists a datastore's output files, the first `required` of them always there."""
    donors = builds_elsewhere(version, stage) if enabled else {}

    def reuse(name: str, fingerprint: str) -> Outcome | None:
        donor = donors.get(fingerprint)
        if donor is None:
            return None
        sources = outputs(donor.staging, donor.outcome.name)
        if not all(p.exists() for p in sources[:required]):
            log.warning(
                "%s: %s: the build of %s with the same fingerprint lacks its files; rebuilding",
                stage,
                name,
                donor.staging.root.name,
            )
            return None
        for src, dest in zip(sources, outputs(version, name), strict=True):
            if src.exists():
                link_tree(src, dest)
            else:
                dest.unlink(missing_ok=True)
        return replace(donor.outcome, name=name, reused=False, reused_from=donor.version)

    return reuse


def first_reuse(
    *reusers: Callable[[str, str], Outcome | None],
) -> Callable[[str, str], Outcome | None]:
    """A `reuse` for `run_each` that asks each of `reusers` in turn; the first outcome wins."""

    def reuse(name: str, fingerprint: str) -> Outcome | None:
        return next((o for r in reusers if (o := r(name, fingerprint)) is not None), None)

    return reuse
