import pytest

from mirror_assets.state.run_scope import RunOptionsError, RunScope, parse_datastore_list
from mirror_assets.store.invariants import duplicate_names, unpaired_names


def test_parse_datastore_list():
    assert parse_datastore_list(" by473, cmip6_oi10,by473,") == ["by473", "cmip6_oi10"]
    with pytest.raises(RunOptionsError, match="expected comma-separated datastore names"):
        parse_datastore_list(" , ")


def test_run_scope():
    assert RunScope.of(None).take(["a", "b"]) == ["a", "b"]
    assert not RunScope.of([]).limited
    limited = RunScope.of(["b", "z"])
    assert limited.limited and limited.take(["a", "b"]) == ["b"]
    assert limited.describe() == "b, z"


def test_name_checks():
    assert duplicate_names(["a", "b", "a", "c", "b"]) == ["a", "b"]
    assert unpaired_names(["a", "era5_rt52"], ["a", "b"]) == (["era5_rt52"], ["b"])
