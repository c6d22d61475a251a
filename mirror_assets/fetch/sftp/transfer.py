"""Download one file over SFTP into its temporary name, resuming a partial copy.

The temporary file is `.<name>.part`. When a transfer breaks, the part file is cut back to the bytes
received without gaps and stamped with the source's mtime: that stamp marks it as a valid prefix,
so the next attempt (in this run or a later one) continues from there. A part file without the
stamp (say, the process was killed mid-write) is started over.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from mirror_assets.fetch.plan import RemoteFile, finish_transfer


def part_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.part")


def resumable_prefix(part: Path, remote: RemoteFile) -> int:
    """Bytes of `part` that can be kept: a stamped prefix of the same source file, else 0."""
    try:
        stat = part.stat()
    except FileNotFoundError:
        return 0
    if int(stat.st_mtime) == remote.mtime and stat.st_size <= remote.size:
        return stat.st_size
    return 0


class _Prefix:
    """The end of the gap-free run of bytes written from `start`; blocks arrive out of order."""

    def __init__(self, start: int):
        self.end = start
        self._ahead: dict[int, int] = {}

    def add(self, offset: int, length: int) -> None:
        self._ahead[offset] = offset + length
        while self.end in self._ahead:
            self.end = self._ahead.pop(self.end)


async def download(
    sftp: asyncssh.SFTPClient,
    remote_path: str,
    remote: RemoteFile,
    dest: Path,
    block_size: int = 0,
    max_requests: int = 32,
) -> int:
    """Copy `remote_path` to `dest` (size-checked, mtime stamped); returns the bytes read."""
    part = part_path(dest)
    start = resumable_prefix(part, remote)
    flags = os.O_WRONLY | os.O_CREAT | (0 if start else os.O_TRUNC)
    fd = os.open(part, flags, 0o644)
    prefix = _Prefix(start)
    try:
        if start < remote.size:
            async with sftp.open(
                remote_path, "rb", block_size=block_size or -1, max_requests=max_requests
            ) as handle:
                blocks = await handle.read_parallel(remote.size - start, start)
                async for offset, data in blocks:
                    os.pwrite(fd, data, offset)
                    prefix.add(offset, len(data))
    except BaseException:
        os.ftruncate(fd, prefix.end)
        os.close(fd)
        os.utime(part, (remote.mtime, remote.mtime))
        raise
    os.close(fd)
    finish_transfer(part, dest, remote)
    return prefix.end - start
