"""Catalog sources as plain objects, chosen by location: a local folder or an SFTP server.

The Dagster resources in `defs/resources/catalog_sources.py` and the `mirror-catalog fetch` command
(which must start fast, without Dagster) both read versions through these.
"""

from __future__ import annotations

from pathlib import Path

from mirror_assets.config.settings import Settings, SftpSettings
from mirror_assets.fetch.local import fetch_local_version, list_local_versions
from mirror_assets.fetch.plan import FetchReport
from mirror_assets.fetch.sftp.session import TransferOptions
from mirror_assets.fetch.sftp.source import SftpSource
from mirror_assets.fetch.sftp.ssh_config import (
    SftpUrl,
    is_sftp_url,
    parse_sftp_url,
    resolve_endpoint,
)


class LocalSource:
    """Version folders in a local folder (the bundled sample catalog by default)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def version_location(self, version: str) -> str:
        return str(self.root / version)

    def list_versions(self) -> list[str]:
        return list_local_versions(self.root)

    def fetch_version(
        self, version: str, raw_dir: Path, only: set[str] | None = None
    ) -> FetchReport:
        return fetch_local_version(self.root, version, raw_dir, only)


def sftp_source(url: SftpUrl, sftp: SftpSettings) -> SftpSource:
    """The server and base folder of `url`, reached and transferred as the `[sftp]` settings say."""
    endpoint = resolve_endpoint(
        url.host,
        port=url.port,
        user=url.user,
        ssh_config=sftp.ssh_config or None,
        identity_file=sftp.identity_file or None,
        known_hosts=sftp.known_hosts or None,
        insecure=sftp.insecure_skip_host_key_check,
    )
    options = TransferOptions(
        max_transfers=sftp.max_transfers,
        block_size=sftp.block_size,
        max_requests=sftp.max_requests,
        attempts=sftp.attempts,
        backoff_seconds=sftp.backoff_seconds,
        connect_timeout=sftp.connect_timeout,
    )
    return SftpSource(endpoint, url.base_path, options)


def open_source(settings: Settings) -> LocalSource | SftpSource:
    """The configured source: `sftp://...`, or a local folder (the bundled sample when empty)."""
    if is_sftp_url(settings.source):
        return sftp_source(parse_sftp_url(settings.source), settings.sftp)
    return LocalSource(Path(settings.source_location).resolve())
