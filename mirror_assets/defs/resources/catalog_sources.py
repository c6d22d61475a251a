"""Where catalog versions are read from: a local folder (the embedded default) or SFTP."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg

from mirror_assets.lib.fetch_plan import FetchReport
from mirror_assets.lib.local_source import fetch_local_version, list_local_versions
from mirror_assets.lib.sftp_session import TransferOptions
from mirror_assets.lib.sftp_source import SftpSource
from mirror_assets.lib.ssh_config import DEFAULT_BASE_PATH, resolve_endpoint


class CatalogSource(dg.ConfigurableResource, ABC):
    """Where catalog versions are read from."""

    @abstractmethod
    def describe(self) -> str:
        """Where the source is, for messages (never includes secrets)."""

    @abstractmethod
    def version_location(self, version: str) -> str:
        """The path or URL a version folder is looked for at."""

    @abstractmethod
    def list_versions(self) -> list[str]:
        """Every version key at the source, newest first."""

    @abstractmethod
    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        """Bring the version's metacatalog and datastore pairs into `raw_dir`."""


class LocalCatalogSource(CatalogSource):
    """Versions in a local folder (the bundled sample catalog by default)."""

    root: str

    def describe(self) -> str:
        return self.root

    def version_location(self, version: str) -> str:
        return str(Path(self.root) / version)

    def list_versions(self) -> list[str]:
        return list_local_versions(Path(self.root))

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        return fetch_local_version(Path(self.root), version, raw_dir, only)


class SftpCatalogSource(CatalogSource):
    """Versions on an SSH server (Gadi) read over SFTP; `host` may be a `~/.ssh/config` alias.

    Keys come from the ssh agent, IdentityFile or `identity_file`; host keys are checked against
    known_hosts unless `insecure_skip_host_key_check` is set (logged as a warning).
    """

    host: str
    port: int | None = None
    username: str | None = None
    base_path: str = DEFAULT_BASE_PATH
    ssh_config: str | None = None
    identity_file: str | None = None
    known_hosts: str | None = None
    insecure_skip_host_key_check: bool = False
    max_transfers: int = 8
    block_size: int = 0
    max_requests: int = 32
    attempts: int = 6
    backoff_seconds: float = 0.5
    connect_timeout: float = 30.0

    def sftp_source(self) -> SftpSource:
        endpoint = resolve_endpoint(
            self.host,
            port=self.port,
            user=self.username,
            ssh_config=self.ssh_config,
            identity_file=self.identity_file,
            known_hosts=self.known_hosts,
            insecure=self.insecure_skip_host_key_check,
        )
        options = TransferOptions(
            max_transfers=self.max_transfers,
            block_size=self.block_size,
            max_requests=self.max_requests,
            attempts=self.attempts,
            backoff_seconds=self.backoff_seconds,
            connect_timeout=self.connect_timeout,
        )
        return SftpSource(endpoint, self.base_path, options)

    def describe(self) -> str:
        return self.sftp_source().url()

    def version_location(self, version: str) -> str:
        return self.sftp_source().url(version)

    def list_versions(self) -> list[str]:
        return self.sftp_source().list_versions()

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        return self.sftp_source().fetch_version(version, raw_dir, only)
