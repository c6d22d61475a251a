"""Atomic local writes: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def replace_atomically(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on success it replaces `dest` (file or folder)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_dir() and dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            _remove(old)
            dest.rename(old)
            tmp.rename(dest)
            _remove(old)
        else:
            if dest.is_dir():
                _remove(dest)
            os.replace(tmp, dest)
    finally:
        _remove(tmp)


def write_json(dest: Path, document: Any) -> None:
    """Write `document` as indented UTF-8 JSON, atomically."""
    with replace_atomically(dest) as tmp:
        tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def tree_files(root: Path) -> list[Path]:
    """Every regular file under `root` (or `root` itself if it is a file), sorted."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file())
