"""Settings of the web app and worker, with their defaults, in one place.

Every setting can be given as an environment variable (``SCREENER_<NAME>``, upper case)
or, for the commands, as an option; options win over the environment.

==========================  ===================================  ===============================
setting                     environment variable                 default
==========================  ===================================  ===============================
data_dir                    SCREENER_DATA_DIR                    ``./screener-data``
database_url                SCREENER_DATABASE_URL                SQLite file in data_dir
max_upload_mb               SCREENER_MAX_UPLOAD_MB               500
keep_videos                 SCREENER_KEEP_VIDEOS                 true
secure_cookies              SCREENER_SECURE_COOKIES              auto (Secure over https)
session_hours               SCREENER_SESSION_HOURS               12
lease_seconds               SCREENER_LEASE_SECONDS               60
poll_seconds                SCREENER_POLL_SECONDS                2
max_attempts                SCREENER_MAX_ATTEMPTS                3
login_max_failures          SCREENER_LOGIN_MAX_FAILURES          5
login_address_max_failures  SCREENER_LOGIN_ADDRESS_MAX_FAILURES  20
login_backoff_seconds       SCREENER_LOGIN_BACKOFF_SECONDS       30
login_backoff_max_seconds   SCREENER_LOGIN_BACKOFF_MAX_SECONDS   900
login_window_seconds        SCREENER_LOGIN_WINDOW_SECONDS        3600
login_known_address_days    SCREENER_LOGIN_KNOWN_ADDRESS_DAYS    90
trusted_proxies             SCREENER_TRUSTED_PROXIES             none
hsts_seconds                SCREENER_HSTS_SECONDS                31536000 (one year)
worker_heartbeat_seconds    SCREENER_WORKER_HEARTBEAT_SECONDS    5
==========================  ===================================  ===============================

List settings (``trusted_proxies``) are given in the environment as comma-separated text.
"""

from __future__ import annotations

import ipaddress
import os
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from screener.errors import ConfigError

DEFAULT_DATA_DIR = Path("screener-data")
ENV_PREFIX = "SCREENER_"


class WebSettings(BaseModel):
    """Validated settings of ``screener serve`` and ``screener worker``.

    Attributes
    ----------
    data_dir
        The one folder where the app stores anything: the SQLite database (by default),
        uploaded videos, results, the keypoint cache, temporary files and logs.
    database_url
        SQLAlchemy URL; None means ``sqlite:///<data_dir>/screener.db``. For a clinic
        server: ``postgresql+psycopg://user:password@host/dbname``.
    max_upload_mb
        Largest accepted video, in megabytes (10^6 bytes).
    keep_videos
        Keep the original video after its analysis (False: delete it once the job ends;
        the results and report are kept).
    secure_cookies
        ``auto``: cookies are marked Secure when the request came over https;
        ``always`` or ``never`` force it.
    session_hours
        Lifetime of a sign-in.
    lease_seconds
        How long a worker's claim on a job lasts without a heartbeat; a job whose lease
        ran out (worker killed) is queued again.
    poll_seconds
        How often an idle worker looks for work.
    max_attempts
        A job whose worker died this many times is marked failed instead of re-queued.
    login_max_failures
        Failed sign-ins allowed, without delay, per account from one address, and per
        account from addresses it never signed in from; further attempts wait
        (exponential back-off). See ``screener/web/README.md`` (Sign-in limits).
    login_address_max_failures
        Failed sign-ins allowed, without delay, from one address over all accounts.
    login_backoff_seconds, login_backoff_max_seconds
        The first wait after the allowed failures, doubled after every further failure,
        up to the maximum.
    login_window_seconds
        Failures are forgotten after this long without a new one.
    login_known_address_days
        An address an account signed in from is "known" to it for this long; the
        account-wide back-off does not apply there (attackers elsewhere cannot delay the
        owner at the clinic).
    trusted_proxies
        Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``) of reverse proxies whose
        ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers are believed. Empty: the
        headers are ignored and the peer address of the connection is the client.
    hsts_seconds
        ``max-age`` of the ``Strict-Transport-Security`` header sent on https requests
        (directly or through a trusted proxy saying https); 0 sends none.
    worker_heartbeat_seconds
        How often a worker records that it is alive; it counts as gone after three
        missed heartbeats (shown on /healthz and on the job page).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    max_upload_mb: float = Field(500.0, gt=0)
    keep_videos: bool = True
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    session_hours: float = Field(12.0, gt=0)
    lease_seconds: float = Field(60.0, gt=0)
    poll_seconds: float = Field(2.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    login_max_failures: int = Field(5, ge=1)
    login_address_max_failures: int = Field(20, ge=1)
    login_backoff_seconds: float = Field(30.0, gt=0)
    login_backoff_max_seconds: float = Field(900.0, gt=0)
    login_window_seconds: float = Field(3600.0, gt=0)
    login_known_address_days: float = Field(90.0, ge=0)
    trusted_proxies: tuple[str, ...] = ()
    hsts_seconds: int = Field(31_536_000, ge=0)
    worker_heartbeat_seconds: float = Field(5.0, gt=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.replace(" ", ",").split(",") if part]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
                ) from exc
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The trusted proxies as networks."""
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies)

    @property
    def worker_stale_seconds(self) -> float:
        """A worker without a heartbeat for this long counts as gone."""
        return 3 * self.worker_heartbeat_seconds

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * 1_000_000)

    @property
    def db_url(self) -> str:
        """The database URL actually used."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'screener.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        """Uploaded videos, under generated names."""
        return self.data_dir / "uploads"

    @property
    def results_dir(self) -> Path:
        """One folder per finished analysis."""
        return self.data_dir / "results"

    @property
    def tmp_dir(self) -> Path:
        """Partial uploads, exports being built, the process's temporary files."""
        return self.data_dir / "tmp"

    @property
    def cache_dir(self) -> Path:
        """Keypoint cache of the analyses."""
        return self.data_dir / "cache"

    @property
    def logs_dir(self) -> Path:
        """Log files of the server and the workers."""
        return self.data_dir / "logs"

    def ensure_dirs(self) -> None:
        """Create the data folder and its sub-folders (owner-only permissions)."""
        for folder in (
            self.data_dir,
            self.uploads_dir,
            self.results_dir,
            self.tmp_dir,
            self.cache_dir,
            self.logs_dir,
        ):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def load_settings(**overrides: Any) -> WebSettings:
    """Settings from the environment, with explicit overrides (None values ignored).

    Parameters
    ----------
    **overrides
        Field values that win over the environment, e.g. from command-line options.

    Returns
    -------
    WebSettings

    Raises
    ------
    ConfigError
        An environment variable or option has an invalid value.
    """
    values: dict[str, Any] = {}
    for name in WebSettings.model_fields:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env not in (None, ""):
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return WebSettings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"invalid web setting {key} ({ENV_PREFIX}{key.upper()}): {err['msg']}",
            remedy="See screener/web/settings.py for the settings and their defaults.",
        ) from exc
