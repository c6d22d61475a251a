"""Fingerprints that decide whether a datastore must be rebuilt.

The fetch stage records a SHA-256 digest of every staged input file in `status/inputs.json`
(re-hashing a file only when its size or modification time changed). A stage's fingerprint of a
datastore combines the digests of the inputs it reads, the stage's code version and the settings
that shape its output: when it matches the fingerprint of the last good build, the build is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mirror_assets.files import write_json

INPUTS_FILE = "inputs.json"


@dataclass(frozen=True)
class InputDigest:
    size: int
    mtime_ns: int
    sha256: str


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def load_input_digests(status_dir: Path) -> dict[str, InputDigest]:
    """Digests of staged inputs, by path relative to the version's raw folder."""
    path = status_dir / INPUTS_FILE
    if not path.is_file():
        return {}
    return {k: InputDigest(**v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def record_input_digests(
    raw_dir: Path, relpaths: Iterable[str], status_dir: Path, keep_others: bool
) -> dict[str, InputDigest]:
    """Digest the staged files `relpaths` (reusing a digest whose size and mtime still match)
    and save them; `keep_others` keeps the recorded digests of files not listed."""
    known = load_input_digests(status_dir)
    digests = dict(known) if keep_others else {}
    for relpath in relpaths:
        stat = (raw_dir / relpath).stat()
        cached = known.get(relpath)
        if cached and cached.size == stat.st_size and cached.mtime_ns == stat.st_mtime_ns:
            digests[relpath] = cached
        else:
            digests[relpath] = InputDigest(
                stat.st_size, stat.st_mtime_ns, sha256_file(raw_dir / relpath)
            )
    write_json(status_dir / INPUTS_FILE, {k: asdict(v) for k, v in sorted(digests.items())})
    return digests


def fingerprint(stage: str, code_version: str, inputs: list[str], settings: dict[str, Any]) -> str:
    """A stable digest of what a stage's output for one datastore depends on."""
    document = {"stage": stage, "code": code_version, "inputs": inputs, "settings": settings}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_fingerprint(
    digests: dict[str, InputDigest],
    relpaths: list[str],
    stage: str,
    code_version: str,
    settings: dict[str, Any],
) -> str:
    """The build fingerprint of a stage reading `relpaths`; KeyError when one was never digested."""
    return fingerprint(stage, code_version, [digests[p].sha256 for p in relpaths], settings)
