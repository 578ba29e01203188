"""One batch at a time per output folder: a lock file with its owner, kept fresh while held.

The lock is ``OUTDIR/.batch.lock``, a small JSON record (host, pid, run, token, time). It
works on a shared file system (NFS on a cluster), where ``fcntl`` locks are unreliable:

- it is created complete, in one step (written to a private file, then hard-linked to its
  name, which fails if the name exists), so nobody ever reads a half-written lock;
- while held it is touched every :data:`HEARTBEAT_S` seconds;
- a lock is stale when its owner is on this host and no longer runs, or when it has not
  been touched for ``stale_after_s`` (its owner died on another host). Only a stale lock
  is broken, by renaming it aside and checking that the renamed file is the one judged
  stale (its token): a lock another run took in between is put back, never deleted;
- a run that cannot take the lock stops with a clear error: it never goes on without it;
- on release, the lock is removed only if it is still this run's (same token).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from screener.errors import ConfigError

log = logging.getLogger(__name__)

#: How often a held lock is touched, seconds.
HEARTBEAT_S = 30.0
#: A lock untouched this long is stale whatever its host (its owner would have touched it).
STALE_AFTER_S = 10 * HEARTBEAT_S
#: A lock file younger than this that cannot be read is being created: busy, not stale.
_YOUNG_S = 10.0
_ATTEMPTS = 3


class OutputLock:
    """The lock of one batch run on one output folder (use :func:`output_lock`).

    Parameters
    ----------
    path
        The lock file.
    run_id
        The run holding it, recorded in the file.
    stale_after_s
        Age (since its last heartbeat) beyond which a lock is stale on any host.
    """

    def __init__(self, path: Path, run_id: str, stale_after_s: float = STALE_AFTER_S) -> None:
        self.path = path
        self.stale_after_s = stale_after_s
        self.record = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "run_id": run_id,
            "token": uuid.uuid4().hex,
            "created_at": time.time(),
        }
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # ------------------------------------------------------------------ taking it
    def acquire(self) -> None:
        """Take the lock, breaking a stale one; raise :class:`ConfigError` if busy."""
        for _ in range(_ATTEMPTS):
            if self._create():
                self._start_heartbeat()
                return
            holder = _read(self.path)
            if not self._is_stale(holder):
                raise ConfigError(
                    f"another batch ({_describe(holder)}) is writing to this folder",
                    path=self.path.parent,
                    remedy="Wait for it to finish, or write to another folder with -o. If "
                    f"it has stopped, the lock {self.path} is taken over after "
                    f"{self.stale_after_s / 60:.0f} min without a heartbeat.",
                )
            self._break(holder)
        raise ConfigError(
            "could not take the output lock: other runs keep taking it",
            path=self.path.parent,
            remedy="Make sure only one batch writes to this folder.",
        )

    def _create(self) -> bool:
        """Create the lock file complete and in one step; False if it exists."""
        private = self.path.with_name(f"{self.path.name}.{self.record['token']}.new")
        private.write_text(json.dumps(self.record), encoding="utf-8")
        try:
            os.link(private, self.path)
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system: exclusive create instead
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.record))
            return True
        finally:
            private.unlink(missing_ok=True)

    def _is_stale(self, holder: dict[str, Any] | None) -> bool:
        age = _age_s(self.path)
        if age is None:  # gone meanwhile: try again
            return True
        if holder is None:  # unreadable: being written, or garbage left behind
            return age > _YOUNG_S
        if age > self.stale_after_s:
            return True
        if holder.get("host") != socket.gethostname():
            return False  # cannot see the process: only its heartbeat tells
        try:
            os.kill(int(holder.get("pid", -1)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError, OverflowError):
            return False
        return False

    def _break(self, judged: dict[str, Any] | None) -> None:
        """Remove the stale lock ``judged``, unless another run replaced it meanwhile."""
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex}")
        try:
            self.path.rename(aside)
        except FileNotFoundError:
            return
        taken = _read(aside)
        same = (taken or {}).get("token") == (judged or {}).get("token")
        if same:
            log.warning("took over a stale batch lock (%s)", _describe(judged))
            aside.unlink(missing_ok=True)
            return
        # Not the lock judged stale: a live run's. Put it back where it was.
        with contextlib.suppress(FileExistsError):
            os.link(aside, self.path)
        aside.unlink(missing_ok=True)

    # ------------------------------------------------------------------ holding it
    def _start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(HEARTBEAT_S):
                if self.holds():
                    with contextlib.suppress(OSError):
                        os.utime(self.path)
                else:
                    log.error("the batch lock %s was taken by another run", self.path)
                    return

        self._beat = threading.Thread(target=beat, name="batch-lock-heartbeat", daemon=True)
        self._beat.start()

    def holds(self) -> bool:
        """Whether the lock file is still this run's."""
        return (_read(self.path) or {}).get("token") == self.record["token"]

    def release(self) -> None:
        """Stop the heartbeat and remove the lock if it is still this run's."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        if not self.holds():
            log.warning("the batch lock %s is no longer this run's; left in place", self.path)
            return
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def output_lock(outdir: Path, run_id: str, name: str = ".batch.lock") -> Iterator[OutputLock]:
    """Hold the output folder's lock for the duration (see :class:`OutputLock`)."""
    lock = OutputLock(outdir / name, run_id)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _age_s(path: Path) -> float | None:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "owner unknown"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(holder.get("created_at", 0))))
    owner = f"pid {holder.get('pid')} on {holder.get('host')}"
    return f"run {holder.get('run_id')}, {owner}, since {since} UTC"
