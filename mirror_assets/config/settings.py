"""Settings: the shipped `config/mirror.toml`, a user override file, then explicit overrides."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirror_assets.transforms.layout import DatastoreLayout, choose_layout

SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "mirror.toml"
SAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "sample" / "catalog"

# Environment variables overriding single keys (for `dg dev` and operators; the CLI has flags).
ENV_OVERRIDES = {
    "MIRROR_SOURCE": "source",
    "MIRROR_DEST": "dest",
    "MIRROR_STAGING": "staging",
    "MIRROR_PUBLIC_BASE_URL": "public_base_url",
}


class SettingsError(ValueError):
    """The config file cannot be read or holds a value of the wrong kind."""


@dataclass(frozen=True)
class SftpSettings:
    """`[sftp]`: how `sftp://` sources are reached (see config/mirror.toml)."""

    ssh_config: str = ""
    identity_file: str = ""
    known_hosts: str = ""
    insecure_skip_host_key_check: bool = False
    max_transfers: int = 8
    block_size: int = 0
    max_requests: int = 32
    attempts: int = 6
    backoff_seconds: float = 0.5
    connect_timeout: float = 30.0


@dataclass(frozen=True)
class SensorSettings:
    """`[sensor]`: the sensor that discovers new catalog versions at the source."""

    enabled: bool = False
    interval_seconds: int = 300
    run_hidden: bool = False


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _table(cls: type, raw: dict[str, Any], table: str, origin: str) -> Any:
    """Build a settings dataclass from a TOML table, checking names and value kinds."""
    values = raw.get(table, {})
    defaults = cls()
    unknown = sorted(set(values) - set(defaults.__dataclass_fields__))
    if unknown:
        raise SettingsError(f"{origin}: unknown setting [{table}] {unknown[0]}")
    for key, value in values.items():
        expected = type(getattr(defaults, key))
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        if not ok or (expected is int and isinstance(value, bool)):
            raise SettingsError(f"{origin}: [{table}] {key} must be {_KINDS[expected]}")
    return cls(**{k: type(getattr(defaults, k))(v) for k, v in values.items()})


@dataclass(frozen=True)
class S3Settings:
    """The `[s3]` table: how an `s3://bucket[/prefix]` destination is reached (no credentials:
    those come from the standard AWS chain)."""

    endpoint_url: str = ""
    region: str = ""
    concurrency: int = 16
    multipart_threshold_mib: int = 16
    part_size_mib: int = 8
    max_attempts: int = 5


@dataclass(frozen=True)
class Settings:
    """Everything configurable (config/mirror.toml), loaded once by `load_settings`; the code
    location's resources take it, or its parts, as they are."""

    source: str
    dest: str
    staging: str
    public_base_url: str
    row_group_size: int
    sort_column_count: int
    duckdb_memory_limit: str
    duckdb_threads: int
    # Promote a version to the root even when some of its datastores failed.
    allow_partial: bool = False
    # A datastore of at most this many rows is one sorted file even if the partition table
    # names it: the web app downloads such a datastore as one object.
    single_file_max_records: int = 5000
    partitions: dict[str, list[str]] = field(default_factory=dict)
    sftp: SftpSettings = field(default_factory=SftpSettings)
    sensor: SensorSettings = field(default_factory=SensorSettings)
    s3: S3Settings = field(default_factory=S3Settings)
    dry_run: bool = False

    @property
    def source_location(self) -> str:
        """The source, with the bundled sample catalog standing in for an empty value."""
        return self.source or str(SAMPLE_CATALOG)

    def partition_columns(self, name: str) -> list[str]:
        """The partition table's columns for `name` (the datastore may lack some)."""
        return list(self.partitions.get(name, []))

    def layout(self, name: str, columns: Collection[str], rows: int) -> DatastoreLayout:
        """How datastore `name`, with `columns` and `rows` rows, is written."""
        return choose_layout(
            self.partition_columns(name), columns, rows, self.single_file_max_records
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _boolean(value: Any, key: str, origin: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{origin}: {key} must be true or false, not {value!r}")
    return value


def _count(value: Any, key: str, origin: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingsError(f"{origin}: {key} must be an integer >= 0, not {value!r}")
    return value


def load_settings(
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Shipped defaults < `config_file` (or $MIRROR_CONFIG) < MIRROR_* env vars < `overrides`."""
    env = os.environ if environ is None else environ
    raw = _read_toml(SHIPPED_CONFIG)
    config_file = config_file or env.get("MIRROR_CONFIG")
    if config_file:
        raw = _merge(raw, _read_toml(Path(config_file)))
    origin = str(config_file or SHIPPED_CONFIG)
    for var, key in ENV_OVERRIDES.items():
        if env.get(var):
            raw[key] = env[var]
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    duck = raw.get("duckdb", {})
    partitions = raw.get("partitions", {})
    if not all(
        isinstance(cols, list) and all(isinstance(c, str) for c in cols)
        for cols in partitions.values()
    ):
        raise SettingsError(f"{origin}: [partitions] values must be lists of column names")
    try:
        return Settings(
            source=str(raw["source"]),
            dest=str(raw["dest"]),
            staging=str(raw["staging"]),
            public_base_url=str(raw["public_base_url"]).rstrip("/"),
            row_group_size=int(raw["row_group_size"]),
            sort_column_count=int(raw["sort_column_count"]),
            duckdb_memory_limit=str(duck["memory_limit"]),
            duckdb_threads=int(duck["threads"]),
            allow_partial=_boolean(raw.get("allow_partial", False), "allow_partial", origin),
            single_file_max_records=_count(
                raw.get("single_file_max_records", Settings.single_file_max_records),
                "single_file_max_records",
                origin,
            ),
            partitions={name: list(cols) for name, cols in partitions.items()},
            sftp=_table(SftpSettings, raw, "sftp", origin),
            sensor=_table(SensorSettings, raw, "sensor", origin),
            s3=_s3_settings(raw.get("s3", {}), env, raw.get("s3_endpoint_url")),
            dry_run=bool(raw.get("dry_run")) or env.get("MIRROR_DRY_RUN", "") not in ("", "0"),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SettingsError(f"{origin}: bad or missing setting ({exc})") from None


def _s3_settings(table: dict[str, Any], env: Mapping[str, str], flag: str | None) -> S3Settings:
    """`[s3]` < AWS_ENDPOINT_URL(_S3) < MIRROR_S3_ENDPOINT_URL < `--endpoint-url`."""
    unknown = set(table) - set(S3Settings.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown [s3] key(s) {sorted(unknown)}")
    endpoint = (
        flag
        or env.get("MIRROR_S3_ENDPOINT_URL")
        or env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL")
        or str(table.get("endpoint_url", ""))
    )
    defaults = S3Settings()
    return S3Settings(
        endpoint_url=endpoint.rstrip("/"),
        region=str(table.get("region", defaults.region)),
        concurrency=max(1, int(table.get("concurrency", defaults.concurrency))),
        multipart_threshold_mib=int(
            table.get("multipart_threshold_mib", defaults.multipart_threshold_mib)
        ),
        part_size_mib=max(5, int(table.get("part_size_mib", defaults.part_size_mib))),
        max_attempts=max(1, int(table.get("max_attempts", defaults.max_attempts))),
    )
