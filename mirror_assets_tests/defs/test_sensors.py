"""The new_catalog_versions sensor, listing a real SFTP server (asyncssh)."""

import dagster as dg
import pytest

from mirror_assets.config.settings import load_settings
from mirror_assets.definitions import build_definitions
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.defs.sensors import build_new_versions_sensor

pytestmark = pytest.mark.slow


def tick(sensor, instance, source, cursor=None):
    """Evaluate one tick, then apply its partition requests as the daemon would."""
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"catalog_source": source}
    )
    result = sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def added(result):
    return [k for r in result.dynamic_partitions_requests for k in r.partition_keys]


def requested(result):
    return [(r.partition_key, r.run_key) for r in result.run_requests]


def test_new_versions_become_partitions_and_runs_once(asyncssh_catalog_server):
    server = asyncssh_catalog_server
    (server.catalog / ".v2025-03-01").mkdir()
    source = server.source()
    sensor = build_new_versions_sensor()
    with dg.DagsterInstance.ephemeral() as instance:
        first = tick(sensor, instance, source)
        assert added(first) == ["v2025-01-29", "v2025-02-28", ".v2025-03-01"]
        assert requested(first) == [("v2025-01-29", "v2025-01-29"), ("v2025-02-28", "v2025-02-28")]
        assert all(r.job_name in (None, "mirror_catalog") for r in first.run_requests)
        assert set(instance.get_dynamic_partitions(catalog_versions.name)) == {
            "v2025-01-29",
            "v2025-02-28",
            ".v2025-03-01",
        }

        second = tick(sensor, instance, source, first.cursor)
        assert added(second) == [] and requested(second) == []
        assert "no new version" in second.skip_reason.skip_message

        (server.catalog / "v2025-04-01").mkdir()
        third = tick(sensor, instance, source, second.cursor)
        assert added(third) == ["v2025-04-01"]
        assert requested(third) == [("v2025-04-01", "v2025-04-01")]


def test_hidden_versions_run_when_configured_and_registered_ones_are_left_alone(
    asyncssh_catalog_server,
):
    server = asyncssh_catalog_server
    (server.catalog / ".v2025-03-01").mkdir()
    sensor = build_new_versions_sensor(run_hidden=True)
    with dg.DagsterInstance.ephemeral() as instance:
        # Mirrored earlier with mirror-catalog: already a partition, so not requested again.
        instance.add_dynamic_partitions(catalog_versions.name, ["v2025-02-28"])
        result = tick(sensor, instance, server.source())
        assert added(result) == ["v2025-01-29", ".v2025-03-01"]
        assert [key for key, _ in requested(result)] == ["v2025-01-29", ".v2025-03-01"]


def test_sensor_registered_stopped_unless_enabled(tmp_path):
    stopped = build_definitions(load_settings(environ={})).resolve_sensor_def(
        "new_catalog_versions"
    )
    assert stopped.default_status == dg.DefaultSensorStatus.STOPPED
    assert stopped.job_name == "mirror_catalog"
    config = tmp_path / "on.toml"
    config.write_text("[sensor]\nenabled = true\ninterval_seconds = 60\n")
    running = build_definitions(load_settings(config, environ={})).resolve_sensor_def(
        "new_catalog_versions"
    )
    assert running.default_status == dg.DefaultSensorStatus.RUNNING
    assert running.minimum_interval_seconds == 60
