"""Built files' etags remembered between publishes, keyed by path, size and mtime (as rsync does),
so re-publishing an unchanged build needs a `stat()` per file and one listing, not a re-hash."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from mirror_assets.files import write_json
from mirror_assets.store.bucket import Etags


class EtagCache:
    """`etags(path)` from the cache when size and mtime match, else computed and recorded.
    Entries are only valid for one `scheme` (how the store computes etags)."""

    def __init__(self, path: Path | None, scheme: str, compute: Callable[[Path], Etags]):
        self.path, self.scheme, self.compute = path, scheme, compute
        self.entries: dict[str, list] = {}
        self.seen: set[str] = set()
        self.dirty = False
        self._lock = threading.Lock()
        if path and path.is_file():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                saved = {}
            if isinstance(saved, dict) and saved.get("scheme") == scheme:
                self.entries = saved.get("files", {})

    def etags(self, path: Path) -> Etags:
        stat = path.stat()
        key = str(path)
        with self._lock:
            self.seen.add(key)
            hit = self.entries.get(key)
        if hit and hit[0] == stat.st_size and hit[1] == stat.st_mtime_ns:
            return Etags(stat.st_size, frozenset(hit[2]))
        printed = self.compute(path)
        with self._lock:
            self.entries[key] = [stat.st_size, stat.st_mtime_ns, sorted(printed.etags)]
            self.dirty = True
        return printed

    def save(self) -> None:
        """Keep the files seen this time only; written atomically, and only when changed."""
        if not self.path:
            return
        kept = {k: v for k, v in self.entries.items() if k in self.seen}
        if self.dirty or len(kept) != len(self.entries):
            write_json(self.path, {"scheme": self.scheme, "files": kept})
