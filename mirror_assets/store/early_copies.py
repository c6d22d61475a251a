"""Reused builds copied into a version's archive while the version is still being built.

A datastore whose build another archived version already holds (the same fingerprints: see
archived_builds.py) ends up in this version's archive as a server-side copy of those objects.
Those copies need nothing this run builds, so they start as soon as the input digests are known
and run beside the transforms: the publish then finds them in place, as unchanged objects it
reports as copied from the other version.

Only objects missing from `versions/<v>/` are copied, so nothing there is overwritten, and a
version's archive is read through its manifest, which only the publish writes. The publish still
compares every object with the build and a fresh listing: an early copy that failed, or whose
bytes are not this build's, is copied or uploaded again there. Copies the publish never took
(the run failed before it) are deleted again by `discard`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from mirror_assets.errors import one_line
from mirror_assets.store.archived_builds import ArchivedBuild
from mirror_assets.store.bucket import Bucket
from mirror_assets.store.manifest import archive_prefix

log = logging.getLogger(__name__)


class EarlyCopies:
    """Copies, in the background, the archived builds `find()` returns (datastore -> build) into
    `versions/<version>/`, each object missing there; `take()` waits for them."""

    def __init__(
        self,
        bucket: Bucket,
        version: str,
        find: Callable[[], dict[str, ArchivedBuild]],
        logger: logging.Logger | logging.LoggerAdapter = log,
    ):
        self.bucket, self.version, self.logger = bucket, version, logger
        self._runner = ThreadPoolExecutor(1, thread_name_prefix="early-copies")
        self._copied = self._runner.submit(self._copy, find)

    def _copy(self, find: Callable[[], dict[str, ArchivedBuild]]) -> dict[str, str]:
        prefix = archive_prefix(self.version)
        builds = find()
        wanted = {
            prefix + key: source
            for name, build in builds.items()
            for key, source in build.copies_for(name).items()
        }
        present = self.bucket.list(prefix) if wanted else {}
        todo = {key: source for key, source in wanted.items() if key not in present}
        with ThreadPoolExecutor(self.bucket.concurrency, thread_name_prefix="early-copy") as pool:
            futures = {
                key: pool.submit(self.bucket.copy, src, key, stored.size)
                for key, (src, stored) in todo.items()
            }
        failed = {key: f.exception() for key, f in futures.items() if f.exception() is not None}
        if failed:
            key, exc = next(iter(sorted(failed.items())))
            self.logger.warning(
                f"early copies: {len(failed)} of {len(futures)} failed (first: {key}: "
                f"{one_line(exc)}); the publish copies or uploads them"
            )
        copied = {key: todo[key][0] for key in futures if key not in failed}
        if copied:
            self.logger.info(
                f"early copies: {len(copied)} object(s) of {len(builds)} reused datastore(s) "
                f"copied into {prefix} from other versions while the version is built"
            )
        return copied

    def take(self) -> dict[str, str]:
        """Wait for the copies: the keys copied -> the archived keys they were copied from."""
        try:
            return self._copied.result()
        except Exception as exc:  # noqa: BLE001 - without early copies the publish does them
            self.logger.warning(f"early copies: not made ({one_line(exc)}); the publish does them")
            return {}
        finally:
            self._runner.shutdown()

    def discard(self) -> None:
        """Wait for the copies and delete them (the run ended without publishing them)."""
        copied = self.take()
        try:
            self.bucket.delete(sorted(copied))
        except Exception as exc:  # noqa: BLE001 - the next publish takes or deletes them
            self.logger.warning(
                f"early copies: {len(copied)} not deleted from {archive_prefix(self.version)} "
                f"({one_line(exc)}); the next publish of {self.version} takes or deletes them"
            )
