"""What `mirror-catalog` prints by default, with `-v` and with `-q` (run as a subprocess)."""

import re

from mirror_assets_tests.cli_runner import run_cli

# Lines alembic prints at INFO when Dagster opens SQLite storage.
ALEMBIC = re.compile(r"setup plugin alembic|Context impl SQLiteImpl|non-transactional DDL|stamp_")
DEBUG_EVENT = re.compile(r" - dagster - DEBUG - mirror_catalog - .* - ([A-Z_]+) - ")


def debug_events(stderr: str) -> set[str]:
    return {match[1] for match in DEBUG_EVENT.finditer(stderr)}


def test_default_prints_progress_lines_without_debug_events_or_alembic(tmp_path):
    result = run_cli("--catalog-version", "v2025-01-29", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert " - DEBUG - " not in result.stderr
    assert not ALEMBIC.search(result.stderr)
    # Every line is a stage's or a datastore's progress.
    lines = result.stderr.splitlines()
    assert sum(" - partitioned_datastores - partitioned: " in line for line in lines) == 6
    assert "partitioned: by473 ok (rows=7" in result.stderr
    assert "metacatalog: 6 names" in result.stderr
    # Beside them, the progress lines (cli/progress.py): one per datastore and per stage.
    logged = [line for line in lines if not line.startswith("progress: ")]
    assert len(logged) < 30, result.stderr
    assert len(lines) - len(logged) == 3 * 6 + 6


def test_verbose_brings_back_dagsters_event_log(tmp_path):
    result = run_cli("-v", "--catalog-version", "v2025-01-29", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {
        "RUN_START",
        "STEP_START",
        "ASSET_MATERIALIZATION",
        "ASSET_CHECK_EVALUATION",
        "STEP_SUCCESS",
        "RUN_SUCCESS",
    } <= debug_events(result.stderr)
    assert "partitioned: by473 ok (rows=7" in result.stderr
    assert not ALEMBIC.search(result.stderr)


def test_quiet_prints_only_errors_and_keeps_the_exit_status(tmp_path, sample_catalog):
    common = ["-q", "--catalog-version", "v2025-02-28", "--source", str(sample_catalog)]
    by473 = sample_catalog / "v2025-02-28" / "source" / "by473.json"
    good = by473.read_bytes()
    by473.write_text("{broken")
    failed = run_cli(*common, cwd=tmp_path)
    assert failed.returncode == 1
    # Only the error: not the warning of partition_columns_present about cordex_ig45, which the
    # same run without -q prints.
    [line] = failed.stderr.splitlines()
    assert line.startswith("FAILED by473 (specs): ")
    assert "by473.json: invalid JSON: Expecting property name" in line
    assert failed.stdout == ""

    by473.write_bytes(good)
    fixed = run_cli(*common, "--datastores", "by473", cwd=tmp_path)
    assert (fixed.returncode, fixed.stdout, fixed.stderr) == (0, "", "")


def test_verbose_and_quiet_together_are_a_usage_error(tmp_path):
    result = run_cli("-v", "-q", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "not allowed with argument" in line
