"""OpenStack Swift all-in-one with its s3api middleware, the software Nectar's object store runs.

Debian's swift-proxy/-account/-container/-object and memcached, configured into a temporary folder
(tempauth, one-replica rings, `workers = 0`, every server on 127.0.0.1) and started as plain
processes. Run `python -m mirror_assets_tests.servers.swift_aio` to start one by hand.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mirror_assets_tests.servers.ports import free_port, wait_listening

# Debian installs Swift for the system interpreter; the servers run on it, not on our venv.
SYSTEM_PYTHON = "/usr/bin/python3"
PACKAGES = "swift swift-proxy swift-account swift-container swift-object memcached"
ACCOUNT = "test"
USER = "tester"
KEY = "testing"

# Reads swift.conf from the temporary folder instead of /etc/swift, then runs one server.
LAUNCHER = """
import sys
from swift.common import utils
utils.set_swift_dir(sys.argv[1])
from swift.common.wsgi import run_wsgi
kwargs = {}
if sys.argv[3] == "object-server":
    from swift.obj import server
    kwargs["global_conf_callback"] = server.global_conf_callback
sys.exit(run_wsgi(sys.argv[2], sys.argv[3], verbose=True, **kwargs))
"""

SWIFT_CONF = """\
[swift-hash]
swift_hash_path_suffix = mirror-assets-tests
swift_hash_path_prefix = mirror-assets-tests

[storage-policy:0]
name = Policy-0
default = yes
"""

SERVER_CONF = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {swift_dir}
devices = {devices}
mount_check = false
disable_fallocate = true
log_name = {kind}-server
log_level = WARNING

[pipeline:main]
pipeline = {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
"""

PROXY_CONF = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {swift_dir}
log_name = proxy-server
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth \
copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached_port}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_{account}_{user} = {key} .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
"""


def missing_reason() -> str | None:
    """Why Swift cannot run here, or None when it can."""
    needed = [
        "/usr/bin/swift-ring-builder",
        "/usr/bin/swift-proxy-server",
        "/usr/bin/swift-object-server",
        "/usr/bin/memcached",
        SYSTEM_PYTHON,
    ]
    absent = [p for p in needed if not Path(p).exists()]
    if absent:
        return (
            f"OpenStack Swift is not installed ({', '.join(absent)} missing); "
            f"install with `apt-get install {PACKAGES}` (or run .ci/run as root)"
        )
    return None


@dataclass
class SwiftAllInOne:
    """A running Swift cluster of one of each server; `stop()` ends every process it started."""

    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}"

    @property
    def storage_url(self) -> str:
        return f"{self.endpoint_url}/v1/AUTH_{ACCOUNT}"

    @property
    def access_key(self) -> str:
        return f"{ACCOUNT}:{USER}"

    @property
    def secret_key(self) -> str:
        return KEY

    def auth_token(self) -> str:
        """A tempauth token for the Swift API (what `OS_AUTH_TOKEN` holds)."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/auth/v1.0",
            headers={"X-Auth-User": self.access_key, "X-Auth-Key": KEY},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["X-Auth-Token"]

    def start(self) -> SwiftAllInOne:
        for name in ("memcached", "proxy", "account", "container", "object"):
            self.ports[name] = free_port()
        devices = self.root / "srv"
        (devices / "d1").mkdir(parents=True)
        (self.root / "swift.conf").write_text(SWIFT_CONF)
        for kind in ("account", "container", "object"):
            self._build_ring(kind)
            conf = SERVER_CONF.format(
                port=self.ports[kind], swift_dir=self.root, devices=devices, kind=kind
            )
            (self.root / f"{kind}-server.conf").write_text(conf)
        (self.root / "proxy-server.conf").write_text(
            PROXY_CONF.format(
                port=self.ports["proxy"],
                swift_dir=self.root,
                memcached_port=self.ports["memcached"],
                account=ACCOUNT,
                user=USER,
                key=KEY,
            )
        )
        try:
            self._spawn(
                "memcached",
                ["/usr/bin/memcached", "-l", "127.0.0.1", "-p", str(self.ports["memcached"])]
                + ["-U", "0", "-m", "16"]
                + (["-u", "root"] if os.geteuid() == 0 else []),
            )
            for kind in ("account", "container", "object", "proxy"):
                self._spawn(
                    kind,
                    [SYSTEM_PYTHON, "-c", LAUNCHER, str(self.root)]
                    + [str(self.root / f"{kind}-server.conf"), f"{kind}-server"],
                )
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _build_ring(self, kind: str) -> None:
        builder = str(self.root / f"{kind}.builder")

        def ring(*args: str) -> None:
            result = subprocess.run(
                ["/usr/bin/swift-ring-builder", builder, *args], capture_output=True, text=True
            )
            # rebalance exits 1 with a warning on a one-device ring; only 2 is an error.
            if result.returncode >= 2:
                raise RuntimeError(f"swift-ring-builder {' '.join(args)}: {result.stdout}")

        ring("create", "4", "1", "1")
        ring("add", f"r1z1-127.0.0.1:{self.ports[kind]}/d1", "1")
        ring("rebalance")

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.root / f"{name}.log").open("wb")
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self.processes.append(process)
        wait_listening(self.ports[name], alive=lambda: process.poll() is None)

    def _wait_healthy(self, timeout: float = 30.0) -> None:
        """Until an authenticated account HEAD succeeds: every server answers through the proxy."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                request = urllib.request.Request(
                    self.storage_url, method="HEAD", headers={"X-Auth-Token": self.auth_token()}
                )
                with urllib.request.urlopen(request, timeout=10):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.root.glob("*.log"))
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="swift-aio-"))
    swift = SwiftAllInOne(root).start()
    print(f"S3 endpoint {swift.endpoint_url}  access key {swift.access_key}  secret {KEY}")
    print(f"Swift storage URL {swift.storage_url}  (Ctrl-C stops; files in {root})")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        swift.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
