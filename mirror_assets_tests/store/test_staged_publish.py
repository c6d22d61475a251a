"""Which datastores a publish takes from the staging folder, keeps from the archive, or misses."""

from mirror_assets.state.outcomes import BUILD_STAGES, DatastoreStatus
from mirror_assets.store.archived_builds import ArchivedBuild
from mirror_assets.store.bucket import StoredObject
from mirror_assets.store.manifest import KEPT, ArchivedDatastore
from mirror_assets.store.staged_publish import MISSING_CAUSE, plan_publish

OK = dict.fromkeys(BUILD_STAGES, "ok")


def built(name, rows=5):
    return DatastoreStatus(name, OK, rows=rows)


def failed(name):
    stages = {**OK, "partitioned": "failed"}
    return DatastoreStatus(name, stages, "partitioned", f"source/{name}.parquet", "bad")


def archived(name, rows=3):
    return ArchivedDatastore({f"source/{name}.json": StoredObject(1, name)}, rows=rows)


def listing(*names):
    return {f"source/{n}.json": StoredObject(1, n) for n in names}


def states(plan):
    return {d.name: d.stages["publish"] for d in plan.picture}


def test_a_limited_run_on_an_empty_staging_folder_keeps_the_rest_archived():
    plan = plan_publish(
        [built("a")],
        at_source=["a", "b", "c"],
        selected={"a"},
        archived={n: archived(n) for n in "abc"},
        listing=listing("a", "b", "c"),
    )
    assert plan.publish == ["a"]
    assert sorted(plan.carried) == ["b", "c"]
    assert states(plan) == {"a": "ok", "b": "archived", "c": "archived"}
    assert plan.failed == [] and plan.left_out() == []
    assert plan.total_rows == 5 + 3 + 3


def test_unselected_datastores_come_from_the_archive_even_when_staged():
    plan = plan_publish(
        [built("a"), built("b")],
        at_source=["a", "b"],
        selected={"a"},
        archived={"b": archived("b")},
        listing=listing("b"),
    )
    assert plan.publish == ["a"] and list(plan.carried) == ["b"]


def test_a_staged_build_the_archive_lacks_is_published_even_unselected():
    plan = plan_publish([built("a"), built("b")], ["a", "b"], {"a"}, archived={}, listing={})
    assert plan.publish == ["a", "b"] and plan.carried == {}


def test_a_failed_rebuild_keeps_the_archived_build_and_still_counts_as_failed():
    plan = plan_publish([failed("a")], ["a"], None, {"a": archived("a")}, listing("a"))
    assert plan.carried["a"].state == KEPT
    assert plan.carried["a"].cause == "partitioned: bad"
    assert [d.name for d in plan.failed] == ["a"]
    assert plan.left_out() == []


def test_neither_built_nor_archived_is_missing_and_left_out():
    plan = plan_publish([built("a")], ["a", "b"], {"a"}, archived={}, listing={})
    assert plan.missing == ["b"]
    [missing] = plan.failed
    assert (missing.failed_stage, missing.cause) == ("publish", MISSING_CAUSE)
    assert plan.left_out() == ["b"]


def test_archived_objects_that_differ_from_the_manifest_are_not_kept():
    plan = plan_publish(
        [built("a")],
        ["a", "b"],
        {"a"},
        archived={"b": archived("b")},
        listing={"source/b.json": StoredObject(1, "tampered")},
    )
    assert plan.missing == ["b"]
    assert "differ from the manifest" in plan.failed[0].cause


def test_a_datastore_gone_from_the_source_is_dropped():
    plan = plan_publish([built("a")], ["a"], {"a"}, {"gone": archived("gone")}, listing("gone"))
    assert [d.name for d in plan.picture] == ["a"] and plan.carried == {}


def test_without_a_recorded_source_every_built_or_archived_datastore_counts():
    plan = plan_publish([built("a")], None, None, {"b": archived("b")}, listing("b"))
    assert plan.publish == ["a"] and list(plan.carried) == ["b"]


def test_a_datastore_taken_from_an_archived_build_is_published_by_copying_it():
    build = ArchivedBuild("v2025-01-01", "b", 4, {}, {"source/b.parquet": StoredObject(9, "e")})
    plan = plan_publish(
        [built("a"), built("b", rows=4)], ["a", "b"], None, {}, {}, from_archive={"b": build}
    )
    assert plan.publish == ["a"] and plan.reused == {"b": build}
    assert plan.healthy == ["a", "b"] and states(plan) == {"a": "ok", "b": "ok"}
    assert plan.total_rows == 5 + 4
