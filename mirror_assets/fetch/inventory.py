"""Which files of a version's `source/` folder make up datastores, and which are refused."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

# Production names look like cmip6_oi10, WOA-13, OM4_025.JRA_RYF, panant-01-zstar-ACCESSyr2.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
DATASTORE_SUFFIXES = (".parquet", ".json")


@dataclass(frozen=True)
class Problem:
    """A datastore (or file) left out, with the file concerned and a one-line cause."""

    name: str
    file: str
    cause: str


@dataclass
class Inventory:
    datastores: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        """The `source/`-relative file names of every complete datastore pair."""
        return [f"{n}{s}" for n in self.datastores for s in DATASTORE_SUFFIXES]


def is_safe_name(name: str) -> bool:
    """A datastore name that stays inside `source/` on every file system and object store."""
    return bool(_NAME_RE.match(name)) and ".." not in name


def classify_source_files(filenames: Iterable[str]) -> Inventory:
    """Sort `source/` entries into complete pairs, refused names and unknown files."""
    inventory = Inventory()
    kinds: dict[str, set[str]] = defaultdict(set)
    for filename in sorted(set(filenames)):
        stem, dot, suffix = filename.rpartition(".")
        if not dot or f".{suffix}" not in DATASTORE_SUFFIXES:
            inventory.ignored.append(filename)
        elif "/" in filename or "\\" in filename or not is_safe_name(stem):
            inventory.problems.append(
                Problem(stem, f"source/{filename}", "refused: unsafe datastore file name")
            )
        else:
            kinds[stem].add(f".{suffix}")
    by_folded: dict[str, list[str]] = defaultdict(list)
    for name in kinds:
        by_folded[name.casefold()].append(name)
    for name, suffixes in sorted(kinds.items()):
        twins = [n for n in by_folded[name.casefold()] if n != name]
        if twins:
            inventory.problems.append(
                Problem(
                    name, f"source/{name}.parquet", f"name differs only in case from {twins[0]}"
                )
            )
        elif len(suffixes) == 1:
            have = next(iter(suffixes))
            lacking = ".json" if have == ".parquet" else ".parquet"
            inventory.problems.append(
                Problem(
                    name, f"source/{name}{have}", f"incomplete pair: source/{name}{lacking} missing"
                )
            )
        else:
            inventory.datastores.append(name)
    return inventory
