"""A user in a real browser (Debian's Chromium driven by Playwright) materialises a version.

Screenshots go to test-artifacts/ui/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror_assets_tests.ui.conftest import ROOT, RUN_TIMEOUT, STARTUP_TIMEOUT
from mirror_assets_tests.ui.queries import RUNS, tags

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("explain")]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium's own connections are refused here and stall.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
UI_TIMEOUT_MS = STARTUP_TIMEOUT * 1000
RUN_TIMEOUT_MS = RUN_TIMEOUT * 1000


@pytest.fixture(scope="module")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def page(deployment) -> Iterator[sync_api.Page]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package (.ci/run does) "
            "or point CHROMIUM at a Chromium binary to run the browser test"
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Wide enough that the lineage graph (four columns since specs follow the partitioned
        # layout) is drawn at a zoom that shows each asset's card, partitions included.
        page = browser.new_page(viewport={"width": 2400, "height": 1200})
        page.set_default_timeout(UI_TIMEOUT_MS)
        sync_api.expect.set_options(timeout=UI_TIMEOUT_MS)
        # A fresh instance greets the first visitor with a newsletter dialog a second after a
        # page loads, which can land on top of another dialog: mark it seen on the server, as
        # its Skip button does, so it never shows.
        deployment.graphql("mutation SetNuxSeen { setNuxSeen }")
        try:
            yield page
        finally:
            browser.close()


def test_materialise_a_version_by_clicking(deployment, versions, page, artifacts):
    version = versions[0]
    expect = sync_api.expect

    # The asset graph: every asset with its kinds, and the version partitions.
    page.goto(f"{deployment.url}/asset-groups")
    expect(page.get_by_text("published_catalog", exact=True).last).to_be_visible()
    expect(page.get_by_text(f"{len(versions)} partitions")).to_have_count(6)
    for kind in ("sftp", "DuckDB", "S3"):
        expect(page.get_by_text(kind, exact=True).first).to_be_visible()
    page.screenshot(path=artifacts / "01-asset-graph.png")

    # The partitions view of the published catalog lists the versions.
    page.goto(f"{deployment.url}/assets/published_catalog?view=partitions")
    for key in versions:
        expect(page.get_by_text(key, exact=True).first).to_be_visible()
    page.screenshot(path=artifacts / "02-partitions.png")

    # Materialise every asset for one version from the graph's launch dialog.
    page.goto(f"{deployment.url}/asset-groups")
    expect(page.get_by_text(f"{len(versions)} partitions")).to_have_count(6)
    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_text(version, exact=True).first.click()
    page.keyboard.press("Escape")
    expect(page.get_by_placeholder("Filter partitions")).to_be_hidden()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "03-launch-dialog.png")
    with page.expect_response(lambda r: "op=LaunchPipelineExecution" in r.url) as launched:
        dialog.get_by_role("button", name="Launch 1 run").click()
    answer = launched.value.json()["data"]["launchPipelineExecution"]
    assert answer["__typename"] == "LaunchRunSuccess", answer
    run_id = answer["run"]["id"]

    # The run page turns to Success once the daemon has run it.
    page.goto(f"{deployment.url}/runs/{run_id}")
    expect(page.get_by_text(f"partition: {version}")).to_be_visible()
    expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=artifacts / "04-run-succeeded.png")
    [run] = deployment.graphql(RUNS, {"filter": {"runIds": [run_id]}})["runsOrError"]["results"]
    assert run["status"] == "SUCCESS"
    assert tags(run)["dagster/partition"] == version

    # The version's page on an asset shows the per-datastore table of that materialisation.
    page.goto(f"{deployment.url}/assets/partitioned_datastores?view=partitions&partition={version}")
    expect(page.get_by_text(run_id[:8]).first).to_be_visible()
    expect(page.get_by_text("partition_columns", exact=True)).to_be_visible()
    expect(page.get_by_text("cmip6_oi10", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "05-partition-metadata.png")
