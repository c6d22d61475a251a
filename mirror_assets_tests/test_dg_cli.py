"""Dagster's own `dg` CLI on this project ([tool.dg] in pyproject.toml), run as users run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mirror_assets.defs.checks import mirror_checks

ROOT = Path(__file__).resolve().parents[1]
DG = shutil.which("dg", path=str(Path(sys.executable).parent)) or shutil.which("dg")

pytestmark = pytest.mark.skipif(
    DG is None, reason="dg is not installed (dagster-dg-cli, a dependency: pip install -e .)"
)

ASSETS = {
    "raw_catalog",
    "metacatalog",
    "datastore_specs",
    "datastore_sidecars",
    "partitioned_datastores",
    "published_catalog",
}
CHECKS = {
    f"{key.asset_key.to_user_string()}:{key.name}"
    for checks in mirror_checks
    for key in checks.check_keys
}


@pytest.fixture(scope="module")
def dg_env(tmp_path_factory) -> dict[str, str]:
    """A throwaway DAGSTER_HOME with the project's dagster.yaml, no MIRROR_* settings."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRROR_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(home), NO_COLOR="1")
    return env


def dg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DG, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_dg_check_defs_loads_the_code_location(dg_env):
    result = dg(dg_env, "check", "defs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully." in result.stdout + result.stderr


def test_dg_list_defs_lists_the_assets_checks_job_and_sensor(dg_env):
    result = dg(dg_env, "list", "defs", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {asset["asset_key"] for asset in listed["assets"]} == ASSETS
    assert {check["key"] for check in listed["asset_checks"]} == CHECKS
    assert [job["name"] for job in listed["jobs"]] == ["mirror_catalog"]
    assert [sensor["name"] for sensor in listed["sensors"]] == ["new_catalog_versions"]
    # The table a person reads names them too.
    table = dg(dg_env, "list", "defs", "--columns", "key")
    assert table.returncode == 0, table.stderr
    for name in [*ASSETS, "mirror_catalog", "new_catalog_versions"]:
        assert name in table.stdout
