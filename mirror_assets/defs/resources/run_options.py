"""Run-scoped options, set per run from the launchpad or `mirror-catalog` flags."""

from __future__ import annotations

import dagster as dg

from mirror_assets.state.run_scope import RunScope


class RunOptions(dg.ConfigurableResource):
    """What this run works on. In the launchpad:
    `resources: {run_options: {config: {datastores: [a, b], allow_partial: true}}}`;
    `reuse: false` builds and uploads every datastore, even one another version already has."""

    datastores: list[str] = []
    allow_partial: bool = False
    reuse: bool = True

    def scope(self) -> RunScope:
        """Every datastore, or only `datastores` (a re-run of what failed)."""
        return RunScope.of(self.datastores)
