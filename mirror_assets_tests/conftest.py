"""Shared fixtures: a DuckDB connection, parquet writers, a copy of the sample catalog."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mirror_assets.config.settings import SAMPLE_CATALOG, SftpSettings
from mirror_assets.fetch.sftp.source import SftpSource
from mirror_assets.fetch.sftp.ssh_config import SftpUrl
from mirror_assets_tests.ssh_servers import (
    AsyncsshServer,
    OpenSshServer,
    ServerLog,
    SshAgent,
    SshKeys,
    ssh_agent_unavailable,
    sshd_unavailable,
)

# Real S3 servers (moto, Swift s3api) and a fault-injecting proxy, for the publish tests.
pytest_plugins = ["mirror_assets_tests.servers.fixtures"]

STRINGS = pa.list_(pa.string())


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def write_parquet(
    path: Path, columns: dict[str, list], types: dict[str, pa.DataType] | None = None
) -> Path:
    """Write a small parquet file; list values become VARCHAR[], everything else VARCHAR."""
    types = types or {}
    arrays = {}
    for name, values in columns.items():
        kind = types.get(name) or (
            STRINGS if any(isinstance(v, list) for v in values) else pa.string()
        )
        arrays[name] = pa.array(values, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(arrays), path)
    return path


def write_metacatalog(path: Path, rows: list[dict]) -> Path:
    schema = pa.schema(
        [
            ("name", pa.string()),
            ("model", STRINGS),
            ("description", pa.string()),
            ("realm", STRINGS),
            ("frequency", STRINGS),
            ("variable", STRINGS),
            ("yaml", pa.string()),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema), path)
    return path


@pytest.fixture
def sample_catalog(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample catalog (two versions)."""
    dest = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, dest)
    return dest


# --- SSH servers serving a copy of the sample catalog (see ssh_servers.py) -----------------------


@dataclass
class CatalogServer:
    """A running SSH server serving the local folder `catalog` at `base_path`, as `alias`."""

    kind: str
    catalog: Path
    base_path: str
    keys: SshKeys
    port: int
    alias: str
    ssh_config: Path
    log: ServerLog | None = None

    def source(
        self, port: int | None = None, base_path: str | None = None, **overrides
    ) -> SftpSource:
        """The catalog source at this server, with `[sftp]` settings `overrides`."""
        address = SftpUrl(self.alias, port, None, base_path or self.base_path)
        settings = {"ssh_config": str(self.ssh_config), "backoff_seconds": 0.05, **overrides}
        return SftpSource(address, SftpSettings(**settings))

    @property
    def url(self) -> str:
        return f"sftp://{self.alias}{self.base_path}"


@pytest.fixture
def ssh_keys(tmp_path: Path) -> SshKeys:
    return SshKeys(tmp_path / "keys")


@pytest.fixture
def asyncssh_catalog_server(tmp_path, sample_catalog, ssh_keys, monkeypatch):
    """The sample catalog served by an in-process asyncssh server (rooted at tmp_path)."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    server = AsyncsshServer(tmp_path, ssh_keys).start()
    try:
        ssh_keys.trust(server.port)
        yield CatalogServer(
            kind="asyncssh",
            catalog=sample_catalog,
            base_path="/" + sample_catalog.relative_to(tmp_path).as_posix(),
            keys=ssh_keys,
            port=server.port,
            alias="gadi-test",
            ssh_config=ssh_keys.ssh_config("gadi-test", server.port),
            log=server.log,
        )
    finally:
        server.stop()


@pytest.fixture
def sshd_catalog_server(tmp_path, sample_catalog, ssh_keys, monkeypatch):
    """The sample catalog served by OpenSSH's sshd on 127.0.0.1 (skipped where not installed)."""
    reason = sshd_unavailable()
    if reason:
        pytest.skip(reason)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    server = OpenSshServer(ssh_keys, tmp_path / "keys").start()
    try:
        ssh_keys.trust(server.port)
        yield CatalogServer(
            kind="sshd",
            catalog=sample_catalog,
            base_path=str(sample_catalog),
            keys=ssh_keys,
            port=server.port,
            alias="gadi-test",
            ssh_config=ssh_keys.ssh_config("gadi-test", server.port),
        )
    finally:
        server.stop()


@pytest.fixture(params=["asyncssh", "sshd"])
def catalog_server(request) -> CatalogServer:
    """Each real SSH server in turn."""
    return request.getfixturevalue(f"{request.param}_catalog_server")


@pytest.fixture
def ssh_agent(monkeypatch):
    """A real OpenSSH ssh-agent, empty, with SSH_AUTH_SOCK pointing at it; stopped afterwards."""
    reason = ssh_agent_unavailable()
    if reason:
        pytest.skip(reason)
    agent = SshAgent().start()
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(agent.socket))
        yield agent
    finally:
        agent.stop()
