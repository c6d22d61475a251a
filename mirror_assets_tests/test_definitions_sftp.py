from mirror_assets.config.settings import load_settings
from mirror_assets.definitions import catalog_source_for
from mirror_assets.defs.resources import LocalCatalogSource, SftpCatalogSource
from mirror_assets.fetch.sftp.ssh_config import DEFAULT_BASE_PATH


def test_sftp_urls_choose_the_sftp_source_with_the_sftp_settings(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[sftp]\nmax_transfers = 3\nknown_hosts = "/etc/kh"\n')
    source = catalog_source_for(
        load_settings(config, overrides={"source": "sftp://abc123@xp65_ci-dm:2222"}, environ={})
    )
    assert isinstance(source, SftpCatalogSource)
    assert (source.host, source.port, source.username) == ("xp65_ci-dm", 2222, "abc123")
    assert source.base_path == DEFAULT_BASE_PATH
    assert source.max_transfers == 3 and source.known_hosts == "/etc/kh"
    assert not source.insecure_skip_host_key_check
    other = catalog_source_for(
        load_settings(overrides={"source": "sftp://gadi/g/data/x/cat/"}, environ={})
    )
    assert other.base_path == "/g/data/x/cat" and other.port is None


def test_folders_keep_the_local_source(tmp_path):
    source = catalog_source_for(load_settings(overrides={"source": str(tmp_path)}, environ={}))
    assert isinstance(source, LocalCatalogSource)
