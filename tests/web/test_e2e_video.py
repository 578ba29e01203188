"""End to end with the real analysis: a worker process killed mid-job, a new one finishes it.

A sample video and a video without a person (which the analysis refuses) are uploaded through
the API; a ``screener worker`` process claims the first job and is killed with SIGKILL;
the server is "restarted" (a new app on the same data folder); a second worker re-queues
the job once its lease runs out and finishes both. The pages then show the flags of the
real summary, the report and the PDF, and the refused video's one-line error.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from screener.web.app import create_app
from screener.web.models import Job
from screener.web.settings import WebSettings
from tests.conftest import write_video
from tests.web.helpers import SAMPLES, add_user, sign_in

pytestmark = pytest.mark.video

LEASE_S = 4.0


def sample_video(task: str = "walk") -> Path:
    """A rendered sample clip of a task (the fixtures of the video tests)."""
    clips = sorted(SAMPLES.glob(f"{task}*.mp4")) or sorted(SAMPLES.glob("*.mp4"))
    if not clips:
        pytest.fail(f"no sample videos in {SAMPLES}: render them first (see README)")
    return clips[0]


def start_worker(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """A ``screener worker`` process on a data folder."""
    cmd = [sys.executable, "-m", "screener.cli", "-v", "worker", "--data-dir", str(data_dir)]
    cmd += ["--lease-seconds", str(LEASE_S), "--poll-seconds", "0.2"]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def wait_for(predicate: Any, timeout_s: float, what: str) -> None:
    """Poll until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def test_killed_worker_and_server_lose_nothing(tmp_path: Path) -> None:
    settings = WebSettings(data_dir=tmp_path / "data", lease_seconds=LEASE_S)
    first_app = create_app(settings)
    sessions = first_app.state.sessions
    add_user(sessions, "alice")
    clip = sample_video("walk")
    no_person = write_video(tmp_path / "no-person.mp4", n_frames=90, size=(320, 240))
    with TestClient(first_app) as client:
        csrf = sign_in(client, "alice")
        headers = {"X-CSRF-Token": csrf}
        pid = client.post("/api/patients", json={"code": "E2E-1"}, headers=headers).json()["id"]
        vid = client.post(
            f"/api/patients/{pid}/visits",
            json={"pain": 5, "first_line_done": True},
            headers=headers,
        ).json()["id"]
        good = client.post(
            f"/api/visits/{vid}/recordings",
            data={"kind": "walk", "view": "anterior"},
            files={"video": (clip.name, clip.read_bytes(), "video/mp4")},
            headers=headers,
        ).json()["id"]
        refused_id = client.post(
            f"/api/visits/{vid}/recordings",
            data={"kind": "jog"},
            files={"video": ("no-person.mp4", no_person.read_bytes(), "video/mp4")},
            headers=headers,
        ).json()["id"]
    del first_app, client  # the server is gone; everything is in the data folder

    def job(job_id: int) -> Job:
        with sessions() as s:
            row = s.get(Job, job_id)
            assert row is not None
            return row

    log = tmp_path / "workers.log"
    doomed = start_worker(settings.data_dir, log)
    try:
        wait_for(lambda: job(1).status == "running", 120, "the first worker to claim the job")
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=30)
    killed = job(1)
    assert killed.status == "running" and killed.attempts == 1  # left mid-job

    rescuer = start_worker(settings.data_dir, log)
    try:
        wait_for(
            lambda: job(1).status in ("done", "failed") and job(2).status in ("done", "failed"),
            600,
            "the second worker to finish both jobs",
        )
    finally:
        rescuer.send_signal(signal.SIGTERM)
        rescuer.wait(timeout=60)
    finished = job(1)
    assert finished.status == "done", (finished.error, log.read_text()[-3000:])
    assert finished.attempts == 2 and finished.worker_id != killed.worker_id
    refused = job(2)
    assert refused.status == "failed"
    assert refused.error is not None and refused.error.startswith("no-person.mp4: ")
    assert "\n" not in refused.error and "Traceback" not in refused.error

    folder = settings.results_dir / str(finished.result_dir)
    for name in ("frames.csv", "events.csv", "summary.json", "report.html", "report.pdf"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["task"] == "walk" and summary["faults"]
    assert summary["plan"]["pain"] == 5
    assert not list(settings.results_dir.glob(".staging-*"))

    restarted = create_app(settings)  # a new server on the same data folder
    with TestClient(restarted) as client:
        sign_in(client, "alice")
        page = client.get(f"/recordings/{good}").text
        for fault in summary["faults"]:
            if fault["metric"] == "femoral_ir_deg":  # research value, not on clinical pages
                assert fault["label"] not in page
                continue
            assert fault["label"] in page
        flagged = [f for f in summary["faults"] if f["severity"] != "none"]
        for fault in flagged:
            assert f'class="sev-{fault["severity"]}' in page
        clinical = [f for f in summary["faults"] if f["metric"] != "femoral_ir_deg"]
        for fault in clinical:  # a value without a call says why, in the row
            if fault["verdict"] not in ("flag", "no flag"):
                assert str(escape(fault["note"])) in page, fault["note"]
        # the same tally as the CLI's one-line result, counted here from the verdicts
        no_call = sum(
            f["verdict"] in ("withheld", "cannot rule out") and not f["value_hidden"]
            for f in clinical
        )
        assert f"{sum(f['verdict'] == 'flag' for f in clinical)} flagged" in page
        assert (f", {no_call} shown without a call" in page) == (no_call > 0)
        assert summary["plan"]["message"] in page
        # what the screener noticed about the recording is on the page, not only in the report
        warnings = summary["quality"]["warnings"]
        assert ('id="capture-warnings"' in page) == bool(warnings)
        for warning in warnings:
            assert str(escape(warning)) in page
        pdf = client.get(f"/recordings/{good}/report.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.content == (folder / "report.pdf").read_bytes()
        failed_page = client.get(f"/recordings/{refused_id}").text
        assert "no-person.mp4: " in failed_page and "no person was found" in failed_page
        history = client.get(f"/api/patients/{pid}/trends").json()
        assert any(t["task"] == "walk" and t["sdc"] for t in history)
