"""``screener serve``, ``screener worker``, ``screener create-user``, ``screener create-token``.

Heavy modules (FastAPI, SQLAlchemy, MediaPipe) are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import subprocess
import sys
import tempfile
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for the database, videos, results and logs "
        "(default: $SCREENER_DATA_DIR or ./screener-data)",
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db "
        "(default: $SCREENER_DATABASE_URL or a SQLite file in the data folder)",
    )


def _job_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--keep-videos",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep original videos after analysis (default: $SCREENER_KEEP_VIDEOS or yes)",
    )


def register(subparsers: Any) -> None:
    """Add the web app's sub-commands."""
    p = subparsers.add_parser(
        "serve",
        help="run the clinic web app",
        description="Run the web app (and, unless --no-worker, one analysis worker).",
    )
    _settings_args(p)
    _job_args(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--max-upload-mb", type=float, default=None, help="upload limit (default 500)")
    p.add_argument(
        "--secure-cookies",
        choices=["auto", "always", "never"],
        default=None,
        help="mark cookies Secure: auto = when the request came over https (default)",
    )
    p.add_argument(
        "--trusted-proxies",
        default=None,
        metavar="ADDRESSES",
        help="comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For/-Proto headers are believed (default: $SCREENER_TRUSTED_PROXIES "
        "or none)",
    )
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start a worker process (run `screener worker` separately)",
    )
    p.set_defaults(func=_serve)

    w = subparsers.add_parser(
        "worker",
        help="process the web app's analysis jobs",
        description="Claim queued analyses from the database and run them (screener.analyze).",
    )
    _settings_args(w)
    _job_args(w)
    w.add_argument("--once", action="store_true", help="exit when the queue is empty")
    w.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    w.add_argument("--lease-seconds", type=float, default=None, help="job lease (default 60)")
    w.add_argument(
        "--poll-seconds", type=float, default=None, help="idle poll interval (default 2)"
    )
    w.set_defaults(func=_worker)

    u = subparsers.add_parser(
        "create-user",
        help="create a clinician's account for the web app",
        description="Create an account. The password is asked twice, or read from stdin.",
    )
    _settings_args(u)
    u.add_argument("username")
    u.add_argument("--display-name", default="", help="name shown in the app")
    u.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    u.set_defaults(func=_create_user)

    t = subparsers.add_parser(
        "create-token",
        help="create an API token for a clinician",
        description="Create a bearer token for the JSON API; it is printed once.",
    )
    _settings_args(t)
    t.add_argument("username")
    t.add_argument("--name", default="command line", help="label of the token")
    t.set_defaults(func=_create_token)


def _load(args: argparse.Namespace, **extra: Any) -> Any:
    from screener.web.settings import load_settings

    return load_settings(
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
        keep_videos=getattr(args, "keep_videos", None),
        **extra,
    )


def _contain(settings: Any, log_name: str) -> None:
    """Keep temporary files, caches and logs of this process inside the data folder."""
    settings.ensure_dirs()
    tmp = str(settings.tmp_dir.resolve())
    tempfile.tempdir = tmp
    os.environ["TMPDIR"] = tmp
    os.environ.setdefault("MPLCONFIGDIR", str((settings.data_dir / "mpl").resolve()))
    root = logging.getLogger()
    console_level = root.level or logging.WARNING
    for handler in root.handlers:
        handler.setLevel(console_level)
    root.setLevel(min(console_level, logging.INFO))
    handler = RotatingFileHandler(
        settings.logs_dir / f"{log_name}.log", maxBytes=5_000_000, backupCount=3
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)


def _database(settings: Any) -> Any:
    from screener.web import db

    engine = db.make_engine(settings)
    db.upgrade_database(settings, engine)
    return db.make_sessionmaker(engine)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy import select

    from screener.web import storage
    from screener.web.app import create_app
    from screener.web.models import Job, Recording

    settings = _load(
        args,
        max_upload_mb=args.max_upload_mb,
        secure_cookies=args.secure_cookies,
        trusted_proxies=args.trusted_proxies,
    )
    _contain(settings, "server")
    sessions = _database(settings)
    with sessions() as db:
        uploads = {n for n in db.scalars(select(Recording.stored_name)) if n}
        results = {n for n in db.scalars(select(Job.result_dir)) if n}
    storage.sweep_orphans(settings, uploads, results)
    app = create_app(settings, sessions=sessions)
    supervisor = None if args.no_worker else WorkerSupervisor(settings, sessions)
    if supervisor is not None:
        supervisor.start()
    sys.stderr.write(
        f"screener serve: http://{args.host}:{args.port}/ (data folder: "
        f"{settings.data_dir.resolve()}; "
        f"{'no worker' if supervisor is None else 'worker started and supervised'})\n"
    )
    try:
        # Forwarded headers are handled by the app, only from settings.trusted_proxies.
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, proxy_headers=False)
    finally:
        if supervisor is not None:
            supervisor.stop()
    return 0


