"""The plain-Python packages never import Dagster: they run without it (CLI, benchmarks)."""

import pkgutil
import subprocess
import sys

import mirror_assets

PLAIN_PACKAGES = ["transforms", "fetch", "store", "state", "config"]


def plain_modules() -> list[str]:
    names = []
    for package in PLAIN_PACKAGES:
        prefix = f"mirror_assets.{package}"
        names.append(prefix)
        path = [f"{mirror_assets.__path__[0]}/{package}"]
        names += [m.name for m in pkgutil.walk_packages(path, prefix + ".")]
    return names


def test_every_plain_package_is_found():
    modules = plain_modules()
    assert "mirror_assets.transforms.partitioning" in modules
    assert "mirror_assets.fetch.sftp.session" in modules
    assert "mirror_assets.store.s3" in modules


def test_no_plain_module_imports_dagster():
    # A fresh interpreter: this test process has imported Dagster already.
    code = (
        "import importlib, sys\n"
        f"for name in {plain_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'dagster' in sys.modules:\n"
        "        sys.exit(f'{name} imports dagster')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
