"""Where catalog versions are read from: a local folder (the embedded default) or SFTP."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import fields
from pathlib import Path

import dagster as dg

from mirror_assets.config.settings import SftpSettings
from mirror_assets.fetch.plan import FetchReport
from mirror_assets.fetch.sftp.source import SftpSource
from mirror_assets.fetch.sftp.ssh_config import DEFAULT_BASE_PATH, SftpUrl
from mirror_assets.fetch.sources import LocalSource, sftp_source


class CatalogSource(dg.ConfigurableResource, ABC):
    """Where catalog versions are read from."""

    @abstractmethod
    def client(self) -> LocalSource | SftpSource:
        """The plain-Python source this resource configures (fetch/sources.py)."""

    def describe(self) -> str:
        """Where the source is, for messages (never includes secrets)."""
        return self.client().describe()

    def version_location(self, version: str) -> str:
        """The path or URL a version folder is looked for at."""
        return self.client().version_location(version)

    def list_versions(self) -> list[str]:
        """Every version key at the source, newest first."""
        return self.client().list_versions()

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        """Bring the version's metacatalog and datastore pairs into `raw_dir`."""
        return self.client().fetch_version(version, raw_dir, only)


class LocalCatalogSource(CatalogSource):
    """Versions in a local folder (the bundled sample catalog by default)."""

    root: str

    def client(self) -> LocalSource:
        return LocalSource(self.root)


class SftpCatalogSource(CatalogSource):
    """Versions on an SSH server (Gadi) read over SFTP; `host` may be a `~/.ssh/config` alias.

    Keys come from the ssh agent, IdentityFile or `identity_file`; host keys are checked against
    known_hosts unless `insecure_skip_host_key_check` is set (logged as a warning).
    """

    host: str
    port: int | None = None
    username: str | None = None
    base_path: str = DEFAULT_BASE_PATH
    # The [sftp] settings (config/settings.py: SftpSettings), field for field.
    ssh_config: str = ""
    identity_file: str = ""
    known_hosts: str = ""
    insecure_skip_host_key_check: bool = False
    max_transfers: int = 8
    block_size: int = 0
    max_requests: int = 32
    attempts: int = 6
    backoff_seconds: float = 0.5
    connect_timeout: float = 30.0

    def client(self) -> SftpSource:
        url = SftpUrl(self.host, self.port, self.username, self.base_path)
        settings = SftpSettings(**{f.name: getattr(self, f.name) for f in fields(SftpSettings)})
        return sftp_source(url, settings)
