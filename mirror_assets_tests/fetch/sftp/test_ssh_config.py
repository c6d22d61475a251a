import logging
import re

import pytest

from mirror_assets.errors import MirrorError
from mirror_assets.fetch.sftp.ssh_config import (
    DEFAULT_BASE_PATH,
    SftpUrl,
    connect_options,
    parse_sftp_url,
    resolve_endpoint,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sftp://gadi-dm.nci.org.au", SftpUrl("gadi-dm.nci.org.au", None, None, DEFAULT_BASE_PATH)),
        ("sftp://xp65_ci-dm/", SftpUrl("xp65_ci-dm", None, None, DEFAULT_BASE_PATH)),
        ("sftp://abc123@gadi:2222/g/data/x/", SftpUrl("gadi", 2222, "abc123", "/g/data/x")),
        ("sftp://me@127.0.0.1/tmp/my%20cat", SftpUrl("127.0.0.1", None, "me", "/tmp/my cat")),
    ],
)
def test_parse_sftp_url(url, expected):
    assert parse_sftp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sftp://", "expected sftp://[user@]host[:port]/base/path"),
        ("sftp://host:99999/x", "invalid port"),
        ("sftp://me:secret@host/x", "passwords in sftp:// URLs are not supported"),
    ],
)
def test_bad_sftp_urls(url, message):
    with pytest.raises(MirrorError, match=re.escape(message)) as bad:
        parse_sftp_url(url)
    assert "secret" not in str(bad.value)


@pytest.fixture
def ssh_config(tmp_path):
    path = tmp_path / "config"
    path.write_text(
        "Host xp65_ci-dm\n"
        "  HostName gadi-dm.nci.org.au\n"
        "  User abc123\n"
        "  Port 2200\n"
        "  IdentityFile ~/.ssh/id_gadi\n"
        f"  UserKnownHostsFile {tmp_path}/gadi_known_hosts\n"
        "Host lax\n"
        "  UserKnownHostsFile /dev/null\n"
    )
    return path


def test_alias_resolved_from_the_ssh_config(ssh_config, tmp_path):
    endpoint = resolve_endpoint("xp65_ci-dm", ssh_config=str(ssh_config))
    assert (endpoint.hostname, endpoint.port, endpoint.username) == (
        "gadi-dm.nci.org.au",
        2200,
        "abc123",
    )
    # asyncssh reads IdentityFile itself; the endpoint keeps it only to name it in messages.
    assert endpoint.identity_file is None
    assert endpoint.key_files[0].endswith("/.ssh/id_gadi")
    assert not endpoint.key_files[0].startswith("~")
    assert "client_keys" not in connect_options(endpoint)
    assert endpoint.known_hosts == (f"{tmp_path}/gadi_known_hosts",)
    assert endpoint.display == "xp65_ci-dm:2200"


def test_explicit_settings_win_over_the_config(ssh_config, tmp_path):
    endpoint = resolve_endpoint(
        "xp65_ci-dm",
        port=22,
        user="me",
        ssh_config=str(ssh_config),
        identity_file=str(tmp_path / "key"),
        known_hosts=str(tmp_path / "kh"),
    )
    assert (endpoint.port, endpoint.username) == (22, "me")
    assert endpoint.identity_file == str(tmp_path / "key")
    options = connect_options(endpoint)
    assert (options["client_keys"], options["ignore_encrypted"]) == ([str(tmp_path / "key")], True)
    assert endpoint.known_hosts == (str(tmp_path / "kh"),)
    assert endpoint.display == "xp65_ci-dm"


def test_known_hosts_dev_null_does_not_turn_verification_off(ssh_config):
    endpoint = resolve_endpoint("lax", ssh_config=str(ssh_config))
    assert endpoint.verify_host_key
    assert endpoint.known_hosts[0].endswith("/.ssh/known_hosts")
    options = connect_options(endpoint)
    assert options["known_hosts"] is not None


def test_insecure_opt_out_is_logged_and_disables_the_check(ssh_config, caplog):
    with caplog.at_level(logging.WARNING):
        endpoint = resolve_endpoint("lax", ssh_config=str(ssh_config), insecure=True)
    assert connect_options(endpoint)["known_hosts"] is None
    assert "HOST KEY VERIFICATION IS OFF for lax" in caplog.text


def test_missing_config_file_named(tmp_path):
    with pytest.raises(MirrorError, match="nope: SSH config file not found"):
        resolve_endpoint("gadi", ssh_config=str(tmp_path / "nope"))


def test_passphrase_only_from_the_environment(ssh_config, monkeypatch):
    monkeypatch.setenv("MIRROR_SSH_KEY_PASSPHRASE", "hunter2")
    endpoint = resolve_endpoint("xp65_ci-dm", ssh_config=str(ssh_config))
    assert connect_options(endpoint)["passphrase"] == "hunter2"
    assert "hunter2" not in repr(endpoint)
