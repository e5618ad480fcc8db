"""Typed settings, read from the environment with the prefix ``CYBERPEACE_``."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"  # noqa: S105 - a placeholder that serve() refuses off loopback


class InsecureSettingsError(ValueError):
    """Settings that are fine for a laptop but unsafe on a network."""


class Settings(BaseSettings):
    """Everything a cyberpeace process needs to know before it starts.

    Each field can be set as ``CYBERPEACE_<NAME>`` in the environment, e.g.
    ``CYBERPEACE_DATA_DIR=/var/lib/cyberpeace``.
    """

    model_config = SettingsConfigDict(env_prefix="CYBERPEACE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./cyberpeace-data"),
        description="Directory for the SQLite case store, flow archive and evidence locker.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the case store; empty means a SQLite file in data_dir.",
    )
    bind: str = Field(
        default="127.0.0.1:8000", description="HOST:PORT the API and console serve on."
    )
    secret_key: str = Field(default=DEFAULT_SECRET, description="Secret for session signing.")
    mandate: Path | None = Field(default=None, description="Mandate YAML loaded at start-up.")
    nft_table: str = Field(default="cyberpeace", description="nftables table (family inet).")
    nft_chain: str = Field(default="mitigate", description="Base chain of the nftables table.")
    nft_hook: str = Field(default="forward", description="Hook of the chain: forward or input.")
    nft_netns: str | None = Field(default=None, description="Network namespace to run nft in.")
    evidence_max_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description="Largest artefact the evidence locker accepts in one upload (bytes).",
    )
    blocklist_dir: Path | None = Field(
        default=None, description="Where the block-list feeds are written (DATA_DIR/blocklist)."
    )
    exabgp_socket: Path | None = Field(
        default=None, description="ExaBGP API bridge socket (DATA_DIR/exabgp.sock)."
    )
    action_sweep_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often the server expires, removes and retries actions; 0: never.",
    )

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'cyberpeace.db').resolve()}"
        return self

    @property
    def host(self) -> str:
        host, _, _ = self.bind.rpartition(":")
        return host.strip("[]") or "127.0.0.1"

    @property
    def port(self) -> int:
        _, _, port = self.bind.rpartition(":")
        return int(port)

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def check_safe_to_serve(self) -> None:
        """Refuse to listen beyond loopback while the secret is still the default one."""
        if not self.is_loopback() and self.secret_key == DEFAULT_SECRET:
            raise InsecureSettingsError(
                f"refusing to serve on {self.bind}: the secret key is the default one; "
                "set CYBERPEACE_SECRET_KEY to a long random value or bind to 127.0.0.1"
            )
