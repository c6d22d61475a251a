"""After a code change that bumps an asset's code_version, the UI marks materialised versions stale.

The code location here is a file in tmp_path that loads the project's definitions; the test edits
that file (bumping metacatalog's code_version) and reloads the location, as a developer would.
"""

from __future__ import annotations

import pytest

from mirror_assets_tests.ui.conftest import start_deployment
from mirror_assets_tests.ui.queries import (
    ADD_PARTITION,
    JOB_SELECTOR,
    LAUNCH_RUN,
    LOCATION,
    PARTITIONS_DEF,
    REPOSITORY_SELECTOR,
)

pytestmark = pytest.mark.slow

VERSION = "v2025-01-29"
LOCATION_FILE = """
import dagster as dg

import mirror_assets.definitions as mirror


@dg.definitions
def defs():
    return mirror.defs().map_resolved_asset_specs(
        func=lambda spec: spec.replace_attributes(code_version={code_version!r}),
        selection=["metacatalog"],
    )
"""
WORKSPACE = f"""
load_from:
  - python_file:
      relative_path: location.py
      location_name: {LOCATION}
"""
STALENESS = """
query ($partition: String!) { assetNodes {
  assetKey { path }
  staleStatus(partition: $partition)
  staleCauses(partition: $partition) { key { path } category reason }
} }
"""
RELOAD = """
mutation ($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) { __typename } }
"""


def staleness(deployment) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    nodes = deployment.graphql(STALENESS, {"partition": VERSION})["assetNodes"]
    return {
        node["assetKey"]["path"][-1]: (
            node["staleStatus"],
            {(c["key"]["path"][-1], c["category"]) for c in node["staleCauses"]},
        )
        for node in nodes
    }


def test_bumping_a_code_version_marks_that_asset_stale_for_materialised_versions(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "location.py").write_text(LOCATION_FILE.format(code_version="1"))
    (code / "workspace.yaml").write_text(WORKSPACE)
    with start_deployment(tmp_path / "deployment", code / "workspace.yaml") as deployment:
        deployment.graphql(
            ADD_PARTITION, {"selector": REPOSITORY_SELECTOR, "name": PARTITIONS_DEF, "key": VERSION}
        )
        params = {
            "selector": JOB_SELECTOR,
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": VERSION}]},
        }
        run_id = deployment.graphql(LAUNCH_RUN, {"params": params})["launchRun"]["run"]["runId"]
        assert deployment.wait_for_run(run_id) == "SUCCESS"
        before = staleness(deployment)
        assert {status for status, _ in before.values()} == {"FRESH"}, before

        (code / "location.py").write_text(LOCATION_FILE.format(code_version="2"))
        deployment.graphql(RELOAD, {"name": LOCATION})
        deployment.wait_for_location()
        after = staleness(deployment)
        assert after.pop("metacatalog") == ("STALE", {("metacatalog", "CODE")})
        # The other assets' code did not change. (Dagster does not pass a code change on to the
        # downstream partitions until metacatalog is materialised again with new data.)
        assert {status for status, _ in after.values()} == {"FRESH"}, after
