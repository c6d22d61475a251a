"""Read catalog versions from an SSH server over SFTP (Gadi), like `local_source` does a folder."""

from __future__ import annotations

import asyncio
import logging
import posixpath
from functools import cached_property
from pathlib import Path

import asyncssh

from mirror_assets.config.settings import SftpSettings
from mirror_assets.errors import MirrorError, VersionError, one_line
from mirror_assets.fetch.inventory import DATASTORE_SUFFIXES, Problem, classify_source_files
from mirror_assets.fetch.local import VersionNotFoundError
from mirror_assets.fetch.plan import FetchReport, RemoteFile, is_current, prune_stale
from mirror_assets.fetch.sftp.session import SftpSession
from mirror_assets.fetch.sftp.ssh_config import SftpUrl, SshEndpoint, resolve_endpoint
from mirror_assets.fetch.sftp.transfer import download
from mirror_assets.state.staging import METACATALOG
from mirror_assets.state.versions import newest_first

log = logging.getLogger(__name__)

_DIRECTORY = asyncssh.FILEXFER_TYPE_DIRECTORY
_REGULAR = asyncssh.FILEXFER_TYPE_REGULAR
_SYMLINK = asyncssh.FILEXFER_TYPE_SYMLINK


async def _scan(session: SftpSession, path: str, kind: int) -> dict[str, asyncssh.SFTPAttrs] | None:
    """Entries of the remote folder `path` of the given kind (symlinks followed); None if absent."""

    async def scan(sftp: asyncssh.SFTPClient) -> dict[str, asyncssh.SFTPAttrs] | None:
        try:
            names = await sftp.readdir(path)
        except asyncssh.SFTPNoSuchFile:
            return None
        entries = {}
        for entry in names:
            name, attrs = str(entry.filename), entry.attrs
            if name in (".", ".."):
                continue
            if attrs.type == _SYMLINK:
                try:
                    attrs = await sftp.stat(posixpath.join(path, name))
                except asyncssh.SFTPNoSuchFile:
                    continue  # a dangling link
            if attrs.type == kind:
                entries[name] = attrs
        return entries

    return await session.run(path, scan)


