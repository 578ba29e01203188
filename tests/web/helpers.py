"""Helpers of the web app tests: sign-in, a fake analysis, patients with analysed recordings.

The job-queue tests inject :class:`FakeAnalysis` (a stand-in for ``screener.analyze``
that writes the spec's files with a given summary) so lease and recovery logic is tested
without MediaPipe; the end-to-end and browser tests run the real analysis on the sample
videos.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from screener.web import auth, jobs, services
from screener.web.models import User, Visit
from screener.web.settings import WebSettings

PASSWORD = "correct horse battery staple"
#: The smallest bytes that pass the content check as MP4 (an ftyp box).
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_videos"


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def add_user(sessions: Any, username: str) -> User:
    """Create an account with :data:`PASSWORD`."""
    with sessions() as s:
        user = auth.create_user(s, username, PASSWORD, display_name=username.title())
        s.commit()
        return user


def sign_in(client: TestClient, username: str) -> str:
    """Sign a test client in through the form; return its session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/patients").text)


@dataclass
class Clinician:
    """A signed-in test client with its user and CSRF token."""

    client: TestClient
    user: User
    csrf: str

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a form with the session's CSRF token."""
        return self.client.post(
            url, data={**(data or {}), "csrf_token": self.csrf}, follow_redirects=False, **kw
        )


def walk_summary(pelvic_drop: dict[str, float], task: str = "walk") -> dict[str, Any]:
    """A summary.json with per-side means of pelvic drop and one flagged fault."""
    sides = {
        side: {
            "n_events": 6,
            "pelvic_drop_deg": {"n": 6, "mean": value, "sd": 1.0, "max": value + 1},
            "knee_fppa_deg": {"n": 6, "mean": None, "sd": None, "max": None},
        }
        for side, value in pelvic_drop.items()
    }
    return {
        "task": task,
        "view": "anterior",
        "sides": sides,
        "faults": [
            {
                "fault": "pelvic_drop",
                "label": "Contralateral pelvic drop",
                "side": "left",
                "unit": "deg",
                "value": pelvic_drop.get("left"),
                "threshold": 5.0,
                "severity": "moderate",
                "verdict": "flagged",
                "confidence": 0.8,
                "source": "test",
            }
        ],
        "plan": {"message": "Test plan message.", "exercises": [{"name": "Clamshell"}]},
    }


@dataclass
class FakeAnalysis:
    """Stand-in for ``screener.analyze``: records its calls, writes the spec's files.

    ``summary`` is what the result reports; ``error`` (a ScreenerError) is raised instead
    when set; ``on_call`` runs inside the analysis (e.g. to wait or to kill the lease).
    """

    summary: dict[str, Any] = field(
        default_factory=lambda: walk_summary({"left": 6.0, "right": 2.0})
    )
    error: Exception | None = None
    on_call: Callable[[Callable[[int, int], None] | None], None] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, video: Any, **kwargs: Any) -> Any:
        self.calls.append({"video": Path(video), **kwargs})
        assert Path(video).is_file(), "the worker passed a missing video"
        progress = kwargs.get("progress")
        if progress is not None:
            progress(5, 10)
        if self.on_call is not None:
            self.on_call(progress)
        if self.error is not None:
            raise self.error
        return _FakeResult(self.summary)


@dataclass
class _FakeResult:
    summary: dict[str, Any]

    def write(self, outdir: Any, *, report: bool = True, pdf: bool = False) -> list[Path]:
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.summary))
        (out / "frames.csv").write_text("frame,time_s\n0,0.0\n")
        (out / "events.csv").write_text("event_id,kind,side\n")
        if report:
            (out / "report.html").write_text("<html><body><h1>Fake report</h1></body></html>")
        if pdf:
            (out / "report.pdf").write_bytes(b"%PDF-1.4\n% fake\n%%EOF\n")
        return list(out.iterdir())


@dataclass
class World:
    """Alice's patient, visit and analysed recording."""

    patient_id: int
    visit_id: int
    recording_id: int


def make_recording(
    sessions: Any, settings: WebSettings, visit_id: int, kind: str = "walk", data: bytes = MP4_HEAD
) -> int:
    """Store a recording (bytes that pass the content check) and queue its job."""
    import io

    with sessions() as s:
        visit = s.get(Visit, visit_id)
        rec = services.add_recording(s, settings, visit, kind, "auto", "clip.mp4", io.BytesIO(data))
        return rec.id


def run_jobs(sessions: Any, settings: WebSettings, analysis: FakeAnalysis | None = None) -> int:
    """Process every queued job with the fake analysis."""
    return jobs.run_worker(
        sessions, settings, analysis or FakeAnalysis(), once=True, stop=threading.Event()
    )


def make_world(
    sessions: Any, settings: WebSettings, owner: User, code: str = "RUN-001", analyse: bool = True
) -> World:
    """A patient with one visit and one recording (analysed by the fake analysis)."""
    with sessions() as s:
        user = s.get(User, owner.id)
        patient = services.create_patient(s, user, code, "female")
        visit = services.create_visit(s, patient, "2025-01-10", 6, True, "first visit")
        pid, vid = patient.id, visit.id
    rid = make_recording(sessions, settings, vid)
    if analyse:
        run_jobs(sessions, settings)
    return World(pid, vid, rid)


def count_rows(sessions: Any, model: Any) -> int:
    """Rows in a table."""
    from sqlalchemy import func, select

    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
