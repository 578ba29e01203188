"""Stills in the reports: each flagged event at its peak and a standing reference, from the
video at full resolution, left against right in the visit report.

The sample squats (a faulty left and a faulty right single-leg squat, the right one filmed
turned by 90°) go through MediaPipe once; their reports and saved stills are checked
against their own summaries and events (which events were flagged, where their peaks are).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

import screener
from screener.config import AnalysisConfig
from screener.faults import flagged
from screener.norms import load_norms
from screener.report import render_visit, write_report
from screener.report.stills import (
    NO_VIDEO_NOTE,
    STILL_WIDTH_PX,
    load_stills,
)
from screener.result import AnalysisResult
from screener.visit import screen_visit

pytestmark = pytest.mark.video

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"
CLIPS: dict[Literal["left", "right"], str] = {
    "left": "sls_left_faulty_ant_30fps",
    "right": "sls_right_faulty_ant_30fps_rot",
}
INTAKE = {"patient_code": "PT-77", "visit_date": "2026-05-04", "running_pain": 6}


@pytest.fixture(scope="module")
def squats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[AnalysisResult, Path]]:
    """Each faulty sample squat analysed (task and leg given) with its files written.

    Judged with the norms' literature errors (``measurement_errors_path=None``): with the
    screener's own measured errors the default judges nothing in a single-leg squat
    (docs/accuracy.md), and these tests are about the stills of flagged events.
    """
    config = AnalysisConfig(
        cache_dir=tmp_path_factory.mktemp("stills_pose_cache"), measurement_errors_path=None
    )
    out: dict[str, tuple[AnalysisResult, Path]] = {}
    for side, name in CLIPS.items():
        result = screener.analyze(
            SAMPLES / f"{name}.mp4", task="sls", side=side, intake=INTAKE, config=config
        )
        folder = tmp_path_factory.mktemp(name)
        result.write(folder, report=True, pdf=side == "left")
        out[side] = (result, folder)
    return out


def _flags(result: AnalysisResult) -> list[dict[str, Any]]:
    return [f for f in flagged(result.summary["faults"]) if f["metric"] != "femoral_ir_deg"]


def _jpeg_size(uri: str) -> tuple[int, int]:
    import base64

    import cv2

    data = np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image.shape[1], image.shape[0]


def _cells(html: str, rowhead: str) -> list[tuple[str, str]]:
    """(left cell, right cell) of each stills-grid row named ``rowhead``."""
    return re.findall(
        rf'<td class="rowhead">{rowhead}</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>', html, re.S
    )


def test_recording_report_has_one_still_per_flagged_event_and_a_standing_one(
    squats: dict[str, tuple[AnalysisResult, Path]],
) -> None:
    result, folder = squats["left"]
    flags = _flags(result)
    assert {f["metric"] for f in flags} >= {"knee_fppa_deg"}, flags  # the faulty squat flags
    stills = load_stills(folder)
    assert stills is not None
    html = (folder / "report.html").read_text(encoding="utf-8")
    events = result.events[result.events["side"] == "left"]
    flagged_stills = [s for s in stills if s["kind"] == "flag"]
    assert len(flagged_stills) == len(flags)
    for f in flags:
        (still,) = [s for s in flagged_stills if (s["side"], s["metric"]) == ("left", f["metric"])]
        values = events[f["metric"]].to_numpy(float)
        worst = np.nanargmax(values) if f["direction"] == "above" else np.nanargmin(values)
        assert still["frame"] == int(events.iloc[worst]["frame_peak"])  # the worst peak
        assert still["from_video"] is True
        assert still["caption"].startswith(f"Single-leg squat, left side: {f['label'].lower()}")
        assert still["caption"] in html and still["uri"] in html  # embedded in the report
        assert _jpeg_size(still["uri"])[0] == STILL_WIDTH_PX
    (standing,) = [s for s in stills if s["kind"] == "standing"]
    assert standing["from_video"] is True and standing["uri"] in html
    knee = result.frames["left_knee_flexion_deg"].to_numpy(float)
    assert standing["frame"] < int(events["frame_start"].min())  # before the first rep
    assert "upright frame before the first event" in standing["caption"]
    for still in flagged_stills:  # upright: the stance knee straighter than at the peaks
        assert knee[standing["frame"]] < knee[still["frame"]] - 10
    # left against right: the left cells hold the left leg, the right side is not judged
    ((left_events, right_events),) = _cells(html, "Events")
    assert all(s["caption"] in left_events for s in flagged_stills)
    assert "Not judged: this squat was on the left leg." in right_events
    assert "data:image/png" not in left_events


def test_the_pdf_carries_the_stills(squats: dict[str, tuple[AnalysisResult, Path]]) -> None:
    _, folder = squats["left"]
    stills = load_stills(folder)
    assert stills is not None
    listing = subprocess.run(
        ["pdfimages", "-list", str(folder / "report.pdf")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]
    widths = [int(row[3]) for row in rows if row[2] == "image"]
    assert widths.count(STILL_WIDTH_PX) >= len([s for s in stills if "uri" in s])


def test_stills_without_the_video_say_so(squats: dict[str, tuple[AnalysisResult, Path]], tmp_path):
    result, _ = squats["left"]
    keypoints_only = screener.analyze_pose(
        result.raw_pose, task="sls", side="left", intake=INTAKE, config=result.config
    )
    write_report(keypoints_only, tmp_path, html=True)
    stills = load_stills(tmp_path)
    assert stills is not None and len(stills) == 1 + len(_flags(keypoints_only))
    assert all(s["from_video"] is False and NO_VIDEO_NOTE in s["caption"] for s in stills)
    assert NO_VIDEO_NOTE in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_visit_report_sets_the_stills_of_two_squats_left_against_right(
    squats: dict[str, tuple[AnalysisResult, Path]],
) -> None:
    takes = [(side, result.summary) for side, (result, _) in squats.items()]
    norms = load_norms(squats["left"][0].config.norms_path)
    visit = screen_visit(
        takes, intake=INTAKE, norms=norms, plan_path=squats["left"][0].config.plan_path
    )
    saved = {side: load_stills(folder) for side, (_, folder) in squats.items()}
    html = render_visit(visit, {"patient_code": "PT-77", "visit_date": "2026-05-04"}, None, saved)
    ((left_standing, right_standing),) = _cells(html, "Standing reference")
    ((left_events, right_events),) = _cells(html, "Events")
    cells = {"left": left_events, "right": right_events}
    flags = flagged(visit["faults"])
    assert {f["side"] for f in flags} == {"left", "right"}
    for f in flags:  # one still per flagged event, in its side's column, with its label
        label = f"<figcaption>Single-leg squat, {f['side']} side: {f['label'].lower()}"
        assert cells[f["side"]].count(label) == 1, label
        other = "right" if f["side"] == "left" else "left"
        assert label not in cells[other]
    for side, cell in (("left", left_standing), ("right", right_standing)):
        (standing,) = [s for s in saved[side] or [] if s["kind"] == "standing"]
        assert standing["caption"] in cell and standing["uri"] in cell
    n_images = len(re.findall(r'<img src="data:image/jpeg;base64,', html))
    assert n_images == len(flags) + 2
    index = json.loads((squats["right"][1] / "stills" / "index.json").read_text())
    assert all("jpeg" not in s and "uri" not in s for s in index["stills"])  # files, not blobs
