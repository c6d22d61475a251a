import pytest

from mirror_assets.config.settings import SAMPLE_CATALOG, SettingsError, load_settings

DEFAULT_URL = (
    "https://object-store.rc.nectar.org.au/v1/AUTH_685340a8089a4923a71222ce93d5d323/"
    "access-nri-intake-catalog"
)


def test_shipped_defaults():
    settings = load_settings(environ={})
    assert settings.public_base_url == DEFAULT_URL
    assert settings.row_group_size == 10_000
    assert settings.partitions["cmip6_oi10"] == ["realm", "table_id"]
    assert settings.partitions["barpa_py18"] == ["source_id", "domain_id", "freq"]
    assert settings.partitions["PI_GWL_B2060"] == ["realm"]
    # Upstream's table since NCI renamed cordex_ig45's experiment_id (catalog PR #663).
    assert settings.partitions["cordex_ig45"] == ["driving_experiment_id", "frequency"]
    assert settings.single_file_max_records == 5000
    assert settings.source_location == str(SAMPLE_CATALOG)
    assert settings.dest == "./mirror-output"


def test_override_file_merges_tables_and_env_and_flags_win(tmp_path):
    override = tmp_path / "mine.toml"
    override.write_text(
        'row_group_size = 5000\nsingle_file_max_records = 0\n[partitions]\nby473 = ["realm"]\n'
    )
    settings = load_settings(
        override,
        overrides={"dest": "/out", "source": None},
        environ={"MIRROR_PUBLIC_BASE_URL": "https://example.org/x/", "MIRROR_DEST": "/env"},
    )
    assert settings.row_group_size == 5000
    assert settings.single_file_max_records == 0
    assert settings.partitions["by473"] == ["realm"]
    assert settings.partitions["cmip6_oi10"] == ["realm", "table_id"]
    assert settings.public_base_url == "https://example.org/x"
    assert settings.dest == "/out"


def test_bad_config_file_is_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("row_group_size = \n")
    with pytest.raises(SettingsError, match="bad.toml: not valid TOML"):
        load_settings(bad, environ={})
    bad.write_text('[partitions]\nx = "realm"\n')
    with pytest.raises(SettingsError, match="bad.toml: .partitions. values must be lists"):
        load_settings(bad, environ={})
    with pytest.raises(SettingsError, match="missing.toml: config file not found"):
        load_settings(tmp_path / "missing.toml", environ={})


@pytest.mark.parametrize("value", ["-1", "true", '"5000"', "50.5"])
def test_single_file_max_records_must_be_a_count(tmp_path, value):
    bad = tmp_path / "bad.toml"
    bad.write_text(f"single_file_max_records = {value}\n")
    with pytest.raises(
        SettingsError, match=r"bad.toml: single_file_max_records must be an integer >= 0, not "
    ):
        load_settings(bad, environ={})
