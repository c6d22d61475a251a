"""The destination setting picks the object store: a folder, or S3 with the [s3] settings."""

import pytest

from mirror_assets.config.settings import SettingsError, load_settings
from mirror_assets.store.destinations import LocalObjectStore, S3ObjectStore, object_store_for


def test_s3_destination_with_endpoint_from_the_environment(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[s3]\nconcurrency = 4\nregion = 'nectar'\n")
    settings = load_settings(
        config,
        overrides={"dest": "s3://access-nri-intake-catalog/mirror/"},
        environ={"AWS_ENDPOINT_URL": "https://object-store.rc.nectar.org.au/"},
    )
    store = object_store_for(settings)
    assert isinstance(store, S3ObjectStore)
    location = store.location
    assert (location.bucket, location.prefix, location.concurrency, location.region) == (
        "access-nri-intake-catalog",
        "mirror",
        4,
        "nectar",
    )
    assert location.endpoint_url == "https://object-store.rc.nectar.org.au"
    assert store.describe() == (
        "s3://access-nri-intake-catalog/mirror at https://object-store.rc.nectar.org.au"
    )


def test_flag_beats_environment_beats_config_for_the_endpoint(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[s3]\nendpoint_url = 'http://from-config'\n")
    assert load_settings(config, environ={}).s3.endpoint_url == "http://from-config"
    env = {"AWS_ENDPOINT_URL": "http://from-env"}
    assert load_settings(config, environ=env).s3.endpoint_url == "http://from-env"
    flag = {"s3_endpoint_url": "http://from-flag"}
    assert load_settings(config, flag, environ=env).s3.endpoint_url == "http://from-flag"


def test_local_destination_and_dry_run(tmp_path):
    settings = load_settings(overrides={"dest": str(tmp_path)}, environ={"MIRROR_DRY_RUN": "1"})
    store = object_store_for(settings)
    assert isinstance(store, LocalObjectStore) and store.dry_run


def test_bad_s3_settings_are_named(tmp_path):
    with pytest.raises(SettingsError, match="s3://bucket"):
        object_store_for(load_settings(overrides={"dest": "s3://"}, environ={}))
    config = tmp_path / "bad.toml"
    config.write_text("[s3]\nendpoint = 'x'\n")
    with pytest.raises(SettingsError, match=r"bad.toml: .*unknown \[s3\] key"):
        load_settings(config, environ={})
