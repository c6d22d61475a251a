"""Settings shared by every asset of the mirror.

Backfill policy: one run per catalog version, which is Dagster's behaviour for assets without a
`backfill_policy` (setting `BackfillPolicy.multi_run(1)` explicitly only adds a beta warning to
every import). Versions are independent and each is heavy (millions of rows per datastore, its
own staging folder and DuckDB spill), so a failure, retry or re-execution costs one version, the
run queue and pools (dagster.yaml) bound how many versions run at once, and the UI shows each
version's run with its partition. The assets read one `partition_key`, never a range.

code_version: bump an asset's value when its output would change for the same input (its
transforms/ code or the way it calls it); the UI then marks the versions materialised before as
stale.
"""

GROUP = "catalog_mirror"
OWNERS = ["team:access-nri-catalog"]
