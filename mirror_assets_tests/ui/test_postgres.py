"""The production shape on one machine: storage in PostgreSQL, dagster-webserver, dagster-daemon.

A real PostgreSQL server (Debian's package, started as a plain process) holds the runs, event
logs, partitions and pool slots; the instance is the project's dagster.yaml with the README's
`storage: postgres:` block in place of SQLite, so the run queue and the pools are the shipped ones.
A backfill of both bundled versions goes through the GraphQL API, the queue and the daemon.
Not covered: run launchers other than the default one (Docker, Kubernetes), a code server over
gRPC, several webservers.
"""

from __future__ import annotations

import importlib.util
import itertools
import textwrap
from collections import defaultdict
from collections.abc import Iterator

import pytest
import yaml

from mirror_assets.definitions import defs
from mirror_assets_tests.servers import postgres as postgres_server
from mirror_assets_tests.servers.postgres import PostgresServer, missing_reason, running_postgres
from mirror_assets_tests.ui.conftest import (
    ROOT,
    RUN_TIMEOUT,
    DagsterDeployment,
    register_versions,
    start_deployment,
    wait_for,
)
from mirror_assets_tests.ui.queries import BACKFILL_STATUS, LAUNCH_BACKFILL, tags
from mirror_assets_tests.ui.test_webserver import ASSETS, assert_version_materialised, runs


def readme_postgres_storage() -> dict:
    """The `storage:` block of the README's Production section, step 1: the test uses it as is."""
    text = (ROOT / "README.md").read_text()
    step = text[text.index("**Storage in PostgreSQL**") :]
    block = step[step.index("```yaml") + len("```yaml") :]
    return yaml.safe_load(textwrap.dedent(block[: block.index("```")]))["storage"]


def project_instance_config() -> dict:
    return yaml.safe_load((ROOT / "dagster.yaml").read_text())


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    if importlib.util.find_spec("dagster_postgres") is None:
        # A missing Python dependency is a broken install, not a reason to skip.
        pytest.fail("dagster-postgres is not installed: pip install -e '.[dev]'")
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def pg_deployment(postgres, tmp_path_factory) -> Iterator[DagsterDeployment]:
    instance = {**project_instance_config(), "storage": readme_postgres_storage()}
    assert set(instance["storage"]) == {"postgres"}
    with start_deployment(
        tmp_path_factory.mktemp("dagster_postgres"),
        ROOT / "workspace.yaml",
        instance_yaml=yaml.safe_dump(instance, sort_keys=False),
        extra_env=postgres.dagster_env,
    ) as running:
        yield running


@pytest.fixture
def explain_pg(pg_deployment, postgres, request) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(pg_deployment.log_tail())
        print("--- postgres.log\n" + "\n".join(postgres.log().splitlines()[-40:]))


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans in progress at the same moment."""
    # At equal times an end comes before a start: back-to-back spans do not overlap.
    edges = sorted([(end, -1) for _, end in spans] + [(start, 1) for start, _ in spans])
    return max(itertools.accumulate(change for _, change in edges), default=0)


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], 0),
        ([(0, 1)], 1),
        ([(0, 1), (1, 2)], 1),  # back to back
        ([(0, 2), (1, 3)], 2),
        ([(0, 10), (1, 2), (3, 4), (3.5, 5)], 3),
    ],
)
def test_most_at_once(spans, expected):
    assert most_at_once(spans) == expected


def test_without_postgresql_binaries_the_skip_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres_server, "PG_ROOT", tmp_path)
    reason = missing_reason()
    assert reason is not None and reason.endswith("apt-get install postgresql")


def step_pools() -> dict[str, str]:
    """Step key -> pool, from the code location's definitions."""
    job = defs().resolve_job_def("mirror_catalog")
    return {
        name: node.definition.pool
        for name, node in job.graph.node_dict.items()
        if node.definition.pool
    }


SET_POOL_LIMIT = """
mutation SetPoolLimit($pool: String!, $limit: Int!) {
  setConcurrencyLimit(concurrencyKey: $pool, limit: $limit)
}
"""


