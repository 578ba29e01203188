"""``screener serve`` supervises its worker: a killed worker is restarted and its job finished.

The server runs as a real process on a free port with a SQLite database in its data folder;
the worker it starts is killed with SIGKILL. The first test only needs the processes; the
second (marked ``video``) runs the real analysis of a sample clip through the web API.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from screener.web import auth
from screener.web.app import create_app
from screener.web.models import Job, User
from screener.web.runtime_models import WorkerHeartbeat
from screener.web.settings import WebSettings
from tests.web.helpers import add_user
from tests.web.test_e2e_video import sample_video, wait_for


@dataclass
class Served:
    """A running ``screener serve`` and what the test needs to talk to it."""

    process: subprocess.Popen[bytes]
    url: str
    settings: WebSettings
    sessions: Any

    def worker_pids(self) -> list[int]:
        """Process ids of the workers with a heartbeat row."""
        with self.sessions() as s:
            ids = list(s.scalars(select(WorkerHeartbeat.worker_id)))
        return sorted(int(i.rsplit(":", 1)[1]) for i in ids)

    def health(self) -> dict[str, Any]:
        """The /healthz answer (any status code)."""
        body: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=10).json()
        return body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[Served]:
    """``screener serve`` on a fresh data folder (4 s leases, 0.5 s heartbeats)."""
    settings = WebSettings(data_dir=tmp_path / "data", lease_seconds=4.0)
    sessions = create_app(settings).state.sessions  # migrated; the server migrates again
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENER_")}
    env.update(
        SCREENER_LEASE_SECONDS="4",
        SCREENER_POLL_SECONDS="0.2",
        SCREENER_WORKER_HEARTBEAT_SECONDS="0.5",
    )
    cmd = [sys.executable, "-m", "screener.cli", "serve", "--port", str(port)]
    with (tmp_path / "serve.out").open("ab") as out:
        process = subprocess.Popen(
            [*cmd, "--data-dir", str(settings.data_dir)], env=env, stdout=out, stderr=out
        )
    run = Served(process, f"http://127.0.0.1:{port}", settings, sessions)
    try:
        wait_for(lambda: len(run.worker_pids()) == 1, 120, "the worker's first heartbeat")

        def answers() -> bool:
            try:
                return run.health()["live_workers"] == 1
            except httpx.HTTPError:
                return False

        wait_for(answers, 60, "the server to answer /healthz")
        yield run
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_killed_worker_is_restarted(served: Served, tmp_path: Path) -> None:
    (first,) = served.worker_pids()
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: served.worker_pids() not in ([], [first]), 60, "a new worker")
    (second,) = served.worker_pids()
    assert second != first and _alive(second)
    assert served.health() == {"status": "ok", "live_workers": 1, "waiting_jobs": 0}
    server_log = (served.settings.logs_dir / "server.log").read_text()
    assert f"worker (pid {first}) exited with code -9; restarting it" in server_log
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=60)
    wait_for(lambda: not _alive(second), 30, "the worker to stop with its server")
    assert served.worker_pids() == []  # it said goodbye


@pytest.mark.video
def test_the_job_of_a_killed_worker_is_still_done(served: Served) -> None:
    add_user(served.sessions, "alice")
    with served.sessions() as s:
        user = s.scalars(select(User)).one()
        token, _ = auth.create_api_token(s, user, "test")
        s.commit()
    clip = sample_video("walk")
    api = httpx.Client(
        base_url=f"{served.url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    pid = api.post("/patients", json={"code": "SUP-1"}).json()["id"]
    vid = api.post(f"/patients/{pid}/visits", json={"pain": 4}).json()["id"]
    upload = api.post(
        f"/visits/{vid}/recordings",
        data={"kind": "walk", "view": "anterior"},
        files={"video": (clip.name, clip.read_bytes(), "video/mp4")},
    )
    assert upload.status_code == 201, upload.text
    rid = upload.json()["id"]

    def job() -> Job:
        with served.sessions() as s:
            row = s.get(Job, 1)
            assert row is not None
            return row

    wait_for(lambda: job().status == "running", 120, "the worker to claim the job")
    killed = job()
    os.kill(int(str(killed.worker_id).rsplit(":", 1)[1]), signal.SIGKILL)
    wait_for(lambda: job().status in ("done", "failed"), 600, "the restarted worker to finish")
    finished = job()
    assert finished.status == "done", finished.error
    assert finished.attempts == 2 and finished.worker_id != killed.worker_id
    state = api.get(f"/recordings/{rid}").json()
    assert state["job"]["status"] == "done"
    assert served.health()["status"] == "ok"
    leftovers = [p.name for p in served.settings.tmp_dir.iterdir() if p.name.startswith("job")]
    assert leftovers == []
