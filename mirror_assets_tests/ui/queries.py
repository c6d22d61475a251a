"""GraphQL documents the UI tests send to the webserver, and helpers to read the answers."""

from __future__ import annotations

import json
from typing import Any

LOCATION = "mirror_assets"
REPOSITORY = "__repository__"
REPOSITORY_SELECTOR = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
JOB_SELECTOR = {**REPOSITORY_SELECTOR, "jobName": "mirror_catalog"}
PARTITIONS_DEF = "catalog_version"

ASSET_NODES = """
{ assetNodes {
    assetKey { path }
    description groupName kinds opNames
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    dependencyKeys { path }
    partitionDefinition { type dimensionTypes { dynamicPartitionsDefinitionName } }
    partitionKeysByDimension { partitionKeys }
} }
"""

ADD_PARTITION = """
mutation ($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on PythonError { message }
  }
}
"""

LAUNCH_RUN = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

REEXECUTE_RUN = """
mutation ($params: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""

LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""

BACKFILL_STATUS = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
}
"""

RUNS = """
query ($filter: RunsFilter!) {
  runsOrError(filter: $filter) { ... on Runs { results {
    runId jobName status parentRunId
    tags { key value }
    repositoryOrigin { repositoryLocationName repositoryName }
    stepStats { stepKey status startTime endTime }
  } } }
}
"""

RUN_TIMES = """
query ($filter: RunsFilter!) {
  runsOrError(filter: $filter) { ... on Runs { results {
    runId status creationTime startTime endTime tags { key value }
  } } }
}
"""

JOB_RUNS = """
query ($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) { ... on Pipeline { runs { runId } } }
}
"""

MATERIALIZATIONS = """
query ($key: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $key) { ... on Asset {
    assetMaterializations(partitions: $partitions) {
      runId partition
      metadataEntries {
        label __typename
        ... on IntMetadataEntry { intValue }
        ... on FloatMetadataEntry { floatValue }
        ... on TextMetadataEntry { text }
        ... on UrlMetadataEntry { url }
        ... on MarkdownMetadataEntry { mdStr }
        ... on BoolMetadataEntry { boolValue }
        ... on TableMetadataEntry { table { records schema { columns { name type } } } }
      }
    }
  } }
}
"""

POOL_LIMIT = """
query ($pool: String!) { instance { concurrencyLimit(concurrencyKey: $pool) { slotCount } } }
"""

_VALUE_FIELDS = ("intValue", "floatValue", "text", "url", "mdStr", "boolValue", "table")


def metadata(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """label -> value of a materialisation's metadata entries (tables as their records)."""
    values = {}
    for entry in entries:
        [field] = [f for f in _VALUE_FIELDS if f in entry]
        value = entry[field]
        if field == "table":
            value = [json.loads(record) for record in value["records"]]
        values[entry["label"]] = value
    return values


def tags(run: dict[str, Any]) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run["tags"]}
