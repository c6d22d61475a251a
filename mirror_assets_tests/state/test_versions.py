import pytest

from mirror_assets.state.versions import (
    InvalidVersionError,
    newest_first,
    newest_visible,
    parse_version,
)


@pytest.mark.parametrize(
    ("key", "hidden"), [("v2025-02-28", False), (".v2025-11-06", True), ("v2000-01-01", False)]
)
def test_valid_versions(key, hidden):
    version = parse_version(key)
    assert version.key == key
    assert version.hidden is hidden


@pytest.mark.parametrize(
    "key",
    ["v2025-13-01", "..v2000-01-01", ".2000-01-01", "2025-01-01", "v2025-02-30", "v2025-2-28", ""],
)
def test_malformed_versions_name_the_expected_form(key):
    with pytest.raises(InvalidVersionError, match=r"expected vYYYY-MM-DD"):
        parse_version(key)


def test_newest_first_drops_other_names_and_orders_by_date():
    names = ["v2024-12-01", "notes", ".v2025-03-01", "v2025-02-28", "v2025-13-01"]
    assert newest_first(names) == [".v2025-03-01", "v2025-02-28", "v2024-12-01"]
    assert newest_visible(names) == "v2025-02-28"
    assert newest_visible([".v2025-03-01"]) is None
