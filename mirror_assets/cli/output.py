"""Tables for people and for scripts: a rich table on a terminal, plain aligned lines off one.

No Dagster here; rich is imported only when the output is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def plain_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[str] = ()
) -> list[str]:
    """Columns padded to their widest cell and separated by two spaces; `right` columns (by
    header) aligned right. Trailing blanks are dropped, so the lines split on whitespace."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if h in right else c.ljust(w)
            for c, w, h in zip(cells, widths, headers, strict=True)
        ]
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Collection[str] = (),
    title: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print a table to `stream` (stdout): rich's on a terminal, `plain_table`'s lines off one."""
    stream = stream or sys.stdout
    if not is_terminal(stream):
        if title:
            print(title, file=stream)
        print("\n".join(plain_table(headers, rows, right)), file=stream)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text  # cells are text, never markup: a cause may hold [brackets]

    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, justify="right" if header in right else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    Console(file=stream).print(table)