@pytest.mark.slow
@pytest.mark.usefixtures("explain_pg")
def test_backfill_on_postgres_storage_within_the_run_and_pool_limits(pg_deployment, postgres):
    versions = register_versions(pg_deployment)
    # The pools' rows exist before the runs: two steps claiming a pool's first slot at the same
    # moment both insert its default row on PostgreSQL, and the loser's step fails
    # (duplicate key on concurrency_limits). Same limits as dagster.yaml's default_limit.
    for pool in ("sftp", "duckdb", "s3"):
        pg_deployment.graphql(SET_POOL_LIMIT, {"pool": pool, "limit": 1})
    params = {
        "partitionNames": versions,
        "assetSelection": [{"path": [asset]} for asset in ASSETS],
        "fromFailure": False,
    }
    launched = pg_deployment.graphql(LAUNCH_BACKFILL, {"params": params})
    launched = launched["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def finished():
        status = pg_deployment.graphql(BACKFILL_STATUS, {"id": backfill_id})
        status = status["partitionBackfillOrError"]["status"]
        return status if status not in {"REQUESTED", "CANCELING"} else None

    assert wait_for(f"backfill {backfill_id}", finished, RUN_TIMEOUT, 1) == "COMPLETED_SUCCESS"
    backfill_runs = runs(pg_deployment, tags=[{"key": "dagster/backfill", "value": backfill_id}])
    by_version = {tags(run)["dagster/partition"]: run["runId"] for run in backfill_runs}
    assert sorted(by_version) == versions and len(backfill_runs) == 2
    for version, run_id in by_version.items():
        assert_version_materialised(pg_deployment, version, run_id)

    # What the webserver showed came from PostgreSQL: the runs, their events, the partitions.
    stored = postgres.query("SELECT run_id, status, partition, start_time, end_time FROM runs")
    assert {(run_id, status, partition) for run_id, status, partition, *_ in stored} == {
        (run_id, "SUCCESS", version) for version, run_id in by_version.items()
    }
    materialised = postgres.query(
        "SELECT run_id, partition, count(*) FROM event_logs"
        " WHERE dagster_event_type = 'ASSET_MATERIALIZATION' GROUP BY run_id, partition"
    )
    assert sorted(materialised) == sorted(
        (run_id, version, len(ASSETS)) for version, run_id in by_version.items()
    )
    partitions = postgres.query(
        "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'catalog_version'"
    )
    assert sorted(p for (p,) in partitions) == versions

    # The limits of the shipped dagster.yaml held: no more runs in progress at once than
    # max_concurrent_runs, no more steps of a pool at once than its slots.
    concurrency = project_instance_config()["concurrency"]
    run_spans = [(start, end) for *_, start, end in stored]
    assert all(start < end for start, end in run_spans)
    assert 1 <= most_at_once(run_spans) <= concurrency["runs"]["max_concurrent_runs"]

    steps = postgres.query(
        "SELECT run_id, step_key, dagster_event_type,"
        " extract(epoch from timestamp)::float8 FROM event_logs"
        " WHERE dagster_event_type IN ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE')"
    )
    times: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for run_id, step_key, event_type, timestamp in steps:
        times[run_id, step_key]["start" if event_type == "STEP_START" else "end"] = timestamp
    pools = step_pools()
    assert set(pools.values()) == {"sftp", "duckdb", "s3"}
    spans_by_pool: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (_, step_key), span in times.items():
        if step_key in pools:
            spans_by_pool[pools[step_key]].append((span["start"], span["end"]))
    assert {pool: len(spans) for pool, spans in spans_by_pool.items()} == {
        "sftp": 2,
        "duckdb": 6,
        "s3": 2,
    }
    slots = concurrency["pools"]["default_limit"]
    for pool, spans in spans_by_pool.items():
        assert most_at_once(spans) <= slots, pool
    # The pools' limits are kept in PostgreSQL too, where the runs claimed their slots.
    limits = dict(postgres.query('SELECT concurrency_key, "limit" FROM concurrency_limits'))
    assert limits == {"sftp": slots, "duckdb": slots, "s3": slots}
