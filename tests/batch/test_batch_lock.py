"""The output lock: one batch per folder, stale locks taken over, live ones never deleted."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from screener.batch.lock import STALE_AFTER_S, OutputLock, output_lock
from screener.errors import ConfigError


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_lock(
    path: Path, *, host: str, pid: int, token: str = "theirs", age_s: float = 0
) -> None:
    path.write_text(
        json.dumps(
            {"host": host, "pid": pid, "run_id": "other-run", "token": token, "created_at": 0}
        )
    )
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))


def test_second_run_is_refused_with_the_owner_named(tmp_path):
    with output_lock(tmp_path, "run-1") as lock:
        record = json.loads(lock.path.read_text())
        assert record["pid"] == os.getpid() and record["run_id"] == "run-1"
        with pytest.raises(ConfigError, match=r"another batch \(run run-1, pid \d+ on") as info:
            OutputLock(tmp_path / ".batch.lock", "run-2").acquire()
        assert str(tmp_path) in info.value.one_line()
        assert lock.holds()
    assert not (tmp_path / ".batch.lock").exists()


def test_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_path, caplog):
    path = tmp_path / ".batch.lock"
    _write_lock(path, host=socket.gethostname(), pid=_dead_pid())
    with output_lock(tmp_path, "run-2") as lock:
        assert lock.holds()
        assert json.loads(path.read_text())["run_id"] == "run-2"
    assert "took over a stale batch lock" in caplog.text


def test_fresh_lock_of_another_host_is_respected_until_its_heartbeat_stops(tmp_path):
    path = tmp_path / ".batch.lock"
    _write_lock(path, host="node-17.cluster", pid=1234)
    with pytest.raises(ConfigError, match=r"node-17\.cluster"):
        OutputLock(path, "run-2").acquire()
    assert json.loads(path.read_text())["token"] == "theirs"
    _write_lock(path, host="node-17.cluster", pid=1234, age_s=STALE_AFTER_S + 60)
    with output_lock(tmp_path, "run-2") as lock:
        assert lock.holds()


def test_live_process_lock_on_this_host_is_respected(tmp_path):
    path = tmp_path / ".batch.lock"
    _write_lock(path, host=socket.gethostname(), pid=os.getppid())
    with pytest.raises(ConfigError, match="another batch"):
        OutputLock(path, "run-2").acquire()
    assert json.loads(path.read_text())["token"] == "theirs"


def test_lock_being_created_is_busy_not_stale(tmp_path):
    path = tmp_path / ".batch.lock"
    path.write_text("")  # created, owner not written yet
    with pytest.raises(ConfigError, match="owner unknown"):
        OutputLock(path, "run-2").acquire()
    assert path.exists()
    then = time.time() - 60  # left empty for a minute: garbage
    os.utime(path, (then, then))
    with output_lock(tmp_path, "run-2") as lock:
        assert lock.holds()


def test_release_never_deletes_another_runs_lock(tmp_path):
    lock = OutputLock(tmp_path / ".batch.lock", "run-1")
    lock.acquire()
    _write_lock(lock.path, host="elsewhere", pid=1, token="someone-else")
    assert not lock.holds()
    lock.release()
    assert json.loads(lock.path.read_text())["token"] == "someone-else"


def test_breaking_puts_back_a_lock_replaced_meanwhile(tmp_path):
    path = tmp_path / ".batch.lock"
    _write_lock(path, host=socket.gethostname(), pid=_dead_pid(), token="stale-one")
    judged = json.loads(path.read_text())
    # Between judging it stale and breaking it, another run took the lock.
    _write_lock(path, host="elsewhere", pid=1, token="new-owner")
    OutputLock(path, "run-2")._break(judged)
    assert json.loads(path.read_text())["token"] == "new-owner"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".batch.lock"]
