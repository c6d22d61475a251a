import json

import pytest

from mirror_assets.errors import DatastoreError
from mirror_assets.transforms.specs import built_catalog_url, public_catalog_url, rewrite_spec

BASE = "https://object-store.example/v1/AUTH_x/catalog"


def test_catalog_file_rewritten_and_everything_else_kept(tmp_path):
    src = tmp_path / "cmip6_oi10.json"
    original = {
        "esmcat_version": "0.1.0",
        "id": "cmip6_oi10",
        "catalog_file": "/g/data/xp65/public/apps/catalog/v2025-02-28/source/cmip6_oi10.parquet",
        "attributes": [{"column_name": "realm"}],
        "description": "CMIP6 – replicas ✓",
    }
    src.write_text(json.dumps(original))
    dest = tmp_path / "out" / "cmip6_oi10.json"
    url = public_catalog_url(BASE + "/", "cmip6_oi10")
    rewrite_spec(src, dest, url)
    written = json.loads(dest.read_text(encoding="utf-8"))
    assert url == f"{BASE}/source/cmip6_oi10.parquet"
    assert written == {**original, "catalog_file": url}
    assert list(written) == list(original)
    assert "✓" in dest.read_text(encoding="utf-8")


def test_archived_url_has_the_version_prefix():
    assert public_catalog_url(BASE, "by473", "versions/v2025-02-28/") == (
        f"{BASE}/versions/v2025-02-28/source/by473.parquet"
    )


def test_a_hive_folder_url_ends_in_a_slash(tmp_path):
    assert public_catalog_url(BASE, "cj877", "versions/v2026-09-01/", folder=True) == (
        f"{BASE}/versions/v2026-09-01/source/cj877.parquet/"
    )
    folder = tmp_path / "source" / "cj877.parquet"
    (folder / "realm=ocean").mkdir(parents=True)
    single = tmp_path / "source" / "by473.parquet"
    single.write_bytes(b"PAR1")
    assert built_catalog_url(BASE, folder) == f"{BASE}/source/cj877.parquet/"
    assert built_catalog_url(BASE + "/", single, "versions/v2026-09-01/") == (
        f"{BASE}/versions/v2026-09-01/source/by473.parquet"
    )


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ('{"id": "x",', "invalid JSON"),
        ('["a list"]', "not an ESM collection spec"),
        ('{"id": "x"}', "no catalog_file key"),
    ],
)
def test_bad_specs_name_the_file_and_cause(tmp_path, content, cause):
    src = tmp_path / "bad.json"
    src.write_text(content)
    with pytest.raises(DatastoreError, match=cause) as err:
        rewrite_spec(src, tmp_path / "out.json", "https://x")
    assert str(err.value).startswith(str(src))
    assert not (tmp_path / "out.json").exists()
