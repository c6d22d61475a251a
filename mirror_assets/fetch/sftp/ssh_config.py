"""Where an SFTP source is: `sftp://` URLs, `~/.ssh/config` host aliases and known_hosts files."""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from asyncssh.config import SSHClientConfig

from mirror_assets.errors import MirrorError

log = logging.getLogger(__name__)

DEFAULT_BASE_PATH = "/g/data/xp65/public/apps/access-nri-intake-catalog"
DEFAULT_SSH_CONFIG = Path("~/.ssh/config")
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
# AES-GCM runs on the CPU's AES instructions through OpenSSL: the fastest cipher for bulk transfers.
PREFERRED_CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
)
# A passphrase for an encrypted key file is read from here, never from config or arguments.
PASSPHRASE_ENV = "MIRROR_SSH_KEY_PASSPHRASE"


@dataclass(frozen=True)
class SftpUrl:
    """`sftp://[user@]host[:port]/base/path`; `host` may be a `~/.ssh/config` alias."""

    host: str
    port: int | None
    user: str | None
    base_path: str


def is_sftp_url(location: str) -> bool:
    return location.startswith("sftp://")


def parse_sftp_url(url: str) -> SftpUrl:
    """Split an `sftp://` URL; a URL without a path means the catalog's folder on Gadi."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise MirrorError(url, "invalid port in sftp:// URL") from None
    if parts.scheme != "sftp" or not parts.hostname:
        raise MirrorError(url, "expected sftp://[user@]host[:port]/base/path")
    if parts.password is not None:
        raise MirrorError(
            f"sftp://{parts.hostname}", "passwords in sftp:// URLs are not supported: use a key"
        )
    path = unquote(parts.path).rstrip("/") or DEFAULT_BASE_PATH
    return SftpUrl(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        base_path=path,
    )


@dataclass(frozen=True)
class SshEndpoint:
    """An SSH server as given (`alias`, maybe a config alias) and as asyncssh's config resolves it.

    asyncssh itself reads the config again when connecting (IdentityFile, IdentitiesOnly,
    IdentityAgent, ProxyJump, ...); the resolved fields here serve messages and the host key policy.
    """

    alias: str
    hostname: str
    port: int
    username: str
    config_files: tuple[str, ...]
    known_hosts: tuple[str, ...]
    # The [sftp] identity_file setting, replacing the config's IdentityFile (None: the config's).
    identity_file: str | None = None
    # The key files asyncssh will offer after the agent's keys, for messages only.
    key_files: tuple[str, ...] = ()
    verify_host_key: bool = True

    @property
    def display(self) -> str:
        """`host` or `host:port` as the user named it, for messages."""
        return self.alias if self.port == 22 else f"{self.alias}:{self.port}"


def _expand(path: str | Path) -> str:
    return str(Path(path).expanduser())


# OpenSSH's (and asyncssh's) default key files, tried when the config names no IdentityFile.
_DEFAULT_KEY_FILES = ("id_ed25519_sk", "id_ecdsa_sk", "id_ed25519", "id_ecdsa", "id_rsa")


def resolve_endpoint(
    host: str,
    port: int | None = None,
    user: str | None = None,
    ssh_config: str | None = None,
    identity_file: str | None = None,
    known_hosts: str | None = None,
    insecure: bool = False,
) -> SshEndpoint:
    """Resolve `host` through asyncssh's OpenSSH config support: explicit arguments win.

    known_hosts defaults to `~/.ssh/known_hosts`; `insecure` turns host key verification off
    (logged as a warning).
    """
    config_path = Path(_expand(ssh_config or DEFAULT_SSH_CONFIG))
    if ssh_config and not config_path.is_file():
        raise MirrorError(config_path, "SSH config file not found")
    config_files = (str(config_path),) if config_path.is_file() else ()
    local_user = getpass.getuser()
    config = SSHClientConfig.load(
        None, list(config_files), False, False, False, local_user, user or (), host, port or ()
    )
    # "UserKnownHostsFile none" (or /dev/null) would silently trust any key: only the explicit
    # insecure flag turns verification off, so fall back to the default file instead.
    configured_known = [
        p for p in config.get("UserKnownHostsFile", ()) or () if p not in ("none", "/dev/null")
    ]
    known = (
        (_expand(known_hosts),)
        if known_hosts
        else tuple(_expand(p) for p in configured_known) or (_expand(DEFAULT_KNOWN_HOSTS),)
    )
    if identity_file:
        key_files: tuple[str, ...] = (_expand(identity_file),)
    else:
        configured = config.get("IdentityFile")
        key_files = (
            tuple(_expand(p) for p in configured)
            if configured
            else tuple(_expand(f"~/.ssh/{name}") for name in _DEFAULT_KEY_FILES)
        )
    endpoint = SshEndpoint(
        alias=host,
        hostname=str(config.get("Hostname") or host),
        port=int(config.get("Port") or 22),
        username=str(config.get("User") or local_user),
        config_files=config_files,
        known_hosts=known,
        identity_file=_expand(identity_file) if identity_file else None,
        key_files=key_files,
        verify_host_key=not insecure,
    )
    if insecure:
        log.warning(
            "SFTP: HOST KEY VERIFICATION IS OFF for %s (insecure opt-out): the server's identity "
            "is not checked and a man-in-the-middle would go unnoticed",
            endpoint.display,
        )
    return endpoint


def connect_options(endpoint: SshEndpoint) -> dict[str, Any]:
    """Keyword arguments for `asyncssh.SSHClientConnectionOptions`.

    asyncssh reads the config itself: the agent (SSH_AUTH_SOCK or IdentityAgent) and IdentityFile
    apply as in OpenSSH, an encrypted IdentityFile the agent holds needs no passphrase, and options
    it does not know (UseKeychain, AddKeysToAgent, ...) are ignored. Only our settings, the host
    key policy and the passphrase from the environment are added.
    """
    options: dict[str, Any] = {
        # The alias, so the config supplies what is not resolved here (IdentityFile, ProxyJump...).
        "host": endpoint.alias,
        "port": endpoint.port,
        "username": endpoint.username,
        "config": list(endpoint.config_files),
        "encryption_algs": list(PREFERRED_CIPHERS),
        "compression_algs": None,
        # An SFTP session needs no agent on the server, whatever ForwardAgent says.
        "agent_forwarding": False,
    }
    if endpoint.identity_file:
        options["client_keys"] = [endpoint.identity_file]
        # As for a config IdentityFile: an encrypted key is skipped when no passphrase is given,
        # so the agent holding it can sign instead.
        options["ignore_encrypted"] = True
    if endpoint.verify_host_key:
        existing = [p for p in endpoint.known_hosts if os.path.isfile(p)]
        # No known_hosts file at all: an empty list of trusted keys, so every key is refused.
        options["known_hosts"] = existing if existing else b""
    else:
        options["known_hosts"] = None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        options["passphrase"] = passphrase
    return options
