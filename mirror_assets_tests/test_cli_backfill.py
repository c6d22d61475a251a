"""`mirror-catalog backfill`: several versions, oldest first, a run each, in one process."""

from __future__ import annotations

import json

from mirror_assets_tests.cli_runner import run_cli

VERSIONS = ["v2025-01-29", "v2025-02-28"]


def backfill_table(stdout: str) -> list[list[str]]:
    """The rows of the table a backfill ends with: version, result, seconds."""
    lines = stdout.splitlines()
    start = lines.index("backfill:")
    assert lines[start + 1].split() == ["version", "result", "seconds"]
    return [line.split() for line in lines[start + 2 :]]


def test_backfill_mirrors_every_version_oldest_first_then_only_what_is_missing(
    tmp_path, sample_catalog
):
    args = ["--source", str(sample_catalog), "--staging", "stage", "--dest", "out"]
    result = run_cli("backfill", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = backfill_table(result.stdout)
    assert [r[:2] for r in rows] == [[v, "ok"] for v in VERSIONS]
    assert all(float(r[2]) > 0 for r in rows)
    # A run each, in that order, each with its own summary; the later one reuses the earlier's
    # builds (the sample's versions share every datastore but one).
    titles = [line[:-1] for line in result.stdout.splitlines() if line[:-1] in VERSIONS]
    assert titles == VERSIONS
    later = result.stdout.split(f"{VERSIONS[1]}:\n")[1].split("\nbackfill:")[0]
    states = {line.split()[0]: line.split()[1] for line in later.split("\n\n")[0].splitlines()[1:]}
    shared = sorted(n for n, state in states.items() if state == "reused")
    assert shared and len(shared) == len(states) - 1  # the sample's newer version adds one
    # ... and says, per datastore, from which version, what was not uploaded and not spent.
    title, header, *reused = later.split("\n\n")[1].splitlines()
    assert header.split() == ["datastore", "reused", "from", "bytes", "not", "uploaded",
                              "seconds", "not", "spent"]  # fmt: skip
    rows = {r.split()[0]: r.split()[1:] for r in reused}
    assert list(rows) == shared
    assert all(r[0] == VERSIONS[0] and int(r[1]) > 0 and float(r[2]) > 0 for r in rows.values())
    not_uploaded = sum(int(r[1]) for r in rows.values())
    not_spent = sum(float(r[2]) for r in rows.values())
    assert title == (
        f"reused from other versions: {len(shared)} datastore(s), {not_uploaded} bytes not "
        f"uploaded, {not_spent:.2f} s not spent:"
    )
    index = json.loads((tmp_path / "out" / "versions.json").read_text())
    assert sorted(v["version"] for v in index["versions"]) == VERSIONS
    assert index["current"] == VERSIONS[-1]
    for version in VERSIONS:
        assert (tmp_path / "out" / "versions" / version / "metacatalog.parquet").is_file()

    again = run_cli("backfill", "--missing", *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "mirror-catalog: backfill: every version is archived already; nothing to do"
    ]


def test_a_failed_version_does_not_stop_the_others(tmp_path, sample_catalog):
    """The older version's metacatalog is broken: it fails, the newer one is still mirrored,
    and the exit status says a version failed."""
    (sample_catalog / VERSIONS[0] / "metacatalog.parquet").write_bytes(b"not parquet")
    result = run_cli(
        "backfill", *VERSIONS, "--source", str(sample_catalog), "--staging", "stage",
        "--dest", "out", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert [r[:2] for r in backfill_table(result.stdout)] == [
        [VERSIONS[0], "FAILED"], [VERSIONS[1], "ok"]
    ]  # fmt: skip
    assert f"backfill: 1 of 2 version(s) failed: {VERSIONS[0]}" in result.stderr
    index = json.loads((tmp_path / "out" / "versions.json").read_text())
    assert [v["version"] for v in index["versions"]] == [VERSIONS[1]]


def test_a_version_not_at_the_source_stops_before_any_run(tmp_path, sample_catalog):
    result = run_cli(
        "backfill", VERSIONS[0], "v2031-01-01", "--source", str(sample_catalog), cwd=tmp_path
    )
    assert result.returncode == 1
    assert str(sample_catalog / "v2031-01-01") in result.stderr
    assert not (tmp_path / "mirror-output").exists()
