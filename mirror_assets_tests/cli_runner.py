"""Run `mirror-catalog` as a subprocess, as users and scripts do, in a clean environment."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

# Settings a developer's shell may carry that would leak into the command under test.
CLEARED = ("MIRROR_", "DAGSTER_HOME")


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mirror_assets.cli", *args]


def cli_env(extra: dict[str, str] | None = None, clear: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment without MIRROR_*, DAGSTER_HOME and `clear`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED + clear)}
    env.update(extra or {})
    return env


def s3_cli_env(endpoint: Any) -> dict[str, str]:
    """With `endpoint`'s (an S3Endpoint's) credentials only: none of the developer's AWS or
    OpenStack settings."""
    return cli_env(
        {
            "AWS_ACCESS_KEY_ID": endpoint.access_key,
            "AWS_SECRET_ACCESS_KEY": endpoint.secret_key,
            "AWS_DEFAULT_REGION": endpoint.region,
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        clear=("AWS_", "OS_"),
    )


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        env=cli_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli_on_pty(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> tuple[int, str]:
    """Run `mirror-catalog` with stdout and stderr on a pseudo-terminal, as in a user's shell;
    returns the exit status and what it printed, without colours and cursor movements."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        cli_command(*args),
        cwd=cwd,
        env={**(cli_env() if env is None else env), "COLUMNS": "160", "TERM": "xterm"},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    # Read while it runs (a full terminal buffer would block it); EIO once it has exited.
    with contextlib.suppress(OSError):
        while chunk := os.read(leader, 65536):
            output += chunk
    os.close(leader)
    returncode = process.wait(timeout=timeout)
    return returncode, re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", output.decode(errors="replace"))
