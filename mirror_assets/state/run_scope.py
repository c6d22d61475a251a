"""What one run is asked to do: which datastores, and whether a partial version is promoted."""

from __future__ import annotations

from dataclasses import dataclass


class RunOptionsError(ValueError):
    """A malformed run option (e.g. an empty `--datastores` list)."""


def parse_datastore_list(text: str) -> list[str]:
    """`"a, b,a"` -> `["a", "b"]`: comma-separated datastore names, in order, without repeats."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise RunOptionsError(f"expected comma-separated datastore names, got {text!r}")
    return names


@dataclass(frozen=True)
class RunScope:
    """The datastores a run works on: every one (`selected` is None) or the named ones."""

    selected: frozenset[str] | None = None

    @classmethod
    def of(cls, names: list[str] | None) -> RunScope:
        return cls(frozenset(names) if names else None)

    @property
    def limited(self) -> bool:
        return self.selected is not None

    def take(self, names: list[str]) -> list[str]:
        """The names among `names` this run works on, in their order."""
        return names if self.selected is None else [n for n in names if n in self.selected]

    def describe(self) -> str:
        return "all datastores" if self.selected is None else ", ".join(sorted(self.selected))
