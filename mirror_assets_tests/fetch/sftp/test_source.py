"""The SFTP catalog source against real servers: asyncssh in-process and OpenSSH sshd."""

import getpass
import logging
import os

import asyncssh
import pytest

from mirror_assets.config.settings import SftpSettings
from mirror_assets.errors import MirrorError, VersionError
from mirror_assets.fetch.local import VersionNotFoundError, fetch_local_version
from mirror_assets.fetch.sftp.source import SftpSource
from mirror_assets.fetch.sftp.ssh_config import PASSPHRASE_ENV, SftpUrl
from mirror_assets_tests.ssh_servers import KEY_PASSPHRASE, SshKeys, ssh_agent_unavailable

pytestmark = pytest.mark.slow


def staged_files(raw):
    return sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())


def test_lists_versions_newest_first_ignoring_other_folders(catalog_server):
    (catalog_server.catalog / "not-a-version").mkdir()
    (catalog_server.catalog / "v2025-13-01").mkdir()
    (catalog_server.catalog / ".v2025-03-01").mkdir()
    (catalog_server.catalog / "v2026-01-01").write_text("a file, not a folder")
    versions = catalog_server.source().list_versions()
    assert versions == [".v2025-03-01", "v2025-02-28", "v2025-01-29"]


def test_fetch_matches_the_local_fetch_byte_for_byte(catalog_server, tmp_path):
    raw = tmp_path / "raw"
    report = catalog_server.source().fetch_version("v2025-02-28", raw)
    local = fetch_local_version(catalog_server.catalog, "v2025-02-28", tmp_path / "local")
    assert report.datastores == local.datastores and len(report.datastores) == 7
    assert report.transferred == local.transferred and len(report.transferred) == 15
    assert report.bytes_transferred == local.bytes_transferred
    src = catalog_server.catalog / "v2025-02-28"
    assert staged_files(raw) == sorted(report.transferred)
    for relpath in report.transferred:
        assert (raw / relpath).read_bytes() == (src / relpath).read_bytes()
        assert int((raw / relpath).stat().st_mtime) == int((src / relpath).stat().st_mtime)


def test_rerun_skips_unchanged_refetches_changed_and_prunes_removed(catalog_server, tmp_path):
    raw = tmp_path / "raw"
    source = catalog_server.source()
    source.fetch_version("v2025-02-28", raw)
    again = source.fetch_version("v2025-02-28", raw)
    assert again.transferred == [] and len(again.skipped) == 15 and again.bytes_transferred == 0
    src = catalog_server.catalog / "v2025-02-28"
    (src / "source" / "by473.json").unlink()
    (src / "source" / "notes.txt").write_text("x")
    os.utime(src / "metacatalog.parquet", (1, 1))
    third = source.fetch_version("v2025-02-28", raw)
    assert third.transferred == ["metacatalog.parquet"]
    assert [p.name for p in third.problems] == ["by473"]
    assert third.ignored == ["notes.txt"]
    assert not (raw / "source" / "by473.parquet").exists()
    assert not list(raw.rglob(".*"))


def test_hidden_version_and_mismatched_pair(catalog_server, tmp_path):
    hidden = catalog_server.catalog / ".v2025-03-01"
    (hidden / "source").mkdir(parents=True)
    src = catalog_server.catalog / "v2025-02-28"
    (hidden / "metacatalog.parquet").write_bytes((src / "metacatalog.parquet").read_bytes())
    for suffix in (".parquet", ".json"):
        data = (src / "source" / f"by473{suffix}").read_bytes()
        (hidden / "source" / f"by473{suffix}").write_bytes(data)
    (hidden / "source" / "lonely.parquet").write_bytes(b"PAR1")
    (hidden / "source" / "orphan.json").write_text("{}")
    report = catalog_server.source().fetch_version(".v2025-03-01", tmp_path / "raw")
    assert report.datastores == ["by473"]
    assert {(p.name, p.file) for p in report.problems} == {
        ("lonely", "source/lonely.parquet"),
        ("orphan", "source/orphan.json"),
    }
    assert all("incomplete pair" in p.cause for p in report.problems)
    assert staged_files(tmp_path / "raw") == [
        "metacatalog.parquet",
        "source/by473.json",
        "source/by473.parquet",
    ]


def test_only_named_datastores(catalog_server, tmp_path):
    report = catalog_server.source().fetch_version("v2025-02-28", tmp_path / "raw", only={"by473"})
    assert report.datastores == ["by473"]
    assert sorted(report.transferred) == [
        "metacatalog.parquet",
        "source/by473.json",
        "source/by473.parquet",
    ]


def test_missing_version_and_missing_metacatalog_name_the_remote_path(catalog_server, tmp_path):
    source = catalog_server.source()
    where = f"sftp://{getpass.getuser()}@gadi-test:{catalog_server.port}{catalog_server.base_path}"
    with pytest.raises(VersionNotFoundError) as missing:
        source.fetch_version("v2031-01-01", tmp_path)
    assert str(missing.value) == f"{where}/v2031-01-01: catalog version not found at the source"
    (catalog_server.catalog / "v2025-02-28" / "metacatalog.parquet").unlink()
    with pytest.raises(VersionError) as no_meta:
        source.fetch_version("v2025-02-28", tmp_path)
    assert str(no_meta.value) == (
        f"{where}/v2025-02-28/metacatalog.parquet: metacatalog.parquet not found"
    )


