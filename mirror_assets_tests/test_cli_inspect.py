"""`mirror-catalog status` and `verify` against a folder and moto's S3 server, as subprocesses.

Both versions of the sample are mirrored once (module fixture); each test works on a copy of the
destination, or publishes the staged builds to a fresh bucket, and damages it as a test needs.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from mirror_assets_tests.cli_runner import run_cli, run_cli_on_pty, s3_cli_env
from mirror_assets_tests.servers.fixtures import direct_client

VERSIONS = ["v2025-01-29", "v2025-02-28"]


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `out/` (both versions published, v2025-02-28 current) and `stage/`."""
    work = tmp_path_factory.mktemp("mirrored")
    for version in VERSIONS:
        result = run_cli(
            "--catalog-version", version, "--dest", "out", "--staging", "stage", "-q", cwd=work
        )
        assert result.returncode == 0, result.stderr
    return work


@pytest.fixture
def dest(mirrored: Path, tmp_path: Path) -> Path:
    """A copy of the published folder this test may damage."""
    copy = tmp_path / "out"
    shutil.copytree(mirrored / "out", copy)
    return copy


def _replace(path: Path, data: bytes) -> None:
    """A new file, not a write into the old one (which may be a hard link into staging)."""
    path.unlink()
    path.write_bytes(data)


def test_status_lists_the_published_versions_and_the_current_one(dest, tmp_path):
    result = run_cli("status", "--dest", str(dest), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{dest}:"
    assert lines[1].split() == [
        "version", "hidden", "published", "datastores", "rows", "bytes", "state",
    ]  # fmt: skip
    index = json.loads((dest / "versions.json").read_text())
    newest, older = index["versions"]
    assert lines[2].split() == [
        "v2025-02-28", newest["published"], "7", str(newest["rows"]), str(newest["bytes"]),
        "current",
    ]  # fmt: skip
    assert lines[3].split() == [
        "v2025-01-29",
        older["published"],
        "6",
        str(older["rows"]),
        str(older["bytes"]),
    ]
    assert lines[4:] == ["current: v2025-02-28"]


def test_status_shows_a_promotion_in_progress_and_hidden_versions(dest, tmp_path):
    index = json.loads((dest / "versions.json").read_text())
    index["versions"][0]["hidden"] = True
    index["versions"][1]["promotable"] = False
    index |= {"current": "v2025-01-29", "promoting": "v2025-02-28"}
    (dest / "versions.json").write_text(json.dumps(index))

    result = run_cli("status", "--dest", str(dest), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:4]}
    assert rows["v2025-02-28"].split()[1] == "yes"
    assert rows["v2025-02-28"].endswith("promoting")
    assert rows["v2025-01-29"].endswith("current, partial")
    assert "promoting: v2025-02-28 is being copied to the root (current is still v2025-01-29)" in (
        result.stdout
    )


