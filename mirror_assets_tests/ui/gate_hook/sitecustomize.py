"""Test-only: hold a Python process just before a chosen rename until a gate file exists.

Put this folder on PYTHONPATH and set MIRROR_GATE_PATTERN (an fnmatch pattern of the rename's
target) and MIRROR_GATE_FILE. A process about to rename onto a matching path first creates
`<MIRROR_GATE_FILE>.reached`, then waits until MIRROR_GATE_FILE exists (at most
MIRROR_GATE_TIMEOUT seconds, default 600). Every Python process started with this environment
gets the hook (a deployment's run workers too); only those that make such a write wait.
"""

import fnmatch
import os
import sys
import time

_PATTERN = os.environ.get("MIRROR_GATE_PATTERN")
_GATE = os.environ.get("MIRROR_GATE_FILE", "")
_TIMEOUT = float(os.environ.get("MIRROR_GATE_TIMEOUT", "600"))


def _hook(event, args):
    if event != "os.rename" or not isinstance(args[1], str | os.PathLike):
        return
    if not fnmatch.fnmatchcase(os.fspath(args[1]), _PATTERN):
        return
    # os.open raises the `open` audit event, not `os.rename`: no recursion.
    os.close(os.open(f"{_GATE}.reached", os.O_WRONLY | os.O_CREAT, 0o644))
    deadline = time.monotonic() + _TIMEOUT
    while not os.path.exists(_GATE) and time.monotonic() < deadline:
        time.sleep(0.1)


if _PATTERN and _GATE:
    sys.addaudithook(_hook)
