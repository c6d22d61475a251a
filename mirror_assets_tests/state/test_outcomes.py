import errno
import threading

import pytest

from mirror_assets.errors import DatastoreError
from mirror_assets.state.outcomes import (
    Outcome,
    StagingError,
    environment_failure,
    load_outcomes,
    run_each,
    save_outcomes,
    version_picture,
)


def test_one_failure_costs_one_datastore(tmp_path):
    def work(name):
        if name == "b":
            raise DatastoreError(tmp_path / "b.parquet", "not a readable parquet file")
        if name == "c":
            raise KeyError("surprise")
        return {"rows": 3}

    outcomes = run_each("sidecars", ["a", "b", "c"], work)
    assert [(o.name, o.ok) for o in outcomes] == [("a", True), ("b", False), ("c", False)]
    assert outcomes[1].file.endswith("b.parquet")
    assert outcomes[1].cause == "not a readable parquet file"
    assert outcomes[2].cause == "KeyError: 'surprise'"


def test_workers_start_the_costliest_first_and_report_in_name_order():
    started = []
    both_running = threading.Barrier(2, timeout=10)

    def work(name):
        started.append(name)
        if name in ("big", "mid"):
            both_running.wait()  # two at once, or this times out
        if name == "bad":
            raise DatastoreError(f"{name}.parquet", "broken")
        return {"rows": len(name)}

    sizes = {"a": 1, "big": 9, "bad": 2, "mid": 5}
    outcomes = run_each("partitioned", list(sizes), work, workers=2, cost=sizes.get)
    assert started[:2] == ["big", "mid"]
    assert [(o.name, o.ok) for o in outcomes] == [
        ("a", True),
        ("big", True),
        ("bad", False),
        ("mid", True),
    ]


def test_on_submit_runs_in_submission_order_and_its_done_runs_however_a_datastore_ends():
    """The stage queues each datastore's writers as it is submitted, and gives the places back
    when it is done: worked on, skipped as unchanged, or failed."""
    submitted, done = [], []

    def on_submit(name):
        submitted.append(name)
        return lambda: done.append(name)

    def work(name):
        if name == "bad":
            raise DatastoreError(f"{name}.parquet", "broken")
        return {"rows": 1}

    sizes = {"a": 1, "big": 9, "bad": 2, "same": 5}
    previous = {"same": Outcome("same", True, {"rows": 1}, fingerprint="f-same")}
    run_each(
        "partitioned",
        list(sizes),
        work,
        workers=2,
        cost=sizes.get,
        on_submit=on_submit,
        fingerprint=lambda n: f"f-{n}",
        previous=previous,
    )
    assert submitted == ["big", "same", "bad", "a"]
    assert sorted(done) == sorted(sizes)


def test_a_full_disk_stops_concurrent_workers_too():
    def work(name):
        raise OSError(errno.ENOSPC, "No space left on device", f"/staging/v/{name}")

    with pytest.raises(StagingError, match="No space left on device"):
        run_each("partitioned", ["a", "b", "c"], work, workers=2)


def test_unchanged_fingerprint_with_outputs_present_is_reused():
    calls = []

    def work(name):
        calls.append(name)
        return {"rows": 1}

    previous = {
        "a": Outcome("a", True, {"rows": 5}, fingerprint="f-a"),
        "b": Outcome("b", True, {"rows": 5}, fingerprint="old"),
        "c": Outcome("c", False, fingerprint="f-c"),
        "d": Outcome("d", True, {"rows": 5}, fingerprint="f-d"),
    }
    outcomes = run_each(
        "partitioned",
        ["a", "b", "c", "d"],
        work,
        fingerprint=lambda n: f"f-{n}",
        previous=previous,
        outputs_present=lambda n: n != "d",
    )
    assert calls == ["b", "c", "d"]
    assert [(o.name, o.reused, o.metrics["rows"]) for o in outcomes if o.ok] == [
        ("a", True, 5),
        ("b", False, 1),
        ("c", False, 1),
        ("d", False, 1),
    ]
    assert all(o.fingerprint == f"f-{o.name}" for o in outcomes)


def test_full_disk_stops_the_stage_naming_the_file():
    def work(name):
        raise OSError(errno.ENOSPC, "No space left on device", "/staging/v/build/x.json")

    with pytest.raises(StagingError) as caught:
        run_each("specs", ["a", "b"], work, workdir="/staging/v")
    assert str(caught.value) == "/staging/v/build/x.json: specs stopped: No space left on device"


def test_environment_failure_recognises_wrapped_messages():
    assert environment_failure(OSError(errno.EROFS, "Read-only file system")) == (
        "Read-only file system"
    )
    wrapped = DatastoreError("x.parquet", 'IO Error: Could not write "y": No space left on device')
    assert environment_failure(wrapped) == "No space left on device"
    assert environment_failure(DatastoreError("x.parquet", "not a readable parquet file")) is None


def test_limited_save_keeps_the_others(tmp_path):
    save_outcomes(tmp_path, "specs", [Outcome("a", True), Outcome("b", False, cause="bad")])
    merged = save_outcomes(tmp_path, "specs", [Outcome("b", True)], scope={"b", "c"})
    assert [(o.name, o.ok) for o in merged] == [("a", True), ("b", True)]
    assert load_outcomes(tmp_path, "specs") == merged
    replaced = save_outcomes(tmp_path, "specs", [Outcome("c", True)])
    assert [o.name for o in replaced] == ["c"]


def test_version_picture_shows_every_stage_and_the_first_failure(tmp_path):
    save_outcomes(tmp_path, "fetch", [Outcome("a", True), Outcome("b", True), Outcome("c", True)])
    save_outcomes(tmp_path, "specs", [Outcome("a", True, reused=True), Outcome("b", True)])
    save_outcomes(
        tmp_path,
        "sidecars",
        [Outcome("a", True, {"rows": 4}), Outcome("b", False, file="f", cause="x")],
    )
    save_outcomes(tmp_path, "partitioned", [Outcome("a", True, {"rows": 4})])
    picture = {d.name: d for d in version_picture(tmp_path)}
    assert picture["a"].ok and picture["a"].rows == 4
    assert picture["a"].stages == {
        "fetch": "ok",
        "specs": "unchanged",
        "sidecars": "ok",
        "partitioned": "ok",
    }
    assert (picture["b"].failed_stage, picture["b"].file, picture["b"].cause) == (
        "sidecars",
        "f",
        "x",
    )
    assert picture["b"].stages["partitioned"] == ""
    # c was fetched but no later stage took it: not healthy, and the picture says where.
    assert picture["c"].failed_stage == "specs"
