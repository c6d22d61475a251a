"""One SSH connection shared by concurrent SFTP operations, reopened with backoff when it drops."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncssh

from mirror_assets.config.settings import SftpSettings
from mirror_assets.errors import MirrorError, one_line
from mirror_assets.fetch.sftp.ssh_config import PASSPHRASE_ENV, SshEndpoint, connect_options

log = logging.getLogger(__name__)
T = TypeVar("T")

# asyncssh logs every channel and auth step at INFO; keep our one line per stage unless the user
# configured its logger explicitly.
_asyncssh_log = logging.getLogger("asyncssh")
if _asyncssh_log.level == logging.NOTSET:
    _asyncssh_log.setLevel(logging.WARNING)

# Disconnect codes a later attempt can get past: the link broke, or the server shed load.
_TRANSIENT_DISCONNECTS = {
    asyncssh.DISC_CONNECTION_LOST,
    asyncssh.DISC_BY_APPLICATION,
    asyncssh.DISC_TOO_MANY_CONNECTIONS,
}
_TRANSIENT_ERRORS = (
    asyncssh.SFTPConnectionLost,
    asyncssh.SFTPNoConnection,
    asyncssh.ChannelOpenError,
    ConnectionError,
    TimeoutError,
)


# Not settings: a doubling backoff stops growing here, and an idle connection is probed this often.
MAX_BACKOFF_SECONDS = 30.0
KEEPALIVE_INTERVAL = 15.0


def backoff(backoff_seconds: float, attempt: int, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Seconds to wait before retry number `attempt` (1-based): doubling, capped."""
    return min(backoff_seconds * 2 ** (attempt - 1), cap)


def is_transient(exc: BaseException) -> bool:
    """A failure that a new connection may get past (connection lost or reset, timeout)."""
    if isinstance(exc, asyncssh.DisconnectError):
        return exc.code in _TRANSIENT_DISCONNECTS
    return isinstance(exc, _TRANSIENT_ERRORS)


def _host_key_error(endpoint: SshEndpoint) -> MirrorError:
    where = f"sftp://{endpoint.display}"
    files = [p for p in endpoint.known_hosts if os.path.isfile(p)]
    known = asyncssh.read_known_hosts(files) if files else None
    if known is not None and known.match(endpoint.hostname, "", endpoint.port)[0]:
        return MirrorError(
            where,
            f"host key of {endpoint.hostname} does not match the one in {', '.join(files)}: "
            "refusing to connect (if the server was re-keyed, update known_hosts)",
        )
    return MirrorError(
        where,
        f"host {endpoint.hostname} is not in known_hosts "
        f"({', '.join(endpoint.known_hosts)}): refusing to connect "
        "(add its key, e.g. ssh-keyscan, or set insecure_skip_host_key_check)",
    )


def _encrypted_key_files(endpoint: SshEndpoint) -> list[str]:
    """The key files asyncssh skipped because they are encrypted and no passphrase was given."""
    if os.environ.get(PASSPHRASE_ENV):
        return []
    skipped = []
    for path in endpoint.key_files:
        if not os.path.isfile(path):
            continue
        try:
            asyncssh.read_private_key(path)
        except asyncssh.KeyImportError as exc:
            if str(exc).startswith("Passphrase"):
                skipped.append(path)
        except OSError:
            pass
    return skipped


def _connect_error(endpoint: SshEndpoint, exc: Exception) -> MirrorError:
    where = f"sftp://{endpoint.display}"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return _host_key_error(endpoint)
    if isinstance(exc, (asyncssh.KeyImportError, asyncssh.KeyEncryptionError)) or (
        isinstance(exc, OSError) and exc.filename
    ):
        return _key_error(endpoint, exc)
    if isinstance(exc, asyncssh.PermissionDenied):
        encrypted = _encrypted_key_files(endpoint)
        if encrypted:
            return MirrorError(
                where,
                f"authentication failed for user {endpoint.username}: key file "
                f"{', '.join(encrypted)} is encrypted and no ssh agent holding it is reachable "
                f"(add it with ssh-add, or set {PASSPHRASE_ENV})",
            )
        return MirrorError(
            where,
            f"authentication failed for user {endpoint.username} "
            "(no key from the agent or IdentityFile was accepted)",
        )
    return MirrorError(where, f"cannot connect: {one_line(exc)}")


def _key_error(endpoint: SshEndpoint, exc: Exception) -> MirrorError:
    """A key file asyncssh could not load, named (the passphrase never is)."""
    where = f"sftp://{endpoint.display}"
    if isinstance(exc, OSError):
        return MirrorError(where, f"cannot read key file {exc.filename}: {exc.strerror}")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    culprits = []
    for path in endpoint.key_files:
        try:
            asyncssh.read_private_key(path, passphrase)
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError):
            culprits.append(path)
        except OSError:
            pass
    files = ", ".join(culprits) or ", ".join(endpoint.key_files)
    hint = f" (from {PASSPHRASE_ENV})" if passphrase else ""
    return MirrorError(where, f"cannot load key file {files}: {one_line(exc)}{hint}")


class SftpSession:
    """An SFTP client over one SSH connection; `run()` retries on a fresh connection."""

    def __init__(self, endpoint: SshEndpoint, settings: SftpSettings):
        self.endpoint = endpoint
        self.settings = settings
        self.connections_opened = 0
        self._lock = asyncio.Lock()
        self._generation = 0
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None

    async def __aenter__(self) -> SftpSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        async with self._lock:
            await self._close()

    async def _close(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()
            await conn.wait_closed()

    async def _client(self) -> tuple[int, asyncssh.SFTPClient]:
        async with self._lock:
            if self._sftp is None:
                try:
                    self._conn = await asyncssh.connect(
                        **connect_options(self.endpoint),
                        connect_timeout=self.settings.connect_timeout,
                        keepalive_interval=KEEPALIVE_INTERVAL,
                        keepalive_count_max=3,
                    )
                    self._sftp = await self._conn.start_sftp_client()
                except Exception as exc:
                    await self._close()
                    if is_transient(exc):
                        raise
                    raise _connect_error(self.endpoint, exc) from None
                self._generation += 1
                self.connections_opened += 1
                log.debug("SFTP: connected to %s", self.endpoint.display)
            return self._generation, self._sftp

    async def _discard(self, generation: int) -> None:
        """Close the connection `generation` if it is still the current one."""
        async with self._lock:
            if generation == self._generation:
                await self._close()

    async def run(self, what: str, operation: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        """Run `operation`, retrying transient failures with exponential backoff."""
        attempt = 0
        while True:
            generation = None
            try:
                generation, sftp = await self._client()
                return await operation(sftp)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                attempt += 1
                if attempt >= self.settings.attempts:
                    raise MirrorError(
                        f"sftp://{self.endpoint.display}{what}",
                        f"gave up after {attempt} attempt{'s' if attempt > 1 else ''}: "
                        f"{one_line(exc)}",
                    ) from None
                delay = backoff(self.settings.backoff_seconds, attempt)
                log.warning(
                    "SFTP %s: %s; retry %d of %d in %.1fs",
                    what,
                    one_line(exc),
                    attempt,
                    self.settings.attempts - 1,
                    delay,
                )
                if generation is not None:
                    await self._discard(generation)
                await asyncio.sleep(delay)
