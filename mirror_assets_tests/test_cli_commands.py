"""`mirror-catalog`'s subcommands: help, the default `run`, and no Dagster outside `run`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mirror_assets.state.version_lock import version_lock
from mirror_assets_tests.cli_runner import cli_env, run_cli, run_cli_on_pty

COMMANDS = ["run", "backfill", "fetch", "publish", "list", "status", "verify"]
SAMPLE_DATASTORES = [
    "barpa_py18", "by473", "cmip5_al33", "cmip6_oi10", "era5_rt52", "esmvaltool-obs-ct11",
]  # fmt: skip

# Runs mirror-catalog as `python -m mirror_assets.cli` would, then says on stderr, at exit,
# whether any Dagster module was loaded.
REPORTS_DAGSTER = """
import atexit, runpy, sys
atexit.register(lambda: print(
    "dagster imported: " + str(any(m.split(".")[0] == "dagster" for m in sys.modules)),
    file=sys.stderr,
))
sys.argv = ["mirror-catalog", *sys.argv[1:]]
runpy.run_module("mirror_assets.cli", run_name="__main__")
"""


def run_reporting_dagster(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, bool]:
    result = subprocess.run(
        [sys.executable, "-c", REPORTS_DAGSTER, *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Not necessarily the last line: the interpreter may still warn while it shuts down.
    reports = [line for line in result.stderr.splitlines() if line.startswith("dagster imported: ")]
    assert len(reports) == 1, result.stderr
    return result, reports[0] == "dagster imported: True"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where v2025-01-29 was mirrored the old way (no command): `stage/` and `out/`."""
    work = tmp_path_factory.mktemp("built")
    result = run_cli(
        "--catalog-version", "v2025-01-29", "--staging", "stage", "--dest", "out", cwd=work
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((work / "out" / "versions.json").read_text())["current"] == "v2025-01-29"
    (work / "first-run.txt").write_text(result.stdout)
    (work / "first-run.err").write_text(result.stderr)
    return work


def test_run_prints_progress_lines_off_a_terminal(built):
    """Per datastore: done of total and the stage's elapsed time; per stage: when it is done."""
    progress = [
        line for line in (built / "first-run.err").read_text().splitlines()
        if line.startswith("progress: ")
    ]  # fmt: skip
    sidecars = [line for line in progress if line.startswith("progress: sidecars ")]
    assert [line.split()[2] for line in sidecars[:-1]] == [f"{n}/6" for n in range(1, 7)]
    assert re.fullmatch(r"progress: sidecars 1/6 \(\S+ ok\), \d+\.\d s", sidecars[0])
    assert re.fullmatch(
        r"progress: sidecars done in \d+\.\d s \(6/6 datastores; 6 ok\)", sidecars[-1]
    )
    stages = [line.split()[1] for line in progress if " done in " in line]
    assert sorted(stages) == sorted(
        ["fetch", "metacatalog", "specs", "sidecars", "partitioned", "publish"]
    )
    assert stages[0] == "fetch" and stages[-1] == "publish"


def test_run_on_a_terminal_shows_bars_and_a_rich_table(built):
    returncode, text = run_cli_on_pty(
        "--catalog-version", "v2025-01-29", "--staging", "stage", "--dest", "out", cwd=built
    )
    assert returncode == 0, text
    assert re.search(r"partitioned +━+ +6/6 \d+:\d\d:\d\d", text)
    assert "progress: " not in text  # bars instead of lines
    assert "┃ datastore" in text
    assert re.search(r"│ by473 +│ unchanged │ +7 │ 18726 │", text)


def test_run_ends_with_a_table_of_the_datastores(built):
    """Off a terminal: plain aligned lines, rows and bytes from the run's events."""
    lines = (built / "first-run.txt").read_text().splitlines()
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert list(rows) == SAMPLE_DATASTORES
    assert {r[1] for r in rows.values()} == {"ok"}
    assert rows["by473"][2:4] == ["7", "18726"]
    assert all(float(r[4]) > 0 for r in rows.values())
    # Numbers are aligned right, under the end of their header.
    end = lines[1].index(" rows") + len(" rows")
    assert all(line[:end].split()[-1] == line.split()[2] for line in lines[2:])


def test_help_lists_the_commands(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = [
        line.split()[0]
        for line in result.stdout.split("commands:")[1].splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    ]
    assert listed == COMMANDS
    assert "--catalog-version" in result.stdout  # run's flags work without the command


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_help(tmp_path, command):
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: mirror-catalog {command} ")


def test_unknown_command_is_a_usage_error(tmp_path):
    result = run_cli("mirror", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "invalid choice: 'mirror'" in result.stderr


def test_run_command_is_the_default(built):
    """`run --catalog-version V` is the old invocation; re-running finds everything unchanged."""
    result = run_cli(
        "run", "--catalog-version", "v2025-01-29", "--staging", "stage", "--dest", "out",
        cwd=built,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "0 uploaded" in result.stderr
    # The table the run ends with: every datastore unchanged, nothing spent on it.
    lines = result.stdout.splitlines()
    assert lines[:2] == ["v2025-01-29:", lines[1]]
    assert lines[1].split() == [
        "datastore", "state", "rows", "bytes", "seconds", "stage", "file", "cause"
    ]  # fmt: skip
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == SAMPLE_DATASTORES
    assert {tuple(r[1:2]) + (len(r),) for r in rows} == {("unchanged", 4)}


def test_list_command_and_the_old_list_flag_agree(built):
    new, new_dagster = run_reporting_dagster("list", "--dest", "out", cwd=built)
    old, old_dagster = run_reporting_dagster("--list", "--dest", "out", cwd=built)
    assert new.returncode == old.returncode == 0, new.stderr + old.stderr
    assert new.stdout == old.stdout == "v2025-02-28\nv2025-01-29\tarchived (current)\n"
    assert not new_dagster and not old_dagster


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--dest", "out"],
        ["verify", "--dest", "out"],
        ["verify", "--dest", "out", "--catalog-version", "v2025-01-29"],
        ["fetch", "--catalog-version", "v2025-02-28", "--staging", "stage"],
        ["publish", "--catalog-version", "v2025-01-29", "--staging", "stage", "--dest", "copy"],
        ["publish", "--catalog-version", "v2025-01-29", "--staging", "stage", "--dry-run"],
    ],
    ids=["status", "verify", "verify-archive", "fetch", "publish", "publish-dry-run"],
)
def test_commands_other_than_run_import_no_dagster(built, args):
    result, dagster = run_reporting_dagster(*args, cwd=built)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not dagster


def test_run_imports_dagster(built):
    """The wrapper does see Dagster when it is loaded (so the test above means something)."""
    result, dagster = run_reporting_dagster(
        "--catalog-version", "v2025-01-29", "--staging", "stage", "--dest", "out", "-q",
        cwd=built,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert dagster


@pytest.mark.parametrize(
    "args",
    [
        ["fetch", "--catalog-version", "v2025-01-29", "--staging", "stage"],
        ["publish", "--catalog-version", "v2025-01-29", "--staging", "stage", "--dest", "locked"],
    ],
    ids=["fetch", "publish"],
)
def test_fetch_and_publish_refuse_while_the_version_is_locked(built, args):
    """Another process (here: this test) holds the version's staging lock, as a run does."""
    with version_lock(built / "stage" / "v2025-01-29", "run 1234"):
        result = run_cli(*args, cwd=built)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "run 1234" in line and ".lock" in line, line
    assert not (built / "locked").exists()