def test_missing_base_folder(catalog_server):
    source = catalog_server.source(base_path=catalog_server.base_path + "-nowhere")
    with pytest.raises(MirrorError, match="-nowhere: catalog source folder not found"):
        source.list_versions()


def test_changed_host_key_is_refused_naming_the_host(catalog_server, tmp_path):
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    catalog_server.keys.trust(catalog_server.port, SshKeys(impostor).host_key)
    with pytest.raises(MirrorError) as refused:
        catalog_server.source().list_versions()
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert f"sftp://gadi-test:{catalog_server.port}: host key of 127.0.0.1 does not match" in (
        message
    )
    assert "refusing to connect" in message


def test_unknown_host_is_refused_and_the_insecure_opt_out_is_logged(catalog_server, caplog):
    catalog_server.keys.known_hosts.write_text("")
    with pytest.raises(MirrorError, match="host 127.0.0.1 is not in known_hosts"):
        catalog_server.source().list_versions()
    with caplog.at_level(logging.WARNING):
        versions = catalog_server.source(insecure_skip_host_key_check=True).list_versions()
    assert versions == ["v2025-02-28", "v2025-01-29"]
    assert "HOST KEY VERIFICATION IS OFF for gadi-test" in caplog.text
    assert "PRIVATE KEY" not in caplog.text


def test_unaccepted_client_key_is_a_one_line_error(catalog_server, tmp_path):
    stranger = SshKeys(tmp_path / "stranger").client_key
    with pytest.raises(MirrorError) as denied:
        catalog_server.source(identity_file=str(stranger)).list_versions()
    assert f"authentication failed for user {getpass.getuser()}" in str(denied.value)
    assert str(stranger) not in str(denied.value)


# --- SSH as Gadi users have it: the upstream xp65_ci-dm block, an encrypted key, ssh-agent -------


@pytest.fixture
def gadi_home(catalog_server, tmp_path, monkeypatch):
    """HOME holding ACCESS-NRI's `Host xp65_ci-dm` block, the encrypted key and known_hosts."""
    if ssh_agent_unavailable():
        pytest.skip(ssh_agent_unavailable())
    home = tmp_path / "home"
    # sshd logs in real accounts only; the asyncssh server takes the block's User as written.
    user = "abc123" if catalog_server.kind == "asyncssh" else getpass.getuser()
    catalog_server.keys.upstream_home(home, catalog_server.port, user)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    return home


def gadi_source(server):
    return SftpSource(
        SftpUrl("xp65_ci-dm", None, None, server.base_path),
        SftpSettings(ssh_config="~/.ssh/config", backoff_seconds=0.05, attempts=2),
    )


def test_upstream_block_with_the_encrypted_key_in_the_agent(
    catalog_server, gadi_home, ssh_agent, tmp_path
):
    key = gadi_home / ".ssh" / "id_gadi_xp65_ci"
    with pytest.raises(asyncssh.KeyImportError, match="Passphrase must be specified"):
        asyncssh.read_private_key(key)
    ssh_agent.add(key, KEY_PASSPHRASE)
    report = gadi_source(catalog_server).fetch_version("v2025-02-28", tmp_path / "raw")
    assert len(report.datastores) == 7 and len(report.transferred) == 15


def test_upstream_block_without_agent_unlocked_by_the_passphrase_env(
    catalog_server, gadi_home, tmp_path, monkeypatch
):
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "no-agent.sock"))
    monkeypatch.setenv(PASSPHRASE_ENV, KEY_PASSPHRASE)
    report = gadi_source(catalog_server).fetch_version("v2025-02-28", tmp_path / "raw")
    assert len(report.datastores) == 7 and len(report.transferred) == 15


def test_encrypted_key_without_agent_or_passphrase_is_named(
    catalog_server, gadi_home, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "no-agent.sock"))
    key = gadi_home / ".ssh" / "id_gadi_xp65_ci"
    user = "abc123" if catalog_server.kind == "asyncssh" else getpass.getuser()
    with pytest.raises(MirrorError) as denied:
        gadi_source(catalog_server).list_versions()
    assert str(denied.value) == (
        f"sftp://xp65_ci-dm:{catalog_server.port}: authentication failed for user {user}: "
        f"key file {key} is encrypted and no ssh agent holding it is reachable "
        f"(add it with ssh-add, or set {PASSPHRASE_ENV})"
    )
    monkeypatch.setenv(PASSPHRASE_ENV, "not-" + KEY_PASSPHRASE)
    with caplog.at_level(logging.DEBUG), pytest.raises(MirrorError) as wrong:
        gadi_source(catalog_server).list_versions()
    assert str(wrong.value) == (
        f"sftp://xp65_ci-dm:{catalog_server.port}: cannot load key file {key}: "
        f"Incorrect passphrase (from {PASSPHRASE_ENV})"
    )
    assert KEY_PASSPHRASE not in caplog.text
