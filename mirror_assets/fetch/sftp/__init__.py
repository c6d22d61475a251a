"""SFTP over asyncssh: the shared session, resumable transfers, OpenSSH config."""
