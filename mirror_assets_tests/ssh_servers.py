"""Real SSH servers on 127.0.0.1 for tests and benchmarks: asyncssh in-process, OpenSSH sshd.

Both serve a folder with keys generated into a temporary folder; `SshKeys.ssh_config` writes an
OpenSSH client config with a host alias, so clients resolve the server the way they would Gadi.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

SSHD = Path("/usr/sbin/sshd")
SSH_AGENT = shutil.which("ssh-agent") or "/usr/bin/ssh-agent"
SSH_ADD = shutil.which("ssh-add") or "/usr/bin/ssh-add"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
# The passphrase of the encrypted client key (as a Gadi user's key is).
KEY_PASSPHRASE = "tr0ub4dor &3 gadi"
# ACCESS-NRI's documented ~/.ssh/config block for xp65_ci-dm, verbatim but for HostName, User and
# the added Port.
UPSTREAM_BLOCK = """Host xp65_ci-dm
    HostName {hostname}
    User {user}
    IdentityFile ~/.ssh/id_gadi_xp65_ci
    AddKeysToAgent yes
    UseKeychain yes
    ForwardAgent yes
    Port {port}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SshKeys:
    """A host key and a client key in `folder`, and the client-side files that trust them."""

    folder: Path

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.host_key = self._write_key("ssh_host_ed25519_key")
        self.client_key = self._write_key("id_ed25519")
        # An encrypted key, made by OpenSSH's ssh-keygen as users make theirs.
        self.encrypted_key = self.folder / "id_gadi_xp65_ci"
        if Path(SSH_KEYGEN).exists():
            subprocess.run(
                [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", KEY_PASSPHRASE, "-C", "gadi"]
                + ["-f", str(self.encrypted_key)],
                check=True,
            )
        self.authorized_keys = self.folder / "authorized_keys"
        self.authorized_keys.write_bytes(
            asyncssh.read_private_key(self.client_key).export_public_key()
            + (
                self.encrypted_key.with_suffix(".pub").read_bytes()
                if Path(SSH_KEYGEN).exists()
                else b""
            )
        )
        self.known_hosts = self.folder / "known_hosts"

    def _write_key(self, name: str) -> Path:
        path = self.folder / name
        asyncssh.generate_private_key("ssh-ed25519").write_private_key(path)
        path.chmod(0o600)
        return path

    def trust(self, port: int, host_key: Path | None = None) -> None:
        """Write known_hosts trusting `host_key` (default: the server's) for 127.0.0.1:port."""
        public = asyncssh.read_private_key(host_key or self.host_key).export_public_key()
        self.known_hosts.write_text(f"[127.0.0.1]:{port} {public.decode().strip()}\n")

    def ssh_config(self, alias: str, port: int) -> Path:
        """An OpenSSH client config naming the server `alias`, as users reach Gadi."""
        path = self.folder / "ssh_config"
        path.write_text(
            f"Host {alias}\n"
            "  HostName 127.0.0.1\n"
            f"  Port {port}\n"
            f"  User {getpass.getuser()}\n"
            f"  IdentityFile {self.client_key}\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  IdentitiesOnly yes\n"
        )
        return path

    def upstream_home(self, home: Path, port: int, user: str) -> Path:
        """A home folder as a Gadi user has it: ~/.ssh/config with the upstream block, the
        encrypted key as ~/.ssh/id_gadi_xp65_ci and known_hosts trusting the server."""
        ssh = home / ".ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        config = ssh / "config"
        config.write_text(UPSTREAM_BLOCK.format(hostname="127.0.0.1", user=user, port=port))
        shutil.copy(self.encrypted_key, ssh / "id_gadi_xp65_ci")
        (ssh / "id_gadi_xp65_ci").chmod(0o600)
        shutil.copy(self.encrypted_key.with_suffix(".pub"), ssh / "id_gadi_xp65_ci.pub")
        shutil.copy(self.known_hosts, ssh / "known_hosts")
        return config


def ssh_agent_unavailable() -> str | None:
    """Why a real ssh-agent cannot run here, or None when it can."""
    missing = [p for p in (SSH_AGENT, SSH_ADD, SSH_KEYGEN) if not Path(p).exists()]
    if missing:
        return (
            f"{', '.join(missing)} not installed: apt-get install openssh-client (.ci/run does), "
            "then pytest -k upstream"
        )
    return None


class SshAgent:
    """OpenSSH's `ssh-agent -D` on a socket in `folder`, keys added with `ssh-add`."""

    def __init__(self):
        # A short folder of its own: a socket path must fit in 108 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="agent-"))
        self.socket = self.folder / "agent.sock"
        self._process: subprocess.Popen | None = None

    def start(self) -> SshAgent:
        self._process = subprocess.Popen(
            [SSH_AGENT, "-D", "-a", str(self.socket)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ssh-agent did not listen on {self.socket}")
            time.sleep(0.02)
        return self

    def add(self, key: Path, passphrase: str) -> None:
        """`ssh-add key`, the passphrase typed by an askpass helper (never on a command line)."""
        askpass = self.folder / "askpass"
        askpass.write_text("#!/bin/sh\nprintf '%s\\n' \"$TEST_KEY_PASSPHRASE\"\n")
        askpass.chmod(0o700)
        env = {
            **os.environ,
            "SSH_AUTH_SOCK": str(self.socket),
            "SSH_ASKPASS": str(askpass),
            "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": ":0",
            "TEST_KEY_PASSPHRASE": passphrase,
        }
        subprocess.run(
            [SSH_ADD, str(key)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            timeout=30,
        )

    def stop(self) -> None:
        _terminate(self._process)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class ServerLog:
    """What the asyncssh server saw, and the faults it still has to inject."""

    connections: int = 0
    # (connection number, file name, offset) of every read request, in arrival order.
    reads: list[tuple[int, str, int]] = field(default_factory=list)
    # File name -> byte offsets: the connection is dropped when a read reaches the next one.
    drop_at: dict[str, list[int]] = field(default_factory=dict)
    drops: int = 0
    # Folder (relative to the root) -> extra names the listing claims are regular files.
    fake_entries: dict[str, list[str]] = field(default_factory=dict)


class _CatalogSftpServer(asyncssh.SFTPServer):
    """An SFTP server rooted at a folder, which can lie in listings and drop connections."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path, record: ServerLog):
        super().__init__(chan, chroot=str(root).encode())
        self._record = record
        self._conn_number = getattr(self.connection, "number", 0)
        self._dropped = False

    async def scandir(self, path: bytes):
        async for entry in super().scandir(path):
            yield entry
        folder = self.map_path(path).decode()
        relative = os.path.relpath(folder, self._chroot.decode())
        for name in self._record.fake_entries.get(relative, []):
            attrs = asyncssh.SFTPAttrs(
                type=asyncssh.FILEXFER_TYPE_REGULAR,
                size=10,
                permissions=0o100644,
                mtime=int(time.time()),
            )
            yield asyncssh.SFTPName(name.encode(), attrs=attrs)

    def read(self, file_obj, offset: int, size: int) -> bytes:
        name = os.fsdecode(os.path.basename(file_obj.name))
        self._record.reads.append((self._conn_number, name, offset))
        points = self._record.drop_at.get(name)
        # One drop per connection: requests already queued on a dropped one don't count.
        if points and offset + size > points[0] and not self._dropped:
            points.pop(0)
            self._record.drops += 1
            self._dropped = True
            self.connection.abort()
        return super().read(file_obj, offset, size)


class AsyncsshServer:
    """An asyncssh SSH/SFTP server on 127.0.0.1 in a background thread, serving `root` as `/`."""

    def __init__(self, root: Path, keys: SshKeys):
        self.root = root
        self.keys = keys
        self.log = ServerLog()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._acceptor: asyncssh.SSHAcceptor | None = None

    def _sftp_factory(self, chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        return _CatalogSftpServer(chan, self.root, self.log)

    def _count_connection(self) -> asyncssh.SSHServer:
        self.log.connections += 1
        number = self.log.connections

        class Counted(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                conn.number = number  # read back by the SFTP server for its read log

        return Counted()

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_factory=self._count_connection,
            server_host_keys=[str(self.keys.host_key)],
            authorized_client_keys=str(self.keys.authorized_keys),
            sftp_factory=self._sftp_factory,
            allow_scp=False,
        )

    def start(self) -> AsyncsshServer:
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(30)
        self.port = self._acceptor.get_port()
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._acceptor.close()
            await self._acceptor.wait_closed()

        if self._acceptor is not None:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


def sshd_unavailable() -> str | None:
    """Why OpenSSH's sshd cannot run here, or None when it can."""
    if not SSHD.exists():
        return (
            f"{SSHD} is not installed: apt-get install openssh-server (.ci/run does), then "
            "pytest -k sshd"
        )
    return None


class OpenSshServer:
    """`/usr/sbin/sshd -D` on 127.0.0.1 with a temporary config, keys and authorized_keys."""

    def __init__(self, keys: SshKeys, folder: Path):
        self.keys = keys
        self.folder = folder
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    def start(self) -> OpenSshServer:
        config = self.folder / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.keys.host_key}\n"
            f"PidFile {self.folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.keys.authorized_keys}\n"
            "AuthenticationMethods publickey\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PermitRootLogin prohibit-password\n"
            "Subsystem sftp internal-sftp\n"
            "MaxStartups 50\n"
            "LogLevel ERROR\n"
        )
        if os.geteuid() == 0:
            # sshd running as root insists on its privilege separation folder (normally made by
            # the service unit, which we do not use).
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self._process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "sshd.log").open("wb"),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = (self.folder / "sshd.log").read_text()
                raise RuntimeError(f"sshd exited with {self._process.returncode}: {log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        _terminate(self._process)


def _terminate(process: subprocess.Popen | None) -> None:
    """Stop a server process: SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def copy_catalog(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest
