"""Materialisation metadata: durations, per-datastore seconds and clickable URLs."""

import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import dagster as dg

from mirror_assets.config.settings import load_settings
from mirror_assets.definitions import build_resources
from mirror_assets.defs.assets import mirror_assets
from mirror_assets.defs.metadata import duration_since, outcome_metadata, timed
from mirror_assets.defs.partitions import catalog_versions
from mirror_assets.state.outcomes import run_each
from mirror_assets.store.destinations import LocalObjectStore, ObjectStore

VERSION = "v2025-01-29"


def test_timed_adds_the_seconds_each_datastore_took():
    def work(name):
        time.sleep(0.05 if name == "slow" else 0)
        return {"rows": 3}

    outcomes = run_each("test", ["fast", "slow"], timed(work))
    seconds = {o.name: o.metrics["seconds"] for o in outcomes}
    assert seconds["slow"] >= 0.05 > seconds["fast"]
    metadata = outcome_metadata(outcomes, {"rows": int, "seconds": float})
    assert metadata["total_rows"] == 6
    assert "total_seconds" not in metadata
    columns = {c.name: c.type for c in metadata["datastores"].schema.columns}
    assert columns["seconds"] == "float"


def test_duration_since_is_a_float_in_seconds():
    start = time.perf_counter() - 1.5
    assert 1.5 <= duration_since(start).value < 60


def test_object_urls_point_at_the_file_locally_and_below_the_public_url_otherwise(tmp_path):
    store = LocalObjectStore(root=str(tmp_path / "out"))
    url = store.object_url("versions/.v2025-01-01/metacatalog.parquet", "https://x.example/c")
    assert url == (tmp_path / "out/versions/.v2025-01-01/metacatalog.parquet").as_uri()
    # Stores served over HTTP (S3) inherit the public URL.
    base = ObjectStore.object_url(store, "versions.json", "https://x.example/c/")
    assert base == "https://x.example/c/versions.json"


def test_every_asset_reports_its_duration_and_published_urls_open_the_files(tmp_path):
    settings = load_settings(
        overrides={"dest": str(tmp_path / "dest"), "staging": str(tmp_path / "staging")},
        environ={},
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(catalog_versions.name, [VERSION])
    result = dg.materialize(
        mirror_assets,
        partition_key=VERSION,
        instance=instance,
        resources=build_resources(settings),
    )
    assert result.success
    for asset in mirror_assets:
        [event] = result.asset_materializations_for_node(asset.key.path[-1])
        assert event.metadata["duration_seconds"].value >= 0
    [event] = result.asset_materializations_for_node("partitioned_datastores")
    records = event.metadata["datastores"].value.records
    assert all(r.data["seconds"] >= 0 for r in records) and len(records) == 6
    [event] = result.asset_materializations_for_node("published_catalog")
    for key, expected in [
        ("metacatalog_url", f"versions/{VERSION}/metacatalog.parquet"),
        ("versions_json_url", "versions.json"),
    ]:
        url = urlparse(event.metadata[key].value)
        assert url.scheme == "file"
        path = Path(url2pathname(url.path))
        assert path == (tmp_path / "dest" / expected).resolve()
        assert path.is_file()
