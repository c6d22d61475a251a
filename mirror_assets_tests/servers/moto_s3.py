"""moto's S3 server over HTTP on 127.0.0.1: in a thread for tests, as a process for benchmarks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from moto.server import ThreadedMotoServer

from mirror_assets_tests.servers.ports import free_port, wait_listening


@dataclass(frozen=True)
class S3Endpoint:
    """An S3 API endpoint and the credentials the tests put into the standard AWS chain."""

    endpoint_url: str
    access_key: str = "testing"
    secret_key: str = "testing"
    region: str = "us-east-1"


@contextmanager
def threaded_moto() -> Iterator[S3Endpoint]:
    """`ThreadedMotoServer` on a free port (a real HTTP server in a thread of this process)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        wait_listening(port)
        yield S3Endpoint(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@contextmanager
def moto_process(log: Path | None = None) -> Iterator[S3Endpoint]:
    """`moto_server` as its own process, so timing the client does not share its interpreter."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    out = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
    )
    try:
        wait_listening(port, alive=lambda: process.poll() is None)
        yield S3Endpoint(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
