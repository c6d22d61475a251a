import os

import pytest

from mirror_assets.fetch.plan import RemoteFile
from mirror_assets.fetch.sftp.session import backoff, is_transient
from mirror_assets.fetch.sftp.transfer import _Prefix, part_path, resumable_prefix


def test_prefix_advances_only_over_gap_free_blocks():
    prefix = _Prefix(100)
    prefix.add(300, 100)
    prefix.add(200, 100)
    assert prefix.end == 100
    prefix.add(100, 100)
    assert prefix.end == 400
    prefix.add(500, 10)
    assert prefix.end == 400


def test_a_part_file_is_resumed_only_when_stamped_with_the_source_mtime(tmp_path):
    dest = tmp_path / "x.parquet"
    part = part_path(dest)
    assert part.name == ".x.parquet.part"
    remote = RemoteFile("source/x.parquet", 1000, 1_700_000_000)
    assert resumable_prefix(part, remote) == 0
    part.write_bytes(b"a" * 400)
    assert resumable_prefix(part, remote) == 0  # written just now: not known to be a prefix
    os.utime(part, (remote.mtime, remote.mtime))
    assert resumable_prefix(part, remote) == 400
    assert resumable_prefix(part, RemoteFile(remote.relpath, 300, remote.mtime)) == 0
    assert resumable_prefix(part, RemoteFile(remote.relpath, 1000, remote.mtime + 1)) == 0


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(0.5, n, cap=3) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (FileNotFoundError(), False),
        (PermissionError(), False),
    ],
)
def test_transient_errors(exc, transient):
    assert is_transient(exc) is transient


def test_asyncssh_errors_classified():
    import asyncssh

    assert is_transient(asyncssh.ConnectionLost("gone"))
    assert is_transient(asyncssh.SFTPConnectionLost("gone"))
    assert not is_transient(asyncssh.HostKeyNotVerifiable("bad key"))
    assert not is_transient(asyncssh.PermissionDenied("no"))
    assert not is_transient(asyncssh.SFTPNoSuchFile("no file"))
