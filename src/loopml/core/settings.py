"""Typed settings, read once from the environment (prefix ``LOOPML_``).

Library code never reads ``os.environ``: the interfaces build one
``Settings`` and pass it down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".loopml"


class Settings(BaseSettings):
    """Where loopml keeps things and how it batches writes.

    ``home`` holds the default SQLite database and object store, so a laptop
    needs no setup; ``tracking_uri`` and ``object_store_uri`` point elsewhere
    (PostgreSQL, ``s3://``) for a team without any code change.
    """

    model_config = SettingsConfigDict(env_prefix="LOOPML_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    tracking_uri: str | None = None
    object_store_uri: str | None = None
    # fsspec options for the object store, e.g. LOOPML_OBJECT_STORE_OPTIONS=
    # '{"endpoint_url": "http://minio:9000", "key": "...", "secret": "..."}'
    object_store_options: dict[str, Any] = Field(default_factory=dict)
    flush_interval_seconds: float = 2.0
    flush_max_items: int = 5000
    # How long flush()/end_run wait for a remote server to take queued batches
    # before raising BackgroundFlushError (the batches stay in the spool).
    delivery_timeout_seconds: float = 30.0
    chunking_threshold_bytes: int = 8 * 1024 * 1024
    gc_grace_seconds: float = 3600.0
    sqlite_busy_timeout_seconds: float = 60.0
    # The server runs pipeline schedules only when asked (`loopml server --scheduler`).
    scheduler_enabled: bool = False
    scheduler_interval_seconds: float = 15.0
    # Alert webhooks may point at loopback and private addresses only when allowed
    # (an alert rule's URL must not become a way into the server's network).
    alerts_allow_private: bool = False
    # The feature store's online store: None = SQLite under home, "sqlite:///path",
    # or "redis://host:port/db" (LOOPML_FEATURES_ONLINE).
    features_online: str | None = None
    # Runs record their git state, diff and environment lock when they start.
    capture_provenance: bool = True
    # The server: require a user or token on every request (`loopml server --auth`),
    # serve /metrics without one (`--public-metrics`), and mark the UI's session
    # cookie Secure even when TLS ends at a proxy (`--cookie-secure`).
    auth: bool = False
    public_metrics: bool = False
    cookie_secure: bool = False
    # The API token the SDK and CLI send to a server (LOOPML_TRACKING_TOKEN); without
    # it, the one `loopml login` stored for that server in <home>/credentials.
    tracking_token: str | None = Field(default=None, repr=False)

    def resolved_tracking_uri(self) -> str:
        """The metadata store URI: explicit, or SQLite under ``home``."""
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{self.home.expanduser().resolve() / 'loopml.db'}"

    def resolved_object_store_uri(self) -> str:
        """The object store URI: explicit, or a folder under ``home``."""
        if self.object_store_uri:
            return self.object_store_uri
        return str(self.home.expanduser().resolve() / "objects")


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword overrides win over it."""
    return Settings(**overrides)  # type: ignore[arg-type]
