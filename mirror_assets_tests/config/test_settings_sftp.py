import pytest

from mirror_assets.config.settings import SensorSettings, SettingsError, SftpSettings, load_settings


def test_shipped_sftp_and_sensor_defaults():
    settings = load_settings(environ={})
    assert settings.sftp == SftpSettings()
    assert settings.sftp.max_transfers == 8
    assert not settings.sftp.insecure_skip_host_key_check
    assert settings.sensor == SensorSettings(enabled=False, interval_seconds=300, run_hidden=False)


def test_override_sftp_and_sensor_tables(tmp_path):
    override = tmp_path / "mine.toml"
    override.write_text(
        '[sftp]\nmax_transfers = 4\nknown_hosts = "/k"\nbackoff_seconds = 1\n'
        "[sensor]\nenabled = true\n"
    )
    settings = load_settings(override, environ={})
    assert settings.sftp.max_transfers == 4
    assert settings.sftp.known_hosts == "/k"
    assert settings.sftp.backoff_seconds == 1.0
    assert settings.sftp.attempts == 6
    assert settings.sensor.enabled and not settings.sensor.run_hidden


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sftp]\nmax_transfers = 'eight'\n", r"\[sftp\] max_transfers must be an integer"),
        ("[sftp]\nmax_transfer = 8\n", r"unknown setting \[sftp\] max_transfer"),
        ("[sensor]\nenabled = 1\n", r"\[sensor\] enabled must be true or false"),
    ],
)
def test_bad_sftp_settings_name_the_file(tmp_path, text, message):
    override = tmp_path / "bad.toml"
    override.write_text(text)
    with pytest.raises(SettingsError, match=message) as bad:
        load_settings(override, environ={})
    assert str(override) in str(bad.value)
