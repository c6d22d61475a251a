"""`mirror-catalog` run as a subprocess, as users and scripts run it."""

import json
import re

import pytest

from mirror_assets_tests.cli_runner import cli_env, run_cli


def summary_table(stdout: str) -> dict[str, str]:
    """The lines of the table a run ends with, by datastore."""
    lines = stdout.splitlines()
    start = lines.index(next(line for line in lines if line.split()[:2] == ["datastore", "state"]))
    assert lines[start].split() == [
        "datastore", "state", "rows", "bytes", "seconds", "stage", "file", "cause"
    ]  # fmt: skip
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return {line.split()[0]: line for line in lines[start + 1 : end]}


def test_embedded_default_mirrors_a_bundled_version_into_mirror_output(tmp_path):
    result = run_cli("--catalog-version", "v2025-01-29", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "mirror-output"
    assert json.loads((out / "versions.json").read_text())["current"] == "v2025-01-29"
    # Partitioned by the table, but of 5 rows: one object, as the web app reads it.
    assert (out / "source" / "cmip6_oi10.parquet").is_file()
    assert (out / "versions" / "v2025-01-29" / "metacatalog.parquet").is_file()
    # Progress: a line per stage and per datastore, with counts.
    assert "partitioned: by473 ok (rows=7" in result.stderr
    assert "metacatalog: 6 names" in result.stderr


def test_source_folder_and_newest_version_by_default(tmp_path, sample_catalog):
    (sample_catalog / ".v2026-01-01").mkdir()
    dest = tmp_path / "out"
    listed = run_cli("--list", "--source", str(sample_catalog), cwd=tmp_path)
    assert listed.stdout.split() == [".v2026-01-01", "v2025-02-28", "v2025-01-29"]
    result = run_cli(
        "--source",
        str(sample_catalog),
        "--dest",
        str(dest),
        "--staging",
        str(tmp_path / "stage"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((dest / "versions.json").read_text())["current"] == "v2025-02-28"
    assert not (tmp_path / "mirror-output").exists()


def test_run_shows_up_in_the_dagster_instance(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli(
        "--catalog-version", "v2025-01-29", cwd=tmp_path, env=cli_env({"DAGSTER_HOME": str(home)})
    )
    assert result.returncode == 0, result.stderr
    assert (home / "history" / "runs.db").is_file() or any(home.rglob("runs*.db"))


@pytest.mark.parametrize(
    "args",
    [
        ["--catalog-version", "v2025-13-01"],
        ["--catalog-version", "..v2000-01-01"],
        ["--catalog-version", ".2000-01-01"],
        ["--catalog-version", "2025-01-01"],
        ["--no-such-flag"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    if "--catalog-version" in args:
        assert "expected vYYYY-MM-DD" in lines[0]


def test_missing_version_exits_1_naming_the_path(tmp_path, sample_catalog):
    result = run_cli(
        "--catalog-version", "v2031-01-01", "--source", str(sample_catalog), cwd=tmp_path
    )
    assert result.returncode == 1
    assert str(sample_catalog / "v2031-01-01") in result.stderr
    assert not (tmp_path / "mirror-output").exists()


def test_failed_datastore_exits_1_and_is_listed(tmp_path, sample_catalog):
    (sample_catalog / "v2025-02-28" / "source" / "by473.json").write_text("{broken")
    result = run_cli("--source", str(sample_catalog), cwd=tmp_path)
    assert result.returncode == 1
    assert "FAILED by473 (specs):" in result.stderr
    assert "by473.json: invalid JSON" in result.stderr
    # The summary table (stdout, plain off a terminal): the failure's stage, file and cause.
    table = summary_table(result.stdout)
    assert table["by473"].split()[:2] == ["by473", "failed"]
    failed_file = tmp_path / "mirror-staging" / "v2025-02-28" / "raw" / "source" / "by473.json"
    assert re.search(rf" specs +{re.escape(str(failed_file))} +invalid JSON: ", table["by473"])
    assert {line.split()[1] for name, line in table.items() if name != "by473"} == {"ok"}


def test_datastores_flag_reruns_only_those_and_allow_partial_promotes(tmp_path, sample_catalog):
    source = sample_catalog / "v2025-02-28" / "source"
    good = (source / "by473.json").read_bytes()
    (source / "by473.json").write_text("{broken")
    (source / "era5_rt52.parquet").write_bytes(b"not parquet")
    common = ["--source", str(sample_catalog)]

    first = run_cli(*common, cwd=tmp_path)
    assert first.returncode == 1
    failed = sorted(line for line in first.stderr.splitlines() if line.startswith("FAILED"))
    assert [line.split(":")[0] for line in failed] == [
        "FAILED by473 (specs)",
        "FAILED era5_rt52 (sidecars)",
    ]
    out = tmp_path / "mirror-output"
    assert json.loads((out / "versions.json").read_text())["current"] is None

    (source / "by473.json").write_bytes(good)
    rerun = run_cli(*common, "--datastores", "by473", "--allow-partial", cwd=tmp_path)
    # era5_rt52 still fails (its earlier result is kept), so the exit status stays 1 ...
    assert rerun.returncode == 1
    assert [line.split(":")[0] for line in rerun.stderr.splitlines() if "FAILED" in line] == [
        "FAILED era5_rt52 (sidecars)"
    ]
    assert "datastore_sidecars - sidecars: by473 unchanged, not recomputed" in rerun.stderr
    states = {name: line.split()[1] for name, line in summary_table(rerun.stdout).items()}
    assert states.pop("by473") == "ok"
    assert states.pop("era5_rt52") == "failed"
    assert set(states.values()) == {"archived"}
    # ... but the version is promoted without it, as asked.
    assert json.loads((out / "versions.json").read_text())["current"] == "v2025-02-28"
    assert (out / "source" / "by473.json").is_file()
    assert not (out / "source" / "era5_rt52.json").exists()


def test_empty_datastores_flag_is_a_usage_error(tmp_path):
    result = run_cli("--datastores", " , ", cwd=tmp_path)
    assert result.returncode == 2
    assert "expected comma-separated datastore names" in result.stderr


def test_one_datastore_from_a_new_machine_loses_nothing(tmp_path):
    """The field report: an empty --staging and --datastores by473 against a destination that
    serves the version used to delete every other datastore from the archive and the root."""
    version = ["--catalog-version", "v2025-02-28", "--dest", "out"]
    assert run_cli(*version, "--staging", "machine-a", cwd=tmp_path).returncode == 0
    out = tmp_path / "out"
    before = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}

    result = run_cli(*version, "--staging", "machine-b", "--datastores", "by473", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    after = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert "0 deleted from the archive" in result.stderr
    assert "6 kept from the archive" in result.stderr


def test_list_with_a_destination_marks_the_archived_versions(tmp_path):
    assert (
        run_cli("--catalog-version", "v2025-01-29", "--dest", "out", cwd=tmp_path).returncode == 0
    )

    listed = run_cli("--list", "--dest", "out", cwd=tmp_path)

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["v2025-02-28", "v2025-01-29\tarchived (current)"]
