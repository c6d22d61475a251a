"""Catalog sources: a local folder or an SFTP server, and what a fetch must transfer. No Dagster."""
