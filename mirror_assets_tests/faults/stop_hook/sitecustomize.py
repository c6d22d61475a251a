"""Test-only: stop this Python process (SIGSTOP) just before a chosen file-system write.

Put this folder on PYTHONPATH and set MIRROR_STOP_EVENT (`os.rename`, `open` or `os.remove`),
MIRROR_STOP_PATTERN (an fnmatch pattern of the target path) and MIRROR_STOP_NTH. The process
freezes before the Nth matching operation, and so does any thread that reaches a later matching
one (transfers run concurrently); the test then kills it with a real SIGKILL. Every
Python process started with this environment gets the hook, so it works whichever process
performs the write.
"""

import fnmatch
import os
import signal
import sys
import threading

_EVENT = os.environ.get("MIRROR_STOP_EVENT")
_PATTERN = os.environ.get("MIRROR_STOP_PATTERN", "")
_NTH = int(os.environ.get("MIRROR_STOP_NTH", "1"))
_seen = 0
_lock = threading.Lock()


def _target(event, args):
    if event == "os.rename":
        return args[1]
    if event == "open":
        mode = args[1]
        return args[0] if isinstance(mode, str) and any(c in mode for c in "wax+") else None
    return args[0]


def _hook(event, args):
    global _seen
    if event != _EVENT:
        return
    target = _target(event, args)
    if not isinstance(target, str | os.PathLike):
        return
    if fnmatch.fnmatchcase(os.fspath(target), _PATTERN):
        with _lock:
            _seen += 1
            reached = _seen >= _NTH
        if reached:
            # Directed at this thread, so it stops before returning to the write; a
            # process-directed SIGSTOP may be taken by another thread while this one goes on.
            signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)


if _EVENT:
    sys.addaudithook(_hook)
