"""The daemon's run queue holds one run per catalog version at a time (dagster.yaml's
`tag_concurrency_limits` on `dagster/partition`), while different versions run side by side."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror_assets.config.settings import SAMPLE_CATALOG
from mirror_assets_tests.ui.conftest import (
    FINAL_STATUSES,
    ROOT,
    RUN_TIMEOUT,
    DagsterDeployment,
    start_deployment,
    wait_for,
)
from mirror_assets_tests.ui.queries import (
    ADD_PARTITION,
    BACKFILL_STATUS,
    JOB_SELECTOR,
    LAUNCH_BACKFILL,
    LAUNCH_RUN,
    PARTITIONS_DEF,
    REPOSITORY_SELECTOR,
    RUN_TIMES,
    tags,
)

pytestmark = pytest.mark.slow

ASSETS = [
    "raw_catalog",
    "metacatalog",
    "datastore_specs",
    "datastore_sidecars",
    "partitioned_datastores",
    "published_catalog",
]
# The bundled two versions, and a third copied from the second.
VERSIONS = ["v2025-01-29", "v2025-02-28", "v2025-03-31"]
GATE_HOOK = Path(__file__).parent / "gate_hook"


@pytest.fixture(scope="module")
def queue_deployment(tmp_path_factory) -> Iterator[DagsterDeployment]:
    """The project's deployment mirroring a catalog of three versions, all registered; runs of
    the first version wait at a gate (gate_hook) in `datastore_specs` (a step without a pool)
    until the test opens it."""
    base = tmp_path_factory.mktemp("queue")
    catalog = base / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    shutil.copytree(catalog / VERSIONS[1], catalog / VERSIONS[2])
    settings = {
        "MIRROR_SOURCE": str(catalog),
        "PYTHONPATH": os.pathsep.join([str(GATE_HOOK), os.environ.get("PYTHONPATH", "")]),
        "MIRROR_GATE_PATTERN": f"*/{VERSIONS[0]}/status/specs.json",
        "MIRROR_GATE_FILE": str(base / "gate"),
    }
    with start_deployment(
        base / "deployment", ROOT / "workspace.yaml", extra_env=settings
    ) as deployment:
        for key in VERSIONS:
            added = deployment.graphql(
                ADD_PARTITION,
                {"selector": REPOSITORY_SELECTOR, "name": PARTITIONS_DEF, "key": key},
            )["addDynamicPartition"]
            assert added["__typename"] == "AddDynamicPartitionSuccess", added
        yield deployment


@pytest.fixture
def explain_queue(queue_deployment, request) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(queue_deployment.log_tail())


def launch(deployment: DagsterDeployment, version: str) -> str:
    params = {
        "selector": JOB_SELECTOR,
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": version}]},
    }
    launched = deployment.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def launch_backfill(deployment: DagsterDeployment, versions: list[str]) -> str:
    params = {
        "partitionNames": versions,
        "assetSelection": [{"path": [asset]} for asset in ASSETS],
        "fromFailure": False,
    }
    launched = deployment.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def all_runs(deployment: DagsterDeployment) -> dict[str, list[dict]]:
    """Every run of the deployment (launched ones and the backfill's), by version, oldest first."""
    answer = deployment.graphql(RUN_TIMES, {"filter": {}})
    runs = sorted(answer["runsOrError"]["results"], key=lambda run: run["creationTime"])
    return {v: [run for run in runs if tags(run)["dagster/partition"] == v] for v in VERSIONS}


def overlap(a: dict, b: dict) -> bool:
    return a["startTime"] < b["endTime"] and b["startTime"] < a["endTime"]


@pytest.mark.usefixtures("explain_queue")
def test_backfill_and_extra_runs_hold_at_most_one_run_per_version(queue_deployment):
    deployment = queue_deployment
    gate = Path(deployment.env["MIRROR_GATE_FILE"])
    first = launch(deployment, VERSIONS[0])
    wait_for("the first run at the gate", Path(f"{gate}.reached").exists, RUN_TIMEOUT)
    # While it is in progress: a second launch of its version, then a backfill of all three
    # versions. The queue starts two runs at a time, and the second launch is first in line.
    second = launch(deployment, VERSIONS[0])
    backfill_id = launch_backfill(deployment, VERSIONS)

    def others_done():
        runs = all_runs(deployment)
        done = [runs[v] and runs[v][0]["status"] in FINAL_STATUSES for v in VERSIONS[1:]]
        return runs if all(done) else None

    held = wait_for("the other versions' runs", others_done, RUN_TIMEOUT, 1)
    # The other versions ran to the end beside the first run ...
    for version in VERSIONS[1:]:
        [run] = held[version]
        assert run["status"] == "SUCCESS", run
    # ... which is still in progress, while the other two runs of its version wait in the queue.
    assert [(run["runId"], run["status"]) for run in held[VERSIONS[0]][:2]] == [
        (first, "STARTED"),
        (second, "QUEUED"),
    ]
    assert [run["status"] for run in held[VERSIONS[0]]] == ["STARTED", "QUEUED", "QUEUED"]

    gate.touch()

    def backfill_done():
        status = deployment.graphql(BACKFILL_STATUS, {"id": backfill_id})
        status = status["partitionBackfillOrError"]["status"]
        return status if status not in {"REQUESTED", "CANCELING"} else None

    assert wait_for(f"backfill {backfill_id}", backfill_done, RUN_TIMEOUT, 1) == (
        "COMPLETED_SUCCESS"
    )
    for run_id in (first, second):
        assert deployment.wait_for_run(run_id) == "SUCCESS"
    finished = all_runs(deployment)
    assert [len(finished[v]) for v in VERSIONS] == [3, 1, 1]
    # Never two runs of one version in progress together: each started after the last ended.
    spans = sorted(finished[VERSIONS[0]], key=lambda run: run["startTime"])
    assert {run["status"] for run in spans} == {"SUCCESS"}
    assert spans[0]["runId"] == first
    for earlier, later in itertools.pairwise(spans):
        assert earlier["endTime"] <= later["startTime"], (earlier, later)
    for version in VERSIONS[1:]:
        assert overlap(spans[0], finished[version][0])