class SftpSource:
    """A catalog root (a folder of version folders) at `address`, on an SSH server reached and
    transferred from as the `[sftp]` settings say; `address.host` may be a `~/.ssh/config` alias.

    Keys come from the ssh agent, IdentityFile or `identity_file`; host keys are checked against
    known_hosts unless `insecure_skip_host_key_check` is set (logged as a warning).
    """

    def __init__(self, address: SftpUrl, settings: SftpSettings | None = None):
        self.address = address
        self.settings = settings or SftpSettings()
        self.base_path = address.base_path.rstrip("/") or "/"

    @cached_property
    def endpoint(self) -> SshEndpoint:
        """The server as the SSH config resolves it: on first use, so that a code location
        naming an SFTP source loads without reading any SSH file."""
        sftp = self.settings
        return resolve_endpoint(
            self.address.host,
            port=self.address.port,
            user=self.address.user,
            ssh_config=sftp.ssh_config or None,
            identity_file=sftp.identity_file or None,
            known_hosts=sftp.known_hosts or None,
            insecure=sftp.insecure_skip_host_key_check,
        )

    def url(self, version: str | None = None, relpath: str | None = None) -> str:
        """Where a version (or a file in it) is, as an `sftp://` URL for messages."""
        user = f"{self.endpoint.username}@" if self.endpoint.username else ""
        path = posixpath.join(self.base_path, *(p for p in (version, relpath) if p))
        return f"sftp://{user}{self.endpoint.display}{path}"

    def describe(self) -> str:
        return self.url()

    def version_location(self, version: str) -> str:
        return self.url(version)

    def list_versions(self) -> list[str]:
        """Version folders under the base path, newest first."""
        return asyncio.run(self._list_versions())

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        """Fetch a version's metacatalog and datastore pairs into `raw_dir`, skipping unchanged."""
        return asyncio.run(self._fetch_version(version, Path(raw_dir), only))

    async def _list_versions(self) -> list[str]:
        async with SftpSession(self.endpoint, self.settings) as session:
            folders = await _scan(session, self.base_path, _DIRECTORY)
        if folders is None:
            raise MirrorError(self.url(), "catalog source folder not found")
        return newest_first(list(folders))

    async def _fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None
    ) -> FetchReport:
        version_path = posixpath.join(self.base_path, version)
        async with SftpSession(self.endpoint, self.settings) as session:
            top = await _scan(session, version_path, _REGULAR)
            if top is None:
                raise VersionNotFoundError(
                    self.url(version), "catalog version not found at the source"
                )
            if METACATALOG not in top:
                raise VersionError(self.url(version, METACATALOG), "metacatalog.parquet not found")
            source = await _scan(session, posixpath.join(version_path, "source"), _REGULAR) or {}
            inventory = classify_source_files(source)
            available = list(inventory.datastores)
            if only is not None:
                inventory.datastores = [n for n in inventory.datastores if n in only]
            attrs = {METACATALOG: top[METACATALOG], **{f"source/{n}": a for n, a in source.items()}}
            wanted = [METACATALOG, *(f"source/{f}" for f in inventory.files)]
            remotes = [RemoteFile(p, int(attrs[p].size), int(attrs[p].mtime)) for p in wanted]
            report = FetchReport(
                datastores=inventory.datastores,
                available=available,
                problems=inventory.problems,
                ignored=inventory.ignored,
            )
            pending = [r for r in remotes if not is_current(raw_dir / r.relpath, r)]
            report.skipped = [r.relpath for r in remotes if r not in pending]
            log.info(
                "fetch: %s: %d files to transfer (%d bytes), %d unchanged, from %s",
                version,
                len(pending),
                sum(r.size for r in pending),
                len(report.skipped),
                self.url(version),
            )
            received, failures = await self._transfer_all(session, version, pending, raw_dir)
        self._record(report, pending, received, failures)
        if only is None:
            failed = {f for name in failures for f in _pair(name)}
            prune_stale(raw_dir, set(wanted) - failed)
        return report

    async def _transfer_all(
        self, session: SftpSession, version: str, pending: list[RemoteFile], raw_dir: Path
    ) -> tuple[dict[str, int], dict[str, str]]:
        """Transfer `pending` concurrently: ({relpath: bytes read}, {relpath: cause of failure})."""
        limit = asyncio.Semaphore(self.settings.max_transfers)
        received: dict[str, int] = {}
        failures: dict[str, str] = {}

        async def transfer(remote: RemoteFile) -> None:
            dest = raw_dir / remote.relpath
            dest.parent.mkdir(parents=True, exist_ok=True)
            remote_path = posixpath.join(self.base_path, version, remote.relpath)
            async with limit:
                try:
                    received[remote.relpath] = await session.run(
                        remote_path,
                        lambda sftp: download(
                            sftp,
                            remote_path,
                            remote,
                            dest,
                            self.settings.block_size,
                            self.settings.max_requests,
                        ),
                    )
                except (asyncssh.SFTPError, OSError) as exc:
                    # One unreadable file costs its datastore; the connection itself is fine.
                    failures[remote.relpath] = one_line(exc)

        tasks = [asyncio.create_task(transfer(r)) for r in pending]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        if METACATALOG in failures:
            raise VersionError(self.url(version, METACATALOG), failures[METACATALOG])
        return received, failures

    @staticmethod
    def _record(
        report: FetchReport,
        pending: list[RemoteFile],
        received: dict[str, int],
        failures: dict[str, str],
    ) -> None:
        for remote in pending:
            if remote.relpath not in failures:
                report.transferred.append(remote.relpath)
                report.bytes_transferred += received[remote.relpath]
        for relpath, cause in sorted(failures.items()):
            name = relpath.removeprefix("source/").rpartition(".")[0]
            if name in report.datastores:
                report.datastores.remove(name)
            report.problems.append(Problem(name, relpath, f"fetch failed: {cause}"))


def _pair(relpath: str) -> list[str]:
    stem = relpath.rpartition(".")[0]
    return [f"{stem}{suffix}" for suffix in DATASTORE_SUFFIXES]
