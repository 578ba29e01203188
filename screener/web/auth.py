"""Accounts: password hashing (argon2id), sign-in sessions, API tokens, CSRF, sign-in limits.

Sessions are server-side: the cookie holds a random token, the database only its SHA-256,
so signing out (or deleting the row) ends the session everywhere. Each session has its own
CSRF token, which every form posts back. API clients use bearer tokens (also stored as
SHA-256 only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from screener.web.models import ApiToken, User, UserSession, utcnow
from screener.web.runtime_models import KnownAddress, LoginThrottle
from screener.web.settings import WebSettings

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


def address_key(address: str) -> str:
    """The client address as the limiter counts it.

    IPv6 addresses are counted per /64 network (one customer line usually holds a whole
    /64, so rotating inside it must not reset the count); IPv4 addresses as they are.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class SignInAttempt:
    """The limiter's answer to a sign-in attempt.

    Attributes
    ----------
    admitted
        The password may be checked (the attempt is already counted as a failure).
    retry_after
        Seconds to wait when not admitted.
    account, address
        The normalised account name and address key.
    counted
        The keys this attempt was counted under.
    """

    admitted: bool
    retry_after: float
    account: str
    address: str
    counted: tuple[str, ...] = ()

    @property
    def retry_after_header(self) -> str:
        """Whole seconds to wait, rounded up (the ``Retry-After`` header)."""
        return str(max(1, math.ceil(self.retry_after)))


class _ConflictError(Exception):
    """Another request changed a counter between our read and our write."""


