"""`mirror-catalog` with an sftp:// source, run as a subprocess against real SSH servers."""

import json

import pytest

from mirror_assets_tests import cli_runner
from mirror_assets_tests.cli_runner import cli_env
from mirror_assets_tests.ssh_servers import KEY_PASSPHRASE

pytestmark = pytest.mark.slow


def run_cli(*args, cwd):
    """Without the developer's ssh agent: the test server's keys come from its ssh config."""
    return cli_runner.run_cli(*args, cwd=cwd, env=cli_env(clear=("SSH_AUTH_SOCK",)))


def sftp_config(server, tmp_path):
    """A config file pointing the [sftp] settings at the test server's ssh config."""
    path = tmp_path / "sftp.toml"
    path.write_text(f'[sftp]\nssh_config = "{server.ssh_config}"\nbackoff_seconds = 0.05\n')
    return str(path)


def test_fetch_subcommand_stages_a_version_then_skips_it(catalog_server, tmp_path):
    args = (
        "fetch",
        "--catalog-version",
        "v2025-02-28",
        "--source",
        catalog_server.url,
        "--staging",
        str(tmp_path / "stage"),
        "--config",
        sftp_config(catalog_server, tmp_path),
    )
    first = run_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    raw = tmp_path / "stage" / "v2025-02-28" / "raw"
    assert "7 datastores, 15 files transferred" in first.stdout
    src = catalog_server.catalog / "v2025-02-28"
    files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    assert sorted(p.relative_to(raw) for p in raw.rglob("*") if p.is_file()) == files
    assert all((raw / f).read_bytes() == (src / f).read_bytes() for f in files)
    second = run_cli(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 files transferred (0 bytes), 15 unchanged" in second.stdout


def test_list_and_full_run_from_sftp(asyncssh_catalog_server, tmp_path):
    server = asyncssh_catalog_server
    config = sftp_config(server, tmp_path)
    listed = run_cli("--list", "--source", server.url, "--config", config, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["v2025-02-28", "v2025-01-29"]
    dest = tmp_path / "out"
    result = run_cli(
        "--source",
        server.url,
        "--config",
        config,
        "--dest",
        str(dest),
        "--staging",
        str(tmp_path / "stage"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((dest / "versions.json").read_text())["current"] == "v2025-02-28"
    assert "fetch: v2025-02-28 from sftp://" in result.stderr


def test_missing_version_and_untrusted_host_exit_1_with_one_line(asyncssh_catalog_server, tmp_path):
    server = asyncssh_catalog_server
    config = sftp_config(server, tmp_path)
    common = ("--source", server.url, "--config", config, "--staging", str(tmp_path / "s"))
    missing = run_cli("fetch", "--catalog-version", "v2031-01-01", *common, cwd=tmp_path)
    assert missing.returncode == 1
    assert f"{server.base_path}/v2031-01-01: catalog version not found" in missing.stderr
    server.keys.known_hosts.write_text("")
    untrusted = run_cli("fetch", *common, cwd=tmp_path)
    assert untrusted.returncode == 1
    lines = untrusted.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "host 127.0.0.1 is not in known_hosts" in lines[0]


def test_fetch_bad_arguments_exit_2(tmp_path):
    result = run_cli("fetch", "--catalog-version", "2025-01-01", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "expected vYYYY-MM-DD" in result.stderr


def test_fetch_through_the_upstream_block_and_a_real_agent(
    asyncssh_catalog_server, ssh_agent, tmp_path
):
    """`mirror-catalog fetch --source sftp://xp65_ci-dm/...` as a Gadi user runs it."""
    server = asyncssh_catalog_server
    home = tmp_path / "home"
    server.keys.upstream_home(home, server.port, "abc123")
    config = tmp_path / "gadi.toml"
    config.write_text(f'[sftp]\nssh_config = "{home}/.ssh/config"\nattempts = 2\n')
    args = ("fetch", "--catalog-version", "v2025-02-28", "--source")
    args += (f"sftp://xp65_ci-dm{server.base_path}", "--staging", str(tmp_path / "stage"))
    args += ("--config", str(config))
    no_agent = cli_env({"HOME": str(home), "SSH_AUTH_SOCK": str(tmp_path / "no-agent.sock")})
    denied = cli_runner.run_cli(*args, cwd=tmp_path, env=no_agent)
    assert denied.returncode == 1
    assert denied.stderr.strip().splitlines() == [
        f"mirror-catalog: sftp://xp65_ci-dm:{server.port}: authentication failed for user "
        f"abc123: key file {home}/.ssh/id_gadi_xp65_ci is encrypted and no ssh agent holding "
        "it is reachable "
        "(add it with ssh-add, or set MIRROR_SSH_KEY_PASSPHRASE)"
    ]
    ssh_agent.add(home / ".ssh" / "id_gadi_xp65_ci", KEY_PASSPHRASE)
    with_agent = cli_env({"HOME": str(home), "SSH_AUTH_SOCK": str(ssh_agent.socket)})
    fetched = cli_runner.run_cli(*args, cwd=tmp_path, env=with_agent)
    assert fetched.returncode == 0, fetched.stderr
    assert "7 datastores, 15 files transferred" in fetched.stdout
    assert KEY_PASSPHRASE not in fetched.stdout + fetched.stderr + denied.stderr