def test_status_of_an_empty_destination(tmp_path):
    result = run_cli("status", "--dest", str(tmp_path / "none"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "no version published"


def test_verify_a_whole_root_and_archive(dest, tmp_path):
    root_files = [p for p in (dest / "source").rglob("*") if p.is_file()]
    root_files.append(dest / "metacatalog.parquet")
    size = sum(p.stat().st_size for p in root_files)

    root = run_cli("verify", "--dest", str(dest), cwd=tmp_path)

    assert root.returncode == 0, root.stdout + root.stderr
    assert root.stdout.splitlines() == [
        f"{dest}: root (v2025-02-28): whole (7 datastores, {len(root_files)} objects "
        f"({size} bytes), 7 catalog files, 7 metacatalog names)"
    ]
    archive = run_cli(
        "verify", "--dest", str(dest), "--catalog-version", "v2025-01-29", cwd=tmp_path
    )
    assert archive.returncode == 0, archive.stdout + archive.stderr
    assert archive.stdout.startswith(f"{dest}: versions/v2025-01-29/: whole (6 datastores")


def test_verify_reports_each_damaged_root_object_by_key(dest, tmp_path):
    (dest / "source" / "by473.parquet").unlink()  # deleted
    (dest / "source" / "by473.json").unlink()
    uniqs = dest / "source" / "cmip6_oi10_uniqs.parquet"
    _replace(uniqs, uniqs.read_bytes() + b"x")  # changed
    (dest / "source" / "stray.parquet").write_bytes(b"")  # not the current version's

    result = run_cli("verify", "--dest", str(dest), cwd=tmp_path)

    assert result.returncode == 1
    problems = result.stdout.splitlines()
    assert [p.split(":")[0] for p in problems] == [
        "source/by473.json",
        "source/by473.parquet",
        "source/cmip6_oi10_uniqs.parquet",
        "source/stray.parquet",
        "metacatalog.parquet",
    ]
    assert problems[0].startswith("source/by473.json: missing (v2025-02-28's manifest records")
    assert "; v2025-02-28's manifest records" in problems[2]
    assert problems[3] == "source/stray.parquet: not named by v2025-02-28's manifest"
    assert problems[4] == "metacatalog.parquet: names by473, which is not at the root"
    assert "root (v2025-02-28): 5 problem(s)" in result.stderr


def test_verify_an_archive_whose_spec_points_at_nothing(dest, tmp_path):
    archive = dest / "versions" / "v2025-01-29"
    spec_path = archive / "source" / "era5_rt52.json"
    spec = json.loads(spec_path.read_text())
    spec["catalog_file"] = spec["catalog_file"].replace("era5_rt52", "era5_gone")
    _replace(spec_path, json.dumps(spec).encode())
    (archive / "source" / "by473_metadata.json").unlink()

    result = run_cli(
        "verify", "--dest", str(dest), "--catalog-version", "v2025-01-29", cwd=tmp_path
    )

    assert result.returncode == 1
    problems = result.stdout.splitlines()
    assert [p.split(":")[0] for p in problems] == [
        "versions/v2025-01-29/source/by473_metadata.json",
        "versions/v2025-01-29/source/era5_rt52.json",
        "versions/v2025-01-29/source/era5_rt52.json",
    ]
    assert problems[2].endswith(
        "points at nothing (versions/v2025-01-29/source/era5_gone.parquet is missing)"
    )


def test_verify_an_archive_made_before_manifests(dest, tmp_path):
    archive = dest / "versions" / "v2025-01-29"
    (archive / "manifest.json").unlink()
    args = ["verify", "--dest", str(dest), "--catalog-version", "v2025-01-29"]

    whole = run_cli(*args, cwd=tmp_path)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert "manifest.json: none (archived before manifests)" in whole.stderr
    assert "whole (6 datastores" in whole.stdout

    (archive / "source" / "by473.parquet").unlink()
    damaged = run_cli(*args, cwd=tmp_path)
    # Without a manifest a missing datastore cannot be told from an external entry: noted only.
    assert damaged.returncode == 0
    assert "names without a datastore in versions/v2025-01-29/ " in damaged.stderr
    assert damaged.stderr.rstrip().endswith(": by473")


def test_verify_a_version_not_archived_exits_1(dest, tmp_path):
    result = run_cli(
        "verify", "--dest", str(dest), "--catalog-version", "v2030-01-01", cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stdout == "versions/v2030-01-01/: nothing archived for v2030-01-01\n"
    bad = run_cli("verify", "--catalog-version", "2030-01-01", cwd=tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1


@pytest.mark.slow
def test_status_and_verify_on_s3(mirrored, moto_endpoint, tmp_path):
    """Publish the staged builds to moto (`publish`, no Dagster), then damage the bucket."""
    bucket = f"verify-{uuid.uuid4().hex[:8]}"
    env = s3_cli_env(moto_endpoint)
    where = ["--dest", f"s3://{bucket}/mirror", "--endpoint-url", moto_endpoint.endpoint_url]
    for version in VERSIONS:
        published = run_cli(
            "publish", "--catalog-version", version, "--staging", str(mirrored / "stage"),
            *where, cwd=tmp_path, env=env,
        )  # fmt: skip
        assert published.returncode == 0, published.stderr

    status = run_cli("status", *where, cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert [line.split()[0] for line in status.stdout.splitlines()[2:]] == [
        "v2025-02-28", "v2025-01-29", "current:",
    ]  # fmt: skip
    whole = run_cli("verify", *where, cwd=tmp_path, env=env)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert "root (v2025-02-28): whole (7 datastores, 29 objects" in whole.stdout

    client = direct_client(moto_endpoint)

    def read(key: str) -> bytes:
        return client.get_object(Bucket=bucket, Key=f"mirror/{key}")["Body"].read()

    manifest = json.loads(read("versions/v2025-02-28/manifest.json"))
    by473 = manifest["datastores"]["by473"]["objects"]["source/by473.parquet"]
    older = json.loads(read("versions/v2025-01-29/manifest.json"))
    by473_spec = older["datastores"]["by473"]["objects"]["source/by473.json"]
    client.delete_object(Bucket=bucket, Key="mirror/source/by473.parquet")
    client.put_object(Bucket=bucket, Key="mirror/source/cmip6_oi10_metadata.json", Body=b"{}")
    # The archived metacatalog now names a datastore the archive does not hold.
    client.delete_object(Bucket=bucket, Key="mirror/versions/v2025-01-29/source/by473.json")

    root = run_cli("verify", *where, cwd=tmp_path, env=env)
    assert root.returncode == 1
    problems = root.stdout.splitlines()
    assert problems[0] == (
        f"source/by473.parquet: missing (v2025-02-28's manifest records {by473['size']} bytes)"
    )
    assert problems[1].startswith(
        "source/cmip6_oi10_metadata.json: 2 bytes, ETag 99914b932bd37a50b983c5e7c90ae93b; "
    )
    assert problems[2].startswith("source/by473.json: catalog_file https://")
    assert problems[2].endswith(
        "/source/by473.parquet points at nothing (source/by473.parquet is missing)"
    )
    assert problems[3:] == ["metacatalog.parquet: names by473, which is not at the root"]

    archive = run_cli("verify", *where, "--catalog-version", "v2025-01-29", cwd=tmp_path, env=env)
    assert archive.returncode == 1
    assert archive.stdout.splitlines() == [
        "versions/v2025-01-29/source/by473.json: missing (v2025-01-29's manifest records "
        f"{by473_spec['size']} bytes)",
        "versions/v2025-01-29/metacatalog.parquet: names by473, which is not in "
        "versions/v2025-01-29/",
    ]


def test_status_on_a_terminal_is_a_rich_table(dest, tmp_path):
    """On a pseudo-terminal the same rows come as a rich table (box-drawn, no plain header line)."""
    returncode, text = run_cli_on_pty("status", "--dest", str(dest), cwd=tmp_path)
    assert returncode == 0, text
    assert "┃ version" in text or "│ version" in text
    assert re.search(r"│ v2025-02-28 +│ +│ \S+ +│ +7 │", text)
    assert "current: v2025-02-28" in text