class LoginLimiter:
    """Sign-in limits kept in the database: atomic across threads and server processes.

    Every attempt is first *reserved*: counted as a failure, with a compare-and-swap on each
    counter, before the password is checked, so concurrent attempts can never all pass
    the check. A successful sign-in gives the reservation back. Three counters:

    - ``pair:<account>|<address>``: ``login_max_failures`` free failures, then exponential
      back-off (``login_backoff_seconds`` doubled per failure, at most
      ``login_backoff_max_seconds``);
    - ``addr:<address>``: the same with ``login_address_max_failures`` (guessing many
      accounts from one place);
    - ``acct:<account>``: the same with ``login_max_failures``, over all addresses,
      except from an address the account signed in from within
      ``login_known_address_days`` (so attackers elsewhere delay, never lock out, the
      owner at a place they used before).

    A counter is forgotten ``login_window_seconds`` after its last failure; rows are
    pruned then, so the table holds only recent attempts.

    Parameters
    ----------
    settings
        The web settings (the ``login_*`` values).
    clock
        Seconds since the epoch (``time.time``; a test may pass its own).
    """

    #: How often (seconds) a process prunes forgotten rows.
    PRUNE_EVERY_S = 60.0
    #: Compare-and-swap rounds before an attempt is refused as contended.
    MAX_ROUNDS = 50

    def __init__(self, settings: WebSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._last_prune = -math.inf

    def backoff(self, extra_failures: int) -> float:
        """Wait after ``extra_failures`` failures beyond the free ones (1 = the first wait)."""
        s = self.settings
        exponent = min(max(extra_failures - 1, 0), 30)
        return float(min(s.login_backoff_seconds * 2**exponent, s.login_backoff_max_seconds))

    def _rules(self, db: Session, account: str, address: str, now: float) -> list[tuple[str, int]]:
        s = self.settings
        rules = [
            (f"pair:{account}|{address}", s.login_max_failures),
            (f"addr:{address}", s.login_address_max_failures),
        ]
        if not self._known(db, account, address, now):
            rules.append((f"acct:{account}", s.login_max_failures))
        return rules

    def _known(self, db: Session, account: str, address: str, now: float) -> bool:
        since = now - self.settings.login_known_address_days * 86400
        found = db.scalar(
            select(KnownAddress.user_id)
            .join(User, User.id == KnownAddress.user_id)
            .where(
                func.lower(User.username) == account,
                KnownAddress.address == address,
                KnownAddress.seen_at >= since,
            )
            .limit(1)
        )
        return found is not None

    def reserve(self, db: Session, username: str, address: str) -> SignInAttempt:
        """Count an attempt before its password is checked, or refuse it.

        Parameters
        ----------
        db
            A session (committed here).
        username
            The user name as typed.
        address
            The client's address (``request.client.host``, which
            :class:`~screener.web.app.TrustedProxyHeaders` set from a trusted proxy's
            ``X-Forwarded-For``).

        Returns
        -------
        SignInAttempt
            ``admitted`` False with ``retry_after`` when a counter is in back-off.
        """
        account = username.strip().lower()[:64]
        addr = address_key(address)
        db.commit()
        self._prune(db)
        for _ in range(self.MAX_ROUNDS):
            now = self.clock()
            rules = self._rules(db, account, addr, now)
            keys = [key for key, _ in rules]
            rows = {
                key: (failures, last_at, version)
                for key, failures, last_at, version in db.execute(
                    select(
                        LoginThrottle.key,
                        LoginThrottle.failures,
                        LoginThrottle.last_at,
                        LoginThrottle.version,
                    ).where(LoginThrottle.key.in_(keys))
                )
            }
            db.commit()
            wait = 0.0
            writes: list[tuple[str, int, int | None]] = []
            for key, free in rules:
                failures, last_at, version = rows.get(key, (0, 0.0, None))
                if now - last_at > self.settings.login_window_seconds:
                    failures = 0
                if failures >= free:
                    ready = last_at + self.backoff(failures - free + 1)
                    if ready > now:
                        wait = max(wait, ready - now)
                        continue
                writes.append((key, failures + 1, version))
            if wait > 0:
                return SignInAttempt(False, wait, account, addr)
            try:
                for key, failures, version in sorted(writes):
                    self._write(db, key, failures, version, now)
                db.commit()
            except (_ConflictError, IntegrityError, OperationalError) as exc:
                db.rollback()
                log.debug("sign-in counter contended (%s); reading again", type(exc).__name__)
                continue
            return SignInAttempt(True, 0.0, account, addr, tuple(k for k, _, _ in writes))
        log.warning("sign-in counters of %r stayed contended; attempt refused", account)
        return SignInAttempt(False, 1.0, account, addr)

    @staticmethod
    def _write(db: Session, key: str, failures: int, version: int | None, now: float) -> None:
        if version is None:
            db.add(LoginThrottle(key=key, failures=failures, last_at=now, version=1))
            db.flush()
            return
        done = db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.version == version)
            .values(failures=failures, last_at=now, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(done, "rowcount", 0) or 0) != 1:
            raise _ConflictError(key)

    def succeeded(self, db: Session, attempt: SignInAttempt, user: User) -> None:
        """Give back a successful attempt's reservation; remember the address (commits).

        The account's counter from this address is cleared; the address-wide and
        account-wide counters only lose this attempt (others' failures stay counted).
        """
        pair = f"pair:{attempt.account}|{attempt.address}"
        db.execute(delete(LoginThrottle).where(LoginThrottle.key == pair))
        others = [key for key in attempt.counted if key != pair]
        if others:
            db.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key.in_(others), LoginThrottle.failures > 0)
                .values(failures=LoginThrottle.failures - 1, version=LoginThrottle.version + 1)
                .execution_options(synchronize_session=False)
            )
        db.commit()
        now = self.clock()
        seen = update(KnownAddress).where(
            KnownAddress.user_id == user.id, KnownAddress.address == attempt.address
        )
        if int(getattr(db.execute(seen.values(seen_at=now)), "rowcount", 0) or 0) == 0:
            try:
                db.add(KnownAddress(user_id=user.id, address=attempt.address, seen_at=now))
                db.commit()
            except IntegrityError:  # the same account signed in from there at the same time
                db.rollback()
                return
        db.commit()

    def _prune(self, db: Session) -> None:
        now = self.clock()
        if now - self._last_prune < self.PRUNE_EVERY_S:
            return
        self._last_prune = now
        s = self.settings
        try:
            db.execute(
                delete(LoginThrottle).where(LoginThrottle.last_at < now - s.login_window_seconds)
            )
            db.execute(
                delete(KnownAddress).where(
                    KnownAddress.seen_at < now - s.login_known_address_days * 86400
                )
            )
            db.commit()
        except OperationalError:
            db.rollback()
            log.warning("could not prune the sign-in counters now; trying again later")


def describe_wait(seconds: float) -> str:
    """``'40 seconds'``, ``'3 minutes'``: a wait as the sign-in page says it."""
    if seconds < 90:
        n = max(1, math.ceil(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    n = math.ceil(seconds / 60)
    return f"{n} minutes"
