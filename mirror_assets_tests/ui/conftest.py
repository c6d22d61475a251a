"""A real Dagster deployment for UI tests: dagster-webserver and dagster-daemon as subprocesses.

Both load the project's workspace.yaml against a temporary DAGSTER_HOME holding the project's
dagster.yaml; the code location mirrors the bundled sample catalog into tmp folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mirror_assets_tests.ui.queries import (
    ADD_PARTITION,
    LOCATION,
    PARTITIONS_DEF,
    REPOSITORY_SELECTOR,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VERSIONS = ["v2025-01-29", "v2025-02-28"]
STARTUP_TIMEOUT = 180
RUN_TIMEOUT = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class GraphQLError(AssertionError):
    pass


@dataclass
class DagsterDeployment:
    """The running webserver and daemon, their folders, and a GraphQL client."""

    url: str
    home: Path
    dest: Path
    staging: Path
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        if answer.get("errors"):
            raise GraphQLError(json.dumps(answer["errors"], indent=1))
        return answer["data"]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for path in sorted(self.logs.glob("*.log"))
        )

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
        """Wait until the run has finished; return its final status."""

        def finished():
            run = self.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]
            return run["status"] if run["status"] in FINAL_STATUSES else None

        return wait_for(f"run {run_id}", finished, timeout, interval=1)

    def wait_for_location(self) -> None:
        wait_for("the code location", lambda: _location_loaded(self), STARTUP_TIMEOUT)


FINAL_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}
RUN_STATUS = "query ($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"
LOCATION_STATUS = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""
DAEMON_HEALTH = """
{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }
"""


def _server_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _location_loaded(deployment: DagsterDeployment) -> bool:
    entries = deployment.graphql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
    [entry] = [e for e in entries if e["name"] == LOCATION]
    error = entry["locationOrLoadError"]
    if error and error["__typename"] == "PythonError":
        pytest.fail(f"code location {LOCATION} failed to load: {error['message']}")
    return entry["loadStatus"] == "LOADED"


def _daemons_healthy(deployment: DagsterDeployment) -> bool:
    statuses = deployment.graphql(DAEMON_HEALTH)["instance"]["daemonHealth"]
    needed = {"QUEUED_RUN_COORDINATOR", "BACKFILL"}
    healthy = {s["daemonType"] for s in statuses["allDaemonStatuses"] if s["healthy"]}
    return needed <= healthy


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # Each server runs in its own session with its code server below it: stop the whole group.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def start_deployment(
    base: Path, workspace: Path, settings: dict[str, str] | None = None
) -> Iterator[DagsterDeployment]:
    """Webserver and daemon on `workspace`, with DAGSTER_HOME and the mirror's folders in `base`;
    `settings` adds environment variables (e.g. MIRROR_SOURCE)."""
    home, logs = base / "home", base / "logs"
    home.mkdir(parents=True)
    logs.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home),
        MIRROR_DEST=str(base / "dest"),
        MIRROR_STAGING=str(base / "staging"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(settings or {})
    port = free_port()
    deployment = DagsterDeployment(
        url=f"http://127.0.0.1:{port}",
        home=home,
        dest=base / "dest",
        staging=base / "staging",
        env=env,
        logs=logs,
    )
    commands = {
        "webserver": [BIN / "dagster-webserver", "-h", "127.0.0.1", "-p", str(port)],
        "daemon": [BIN / "dagster-daemon", "run"],
    }
    # Create the SQLite storage first: the two servers would otherwise race to stamp its schema.
    subprocess.run(
        [BIN / "dagster", "instance", "migrate"], env=env, check=True, capture_output=True
    )
    try:
        for name, command in commands.items():
            with (logs / f"{name}.log").open("wb") as log:
                deployment.processes.append(
                    subprocess.Popen(
                        [*map(str, command), "-w", str(workspace)],
                        cwd=workspace.parent,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        wait_for("the webserver", lambda: _server_up(deployment.url), STARTUP_TIMEOUT)
        deployment.wait_for_location()
        wait_for("the daemons", lambda: _daemons_healthy(deployment), STARTUP_TIMEOUT, 1)
        yield deployment
    finally:
        for process in deployment.processes:
            _stop(process)


@pytest.fixture(scope="session")
def deployment(tmp_path_factory) -> Iterator[DagsterDeployment]:
    """The project as a user runs it: its workspace.yaml and dagster.yaml."""
    with start_deployment(tmp_path_factory.mktemp("dagster"), ROOT / "workspace.yaml") as running:
        yield running


@pytest.fixture
def explain(deployment, request) -> Iterator[None]:
    """On failure, show the end of the webserver and daemon logs."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(deployment.log_tail())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def versions(deployment) -> list[str]:
    """The bundled versions, registered as partitions the way the UI's "Add partition" does."""
    for key in VERSIONS:
        added = deployment.graphql(
            ADD_PARTITION,
            {"selector": REPOSITORY_SELECTOR, "name": PARTITIONS_DEF, "key": key},
        )["addDynamicPartition"]
        assert added["__typename"] in {
            "AddDynamicPartitionSuccess",
            "DuplicateDynamicPartitionError",
        }, added
    return VERSIONS
