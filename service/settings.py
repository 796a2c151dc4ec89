"""Settings, read once from the environment in the entry point and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.calendar import DEFAULT_TIMEZONE

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with the embedded defaults `make run` uses.

    Attributes:
        data_dir: where the SQLite database and evidence files live.
        database_url: SQLAlchemy URL; SQLite under `data_dir` by default.
        auto_migrate: upgrade the schema at start (always on for embedded SQLite).
        host, port: where `peerloop serve` listens.
        max_upload_bytes: the largest evidence file accepted.
        timezone: the schools' local time zone.
        log_format: `console` (readable) or `json`.
        demo: load the demo partnership when `serve` starts on an empty database: True
            (`PEERLOOP_DEMO=1`) whatever the database, False never, None (unset) only on the
            embedded default SQLite database (`loads_demo`).
        smtp_host, smtp_port, mail_from: outgoing mail (no host: email waits in the outbox).
        mail_digest: hold reminders for one daily digest per person, sent at
            `mail_digest_hour` local time (escalations still go at once).
        jobs: run the deadline sweep and the outbox in this process (see service/jobs.py).
        sweep_interval_seconds: the safety-net sweep interval.
        public_url: where people reach Peerloop, for links in email (default: host and port).
        secure_cookies: send the session cookie only over HTTPS (None: when the request came
            over HTTPS; set it true behind a proxy that ends TLS).
        webhook_allow_private: let webhooks reach private and loopback addresses (a receiver
            on the partnership's own network); by default only public ones.
        retain_evidence_years: how many years a cycle's evidence is kept after the cycle
            closes, where its template does not say (None: kept); applied nightly.
    """

    data_dir: Path = Path("var")
    database_url: str = ""
    auto_migrate: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 20 * 1024 * 1024
    timezone: str = DEFAULT_TIMEZONE
    log_format: str = "console"
    demo: bool | None = None
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "peerloop@localhost"
    mail_digest: bool = False
    mail_digest_hour: int = 7
    jobs: bool = True
    sweep_interval_seconds: float = 30.0
    cycle_cache: int = 4096
    public_url: str = ""
    secure_cookies: bool | None = None
    webhook_allow_private: bool = False
    retain_evidence_years: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'peerloop.db').resolve()}"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def loads_demo(self) -> bool:
        """Whether `serve` loads the demo into an empty database: when asked for, or by
        default on the embedded database only (a database named by URL is a real one)."""
        return self.demo if self.demo is not None else not self.database_url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        return cls(
            data_dir=Path(e.get("PEERLOOP_DATA_DIR", "var")),
            database_url=e.get("PEERLOOP_DATABASE_URL", ""),
            auto_migrate=e.get("PEERLOOP_AUTO_MIGRATE", "").lower() in ("1", "true", "yes"),
            host=e.get("PEERLOOP_HOST", "127.0.0.1"),
            port=int(e.get("PEERLOOP_PORT", "8000")),
            max_upload_bytes=int(e.get("PEERLOOP_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
            timezone=e.get("PEERLOOP_TIMEZONE", DEFAULT_TIMEZONE),
            log_format=e.get("PEERLOOP_LOG_FORMAT", "console"),
            demo=(
                None
                if not e.get("PEERLOOP_DEMO", "").strip()
                else e["PEERLOOP_DEMO"].strip().lower() in ("1", "true", "yes")
            ),
            smtp_host=e.get("PEERLOOP_SMTP_HOST", ""),
            smtp_port=int(e.get("PEERLOOP_SMTP_PORT", "25")),
            mail_from=e.get("PEERLOOP_MAIL_FROM", "peerloop@localhost"),
            mail_digest=e.get("PEERLOOP_MAIL_DIGEST", "").lower() in ("1", "true", "yes"),
            mail_digest_hour=int(e.get("PEERLOOP_MAIL_DIGEST_HOUR", "7")),
            jobs=e.get("PEERLOOP_JOBS", "1").lower() in ("1", "true", "yes"),
            sweep_interval_seconds=float(e.get("PEERLOOP_SWEEP_INTERVAL", "30")),
            cycle_cache=int(e.get("PEERLOOP_CYCLE_CACHE", "4096")),
            public_url=e.get("PEERLOOP_PUBLIC_URL", ""),
            secure_cookies=(
                None
                if "PEERLOOP_SECURE_COOKIES" not in e
                else e["PEERLOOP_SECURE_COOKIES"].lower() in ("1", "true", "yes")
            ),
            webhook_allow_private=e.get("PEERLOOP_WEBHOOK_ALLOW_PRIVATE", "").lower()
            in ("1", "true", "yes"),
            retain_evidence_years=(
                int(e["PEERLOOP_RETAIN_EVIDENCE_YEARS"])
                if e.get("PEERLOOP_RETAIN_EVIDENCE_YEARS")
                else None
            ),
        )
