"""Accounts: password hashing (argon2id), sign-in sessions, API tokens, CSRF, rate limiting.

Sessions are server-side: the cookie holds a random token, the database only its SHA-256,
so signing out (or deleting the row) ends the session everywhere. Each session has its own
CSRF token, which every form posts back. API clients use bearer tokens (also stored as
SHA-256 only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from screener.web.models import ApiToken, User, UserSession, utcnow

log = logging.getLogger(__name__)

SESSION_COOKIE = "screener_session"
LOGIN_CSRF_COOKIE = "screener_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "scr_"

_hasher = PasswordHasher()
#: A hash to verify against when the user name is unknown (same timing as a real check).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user name or password that cannot be used (message says why)."""


def sha256_hex(text: str) -> str:
    """SHA-256 of a token, as stored in the database."""
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Hash a password with argon2id.

    Raises
    ------
    AccountError
        The password is shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def create_user(db: Session, username: str, password: str, display_name: str = "") -> User:
    """Add an account (the caller commits).

    Raises
    ------
    AccountError
        The user name is empty, too long, has spaces or is taken; the password is too short.
    """
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AccountError("the user name must be 1-64 characters without spaces")
    taken = db.scalar(select(User.id).where(User.username == username))
    if taken is not None:
        raise AccountError(f"the user name {username!r} is taken")
    user = User(
        username=username,
        display_name=display_name.strip()[:128],
        password_hash=hash_password(password),
    )
    db.add(user)
    db.flush()
    return user


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same timing either way)."""
    user = db.scalar(select(User).where(User.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def start_session(db: Session, user: User, hours: float) -> tuple[str, UserSession]:
    """Create a session for a signed-in user (the caller commits).

    Returns
    -------
    token, session
        The cookie value (shown once, never stored) and the session row.
    """
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=sha256_hex(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + dt.timedelta(hours=hours),
    )
    db.add(row)
    db.execute(delete(UserSession).where(UserSession.expires_at < utcnow()))
    return token, row


def session_for_token(db: Session, token: str | None) -> UserSession | None:
    """The unexpired session of a cookie value, with an active user, or None."""
    if not token:
        return None
    row = db.scalar(select(UserSession).where(UserSession.token_hash == sha256_hex(token)))
    if row is None or row.expires_at < utcnow() or not row.user.is_active:
        return None
    return row


def end_session(db: Session, token: str | None) -> None:
    """Delete the session of a cookie value (the caller commits)."""
    if token:
        db.execute(delete(UserSession).where(UserSession.token_hash == sha256_hex(token)))


def create_api_token(db: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """Create a bearer token for the JSON API (the caller commits).

    Returns
    -------
    token, row
        The token (shown once, never stored) and its row.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=(name.strip() or "API token")[:64],
        token_hash=sha256_hex(token),
        prefix=token[:10],
    )
    db.add(row)
    db.flush()
    return token, row


def user_for_api_token(db: Session, token: str) -> User | None:
    """The active user of a bearer token, or None; records when the token was last used."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(token)))
    if row is None or not row.user.is_active:
        return None
    row.last_used_at = utcnow()
    return row.user


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens (False if either is missing)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass
class LoginLimiter:
    """Counts failed sign-ins per key (user name, client address) in a sliding window.

    Parameters
    ----------
    max_failures
        Failures allowed within the window before further attempts are refused.
    window_seconds
        Length of the window.

    Notes
    -----
    Kept in memory of the server process: a restart forgets the counts, and several
    server processes count separately.
    """

    max_failures: int
    window_seconds: float

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_seconds:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until a blocked key may try again (0 if none is blocked)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, self.window_seconds - (now - times[0]))
        return wait

    def record_failure(self, *keys: str) -> None:
        """Count one failed attempt against each key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def reset(self, *keys: str) -> None:
        """Forget the failures of keys (after a successful sign-in)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
