"""Administration of clinicians' accounts from the command line (no web page for it).

``screener reset-password USER`` sets a new password and ends the user's sessions;
``screener deactivate-user USER`` (``--reactivate`` to undo) blocks sign-in and API
tokens without deleting any patient data.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register_admin(subparsers: Any) -> None:
    """Add the account administration sub-commands."""
    from screener.web.cli import _settings_args

    r = subparsers.add_parser(
        "reset-password",
        help="set a clinician's password (ends their sessions)",
        description="Set a new password; it is asked twice, or read from stdin.",
    )
    _settings_args(r)
    r.add_argument("username")
    r.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    r.set_defaults(func=_reset_password)

    d = subparsers.add_parser(
        "deactivate-user",
        help="block a clinician's sign-in and API tokens (data kept)",
        description="Deactivate an account: sessions end, sign-in and tokens stop working.",
    )
    _settings_args(d)
    d.add_argument("username")
    d.add_argument("--reactivate", action="store_true", help="allow the account again")
    d.set_defaults(func=_deactivate)


register = register_admin


def _user(db: Any, username: str) -> Any:
    from sqlalchemy import select

    from screener.web.models import User

    return db.scalar(select(User).where(User.username == username))


def _end_sessions(db: Any, user: Any) -> None:
    from sqlalchemy import delete

    from screener.web.models import UserSession

    db.execute(delete(UserSession).where(UserSession.user_id == user.id))


def _reset_password(args: argparse.Namespace) -> int:
    from screener.web import auth
    from screener.web.cli import _database, _load, _read_password

    settings = _load(args)
    settings.ensure_dirs()
    sessions = _database(settings)
    with sessions() as db:
        user = _user(db, args.username)
        if user is None:
            sys.stderr.write(f"screener reset-password: error: no user {args.username!r}\n")
            return 1
        try:
            user.password_hash = auth.hash_password(_read_password(args.password_stdin))
        except (auth.AccountError, ValueError) as exc:
            sys.stderr.write(f"screener reset-password: error: {exc}\n")
            return 1
        _end_sessions(db, user)
        db.commit()
    sys.stderr.write(f"password of {args.username!r} reset; their sessions were ended\n")
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    from screener.web.cli import _database, _load

    settings = _load(args)
    settings.ensure_dirs()
    sessions = _database(settings)
    with sessions() as db:
        user = _user(db, args.username)
        if user is None:
            sys.stderr.write(f"screener deactivate-user: error: no user {args.username!r}\n")
            return 1
        user.is_active = bool(args.reactivate)
        if not args.reactivate:
            _end_sessions(db, user)
        db.commit()
    state = "reactivated" if args.reactivate else "deactivated (sessions ended, data kept)"
    sys.stderr.write(f"user {args.username!r} {state}\n")
    return 0
