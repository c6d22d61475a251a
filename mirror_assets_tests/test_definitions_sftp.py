from mirror_assets.config.settings import load_settings
from mirror_assets.fetch.sftp.source import SftpSource
from mirror_assets.fetch.sftp.ssh_config import DEFAULT_BASE_PATH
from mirror_assets.fetch.sources import LocalSource, open_source


def test_sftp_urls_choose_the_sftp_source_with_the_sftp_settings(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[sftp]\nmax_transfers = 3\nknown_hosts = "/etc/kh"\n')
    source = open_source(
        load_settings(config, overrides={"source": "sftp://abc123@xp65_ci-dm:2222"}, environ={})
    )
    assert isinstance(source, SftpSource)
    address = source.address
    assert (address.host, address.port, address.user) == ("xp65_ci-dm", 2222, "abc123")
    assert source.base_path == DEFAULT_BASE_PATH
    assert source.settings.max_transfers == 3 and source.settings.known_hosts == "/etc/kh"
    assert not source.settings.insecure_skip_host_key_check
    other = open_source(
        load_settings(overrides={"source": "sftp://gadi/g/data/x/cat/"}, environ={})
    )
    assert other.base_path == "/g/data/x/cat" and other.address.port is None


def test_folders_keep_the_local_source(tmp_path):
    source = open_source(load_settings(overrides={"source": str(tmp_path)}, environ={}))
    assert isinstance(source, LocalSource)
