"""`mirror-catalog`: the command line (argparse subcommands, their output and tables).

`main` is the console script; `python -m mirror_assets.cli` runs the same. Only the `run` command
(`run.py`) imports Dagster.
"""

from mirror_assets.cli.main import main

__all__ = ["main"]