class WorkerSupervisor:
    """Runs the ``screener worker`` process of ``screener serve`` and restarts it if it dies.

    A worker that exits while the server runs (crash, out of memory, killed) is started
    again after a pause that doubles while it keeps dying quickly (1 s up to
    :attr:`MAX_PAUSE_S`); the jobs the dead process held are released at once, so the
    new worker re-queues them without waiting for their leases to run out.

    Parameters
    ----------
    settings
        The web settings (data folder, database, keep_videos).
    sessions
        Session factory, to release the dead worker's jobs.
    """

    MIN_PAUSE_S = 1.0
    MAX_PAUSE_S = 60.0
    #: A worker that ran this long before dying is restarted after the shortest pause.
    HEALTHY_AFTER_S = 60.0

    def __init__(self, settings: Any, sessions: Any) -> None:
        import threading

        self.settings = settings
        self.sessions = sessions
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        """Start the worker and the thread that watches it."""
        with self._lock:
            self.process = _spawn_worker(self.settings)
        self._thread.start()

    def _watch(self) -> None:
        import socket
        import time

        from screener.web import jobs

        pause = self.MIN_PAUSE_S
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.HEALTHY_AFTER_S:
                pause = self.MIN_PAUSE_S
            log.error(
                "the analysis worker (pid %d) exited with code %s; restarting it in %.0f s",
                process.pid,
                code,
                pause,
            )
            try:
                with self.sessions() as db:
                    released = jobs.release_jobs_of(db, f"{socket.gethostname()}:{process.pid}")
                if released:
                    log.warning("%d job(s) of the dead worker released to the queue", released)
            except Exception:
                log.exception("could not release the dead worker's jobs (their leases will end)")
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, self.MAX_PAUSE_S)
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self.process = _spawn_worker(self.settings)
                except OSError:
                    log.exception("could not start the analysis worker; trying again")

    def stop(self) -> None:
        """Stop watching and stop the worker (a running job is handed back to the queue)."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._thread.join(timeout=5)


def _spawn_worker(settings: Any) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "screener.cli", "worker", "--data-dir", str(settings.data_dir)]
    cmd += ["--keep-videos" if settings.keep_videos else "--no-keep-videos", "--exit-with-parent"]
    env = dict(os.environ)
    if settings.database_url:
        env["SCREENER_DATABASE_URL"] = settings.database_url
    return subprocess.Popen(cmd, env=env)


def _worker(args: argparse.Namespace) -> int:
    import threading

    from screener.web.jobs import run_worker

    settings = _load(args, lease_seconds=args.lease_seconds, poll_seconds=args.poll_seconds)
    _contain(settings, "worker")
    sessions = _database(settings)
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping (a running job is handed back to the queue)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.exit_with_parent:
        _watch_parent(stop)
    run_worker(sessions, settings, stop=stop, once=args.once)
    return 0


def _watch_parent(stop: Any) -> None:
    """Stop the worker when the ``screener serve`` that started it is gone (even if killed)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while not stop.is_set():
            if os.getppid() != parent:
                log.warning("the server that started this worker is gone; stopping")
                stop.set()
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise ValueError("the passwords differ")
    return first


def _create_user(args: argparse.Namespace) -> int:
    from screener.web import auth

    settings = _load(args)
    settings.ensure_dirs()
    sessions = _database(settings)
    try:
        password = _read_password(args.password_stdin)
        with sessions() as db:
            user = auth.create_user(db, args.username, password, args.display_name)
            db.commit()
    except (auth.AccountError, ValueError) as exc:
        sys.stderr.write(f"screener create-user: error: {exc}\n")
        return 1
    sys.stderr.write(f"created user {user.username!r} (id {user.id})\n")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from screener.web import auth
    from screener.web.models import User

    settings = _load(args)
    settings.ensure_dirs()
    sessions = _database(settings)
    with sessions() as db:
        user = db.scalar(select(User).where(User.username == args.username))
        if user is None:
            sys.stderr.write(f"screener create-token: error: no user {args.username!r}\n")
            return 1
        token, _ = auth.create_api_token(db, user, args.name)
        db.commit()
    sys.stdout.write(token + "\n")
    return 0
