"""Faults injected by the asyncssh server: lying listings and connections dropped mid-transfer."""

import os

import pytest

from mirror_assets.errors import MirrorError
from mirror_assets.fetch.inventory import Problem
from mirror_assets_tests.ssh_servers import free_port

pytestmark = pytest.mark.slow
MB = 1024 * 1024
# Read sizes as with OpenSSH's sftp-server (asyncssh's own server allows 4 MB reads): several
# blocks in flight, so a drop lands mid-window.
OPENSSH_READS = {"block_size": 256 * 1024, "max_requests": 16}


@pytest.fixture
def server(asyncssh_catalog_server):
    return asyncssh_catalog_server


@pytest.fixture
def big_file(server):
    """A 40 MB datastore parquet (the fetch copies bytes; it does not parse them)."""
    path = server.catalog / "v2025-02-28" / "source" / "by473.parquet"
    path.write_bytes(os.urandom(40 * MB))
    return path


def reads_of(server, name):
    """{connection number: first offset read} for file `name`."""
    first = {}
    for conn, file, offset in server.log.reads:
        if file == name:
            first[conn] = min(offset, first.get(conn, offset))
    return first


def test_remote_names_escaping_staging_are_refused(server, tmp_path):
    server.log.fake_entries[server.base_path.lstrip("/") + "/v2025-02-28/source"] = [
        "../evil.parquet",
        "../evil.json",
        "..json",
    ]
    raw = tmp_path / "stage" / "raw"
    report = server.source().fetch_version("v2025-02-28", raw)
    assert Problem("../evil", "source/../evil.parquet", "refused: unsafe datastore file name") in (
        report.problems
    )
    assert {p.name for p in report.problems} == {"../evil", "."}
    assert len(report.datastores) == 7
    assert not (tmp_path / "stage" / "evil.parquet").exists()
    assert not any("evil" in file for _, file, _ in server.log.reads)


def test_dropped_connection_at_several_points_resumes_byte_identical(server, big_file, tmp_path):
    server.log.drop_at["by473.parquet"] = [6 * MB, 18 * MB, 30 * MB]
    raw = tmp_path / "raw"
    report = server.source(**OPENSSH_READS).fetch_version("v2025-02-28", raw)
    assert server.log.drops == 3
    assert (raw / "source" / "by473.parquet").read_bytes() == big_file.read_bytes()
    assert len(report.transferred) == 15 and len(report.datastores) == 7
    # One connection, reopened once per drop; each reopened one carried on where the last stopped.
    first_reads = reads_of(server, "by473.parquet")
    assert len(first_reads) == 4
    assert all(first_reads[conn] > 0 for conn in sorted(first_reads)[1:])
    assert report.bytes_transferred < 1 * MB + 40 * MB + 3 * 4 * MB
    assert not list(raw.rglob(".*.part"))


def test_interrupted_fetch_resumes_on_the_next_run(server, big_file, tmp_path):
    server.log.drop_at["by473.parquet"] = [20 * MB]
    raw = tmp_path / "raw"
    with pytest.raises(MirrorError, match="gave up after 1 attempt: "):
        server.source(attempts=1, **OPENSSH_READS).fetch_version("v2025-02-28", raw)
    part = raw / "source" / ".by473.parquet.part"
    kept = part.stat().st_size
    assert 0 < kept <= 20 * MB
    assert part.read_bytes() == big_file.read_bytes()[:kept]
    report = server.source(**OPENSSH_READS).fetch_version("v2025-02-28", raw)
    assert (raw / "source" / "by473.parquet").read_bytes() == big_file.read_bytes()
    assert "source/by473.parquet" in report.transferred
    last_connection = max(c for c, _, _ in server.log.reads)
    assert reads_of(server, "by473.parquet")[last_connection] == kept


def test_unreachable_server_gives_up_after_the_configured_attempts(server):
    source = server.source(port=free_port(), attempts=2)
    with pytest.raises(MirrorError) as gave_up:
        source.list_versions()
    message = str(gave_up.value)
    assert "gave up after 2 attempts" in message
    assert len(message.splitlines()) == 1
