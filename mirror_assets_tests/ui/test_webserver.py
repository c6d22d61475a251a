"""The pipeline operated through the real webserver's GraphQL API, runs started by the daemon."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import duckdb
import pytest

from mirror_assets.config.settings import SAMPLE_CATALOG
from mirror_assets.defs.checks import mirror_checks
from mirror_assets_tests.ui.conftest import RUN_TIMEOUT, wait_for
from mirror_assets_tests.ui.queries import (
    ASSET_NODES,
    BACKFILL_STATUS,
    JOB_RUNS,
    JOB_SELECTOR,
    LAUNCH_BACKFILL,
    LAUNCH_RUN,
    LOCATION,
    MATERIALIZATIONS,
    POOL_LIMIT,
    REEXECUTE_RUN,
    REPOSITORY,
    REPOSITORY_SELECTOR,
    RUNS,
    metadata,
    tags,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("explain")]

ASSETS = [
    "raw_catalog",
    "metacatalog",
    "datastore_specs",
    "datastore_sidecars",
    "partitioned_datastores",
    "published_catalog",
]
DUCKDB_POOL_STEPS = {"metacatalog", "datastore_sidecars", "partitioned_datastores"}
# The job also runs every asset check, each as its own step.
CHECK_STEPS = {
    f"{key.asset_key.to_python_identifier()}_{key.name}"
    for checks in mirror_checks
    for key in checks.check_keys
}


def sample_datastores(version: str) -> dict[str, int]:
    """Datastore name -> row count in the bundled sample version."""
    source = SAMPLE_CATALOG / version / "source"
    with duckdb.connect() as con:
        return {
            path.stem: con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[
                0
            ]
            for path in sorted(source.glob("*.parquet"))
        }


def sample_names(version: str) -> int:
    with duckdb.connect() as con:
        path = str(SAMPLE_CATALOG / version / "metacatalog.parquet")
        return con.execute("SELECT count(DISTINCT name) FROM read_parquet(?)", [path]).fetchone()[0]


def runs(deployment, **filter_) -> list[dict]:
    return deployment.graphql(RUNS, {"filter": filter_})["runsOrError"]["results"]


def materialization(deployment, asset: str, version: str, run_id: str) -> dict:
    answer = deployment.graphql(
        MATERIALIZATIONS, {"key": {"path": [asset]}, "partitions": [version]}
    )
    events = answer["assetOrError"]["assetMaterializations"]
    [event] = [e for e in events if e["runId"] == run_id]
    assert event["partition"] == version
    return metadata(event["metadataEntries"])


def file_url_path(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(url2pathname(parsed.path))


def assert_version_materialised(deployment, version: str, run_id: str) -> None:
    """Every asset has a materialisation of `version` from `run_id`, with its metadata."""
    datastores = sample_datastores(version)
    for asset in ASSETS:
        assert materialization(deployment, asset, version, run_id)["duration_seconds"] >= 0
    raw = materialization(deployment, "raw_catalog", version, run_id)
    assert raw["datastores_ok"] == len(datastores) and raw["datastores_failed"] == 0
    meta = materialization(deployment, "metacatalog", version, run_id)
    assert meta["rows"] == sample_names(version)
    assert meta["preview"].startswith("| name | model | realm |")
    assert meta["preview"].count("\n") == min(meta["rows"], 10) + 1
    built = materialization(deployment, "partitioned_datastores", version, run_id)
    table = {row["datastore"]: row for row in built["datastores"]}
    assert {name: row["rows"] for name, row in table.items()} == datastores
    assert {row["status"] for row in table.values()} == {"ok"}
    assert all(row["seconds"] >= 0 for row in table.values())
    assert built["total_rows"] == sum(datastores.values())
    published = materialization(deployment, "published_catalog", version, run_id)
    assert published["datastores_ok"] == len(datastores)
    archived = file_url_path(published["metacatalog_url"])
    assert archived == deployment.dest.resolve() / "versions" / version / "metacatalog.parquet"
    assert archived.is_file()
    assert file_url_path(published["versions_json_url"]).is_file()


def launch(deployment, version: str) -> str:
    params = {
        "selector": JOB_SELECTOR,
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": version}]},
    }
    launched = deployment.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def test_lists_the_assets_with_kinds_lineage_and_version_partitions(deployment, versions):
    nodes = {
        "/".join(node["assetKey"]["path"]): node
        for node in deployment.graphql(ASSET_NODES)["assetNodes"]
    }
    assert sorted(nodes) == sorted(ASSETS)
    for node in nodes.values():
        assert node["groupName"] == "catalog_mirror"
        assert node["description"]
        assert node["owners"] == [{"team": "access-nri-catalog"}]
        assert node["partitionDefinition"]["type"] == "DYNAMIC"
        [dimension] = node["partitionDefinition"]["dimensionTypes"]
        assert dimension["dynamicPartitionsDefinitionName"] == "catalog_version"
        [keys] = node["partitionKeysByDimension"]
        assert sorted(keys["partitionKeys"]) == versions
    assert set(nodes["raw_catalog"]["kinds"]) == {"sftp", "parquet"}
    assert set(nodes["published_catalog"]["kinds"]) == {"s3"}
    upstream = {"/".join(k["path"]) for k in nodes["published_catalog"]["dependencyKeys"]}
    assert upstream == set(ASSETS) - {"raw_catalog", "published_catalog"}


def test_materialises_one_version_from_a_launched_run(deployment, versions):
    version = versions[0]
    run_id = launch(deployment, version)
    assert deployment.wait_for_run(run_id) == "SUCCESS"
    [run] = runs(deployment, runIds=[run_id])
    assert run["jobName"] == "mirror_catalog"
    assert tags(run)["dagster/partition"] == version
    assert len(CHECK_STEPS) == 8
    assert {s["stepKey"] for s in run["stepStats"]} == set(ASSETS) | CHECK_STEPS
    assert_version_materialised(deployment, version, run_id)


def test_backfills_both_versions_one_run_each_within_the_pools(deployment, versions):
    params = {
        "partitionNames": versions,
        "assetSelection": [{"path": [asset]} for asset in ASSETS],
        "fromFailure": False,
    }
    launched = deployment.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def finished():
        status = deployment.graphql(BACKFILL_STATUS, {"id": backfill_id})
        status = status["partitionBackfillOrError"]["status"]
        return status if status not in {"REQUESTED", "CANCELING"} else None

    assert wait_for(f"backfill {backfill_id}", finished, RUN_TIMEOUT, 1) == "COMPLETED_SUCCESS"
    backfill_runs = runs(deployment, tags=[{"key": "dagster/backfill", "value": backfill_id}])
    # One run per catalog version.
    by_version = {tags(run)["dagster/partition"]: run for run in backfill_runs}
    assert len(backfill_runs) == 2 and sorted(by_version) == versions
    for version, run in by_version.items():
        assert run["status"] == "SUCCESS"
        assert_version_materialised(deployment, version, run["runId"])
    # The duckdb pool (one slot by default) never let two versions transform at once.
    limit = deployment.graphql(POOL_LIMIT, {"pool": "duckdb"})["instance"]["concurrencyLimit"]
    assert limit["slotCount"] == 1
    spans = sorted(
        (step["startTime"], step["endTime"])
        for run in backfill_runs
        for step in run["stepStats"]
        if step["stepKey"] in DUCKDB_POOL_STEPS
    )
    assert len(spans) == 6
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_mirror_catalog_runs_belong_to_the_job_and_re_execute_from_the_ui(deployment, versions):
    version = versions[1]
    result = subprocess.run(
        [sys.executable, "-m", "mirror_assets.cli", "--catalog-version", version],
        env=deployment.env,
        cwd=deployment.home,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    [cli_run] = [
        run
        for run in runs(deployment, pipelineName="mirror_catalog")
        if tags(run).get("dagster/partition") == version and not tags(run).get("dagster/backfill")
    ]
    assert cli_run["status"] == "SUCCESS"
    assert cli_run["repositoryOrigin"] == {
        "repositoryLocationName": LOCATION,
        "repositoryName": REPOSITORY,
    }
    selector = {**REPOSITORY_SELECTOR, "pipelineName": "mirror_catalog"}
    job_runs = deployment.graphql(JOB_RUNS, {"selector": selector})
    assert cli_run["runId"] in {r["runId"] for r in job_runs["pipelineOrError"]["runs"]}

    params = {"parentRunId": cli_run["runId"], "strategy": "ALL_STEPS"}
    again = deployment.graphql(REEXECUTE_RUN, {"params": params})["launchRunReexecution"]
    assert again["__typename"] == "LaunchRunSuccess", again
    run_id = again["run"]["runId"]
    assert deployment.wait_for_run(run_id) == "SUCCESS"
    [rerun] = runs(deployment, runIds=[run_id])
    assert rerun["parentRunId"] == cli_run["runId"]
    assert tags(rerun)["dagster/partition"] == version
    assert_version_materialised(deployment, version, run_id)
