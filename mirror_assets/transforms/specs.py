"""Rewrite esm-datastore specs (ESM collection JSON) so `catalog_file` is the public URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mirror_assets.errors import DatastoreError
from mirror_assets.files import write_json


def public_catalog_url(
    public_base_url: str, name: str, prefix: str = "", folder: bool = False
) -> str:
    """URL of datastore `name`'s parquet under `public_base_url` (and an optional key prefix).
    A hive folder's URL ends in `/`: polars reads a hive dataset only then (upstream's rule)."""
    url = f"{public_base_url.rstrip('/')}/{prefix}source/{name}.parquet"
    return url + "/" if folder else url


def built_catalog_url(public_base_url: str, built: Path, prefix: str = "") -> str:
    """The public URL of the built datastore `built` (`.../source/<name>.parquet`), which ends in
    `/` when it was written as a hive folder."""
    name = built.name.removesuffix(".parquet")
    return public_catalog_url(public_base_url, name, prefix, folder=built.is_dir())


def read_spec(src: Path) -> dict[str, Any]:
    """Parse an ESM collection spec: a JSON object with a catalog_file key, or an error."""
    try:
        document = json.loads(src.read_bytes())
    except UnicodeDecodeError as exc:
        raise DatastoreError(src, f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise DatastoreError(src, f"invalid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict):
        raise DatastoreError(src, "not an ESM collection spec (the JSON is not an object)")
    if "catalog_file" not in document:
        raise DatastoreError(src, "no catalog_file key in the ESM collection spec")
    return document


def with_catalog_file(document: dict[str, Any], url: str) -> dict[str, Any]:
    """A copy of `document` with catalog_file set to `url`; every other key kept in order."""
    return {key: (url if key == "catalog_file" else value) for key, value in document.items()}


def rewrite_spec(src: Path, dest: Path, catalog_url: str) -> dict[str, Any]:
    """Write `src` to `dest` with catalog_file = `catalog_url`; returns the rewritten document."""
    document = with_catalog_file(read_spec(src), catalog_url)
    write_json(dest, document)
    return document
