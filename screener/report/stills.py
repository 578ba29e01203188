"""The stills of a recording: each flagged event at its peak, and a standing reference.

A clinician checks a flag by looking at it: the still of a flagged event is the frame at
the peak of the worst event of that measure on that side, with the skeleton and the lines
that define the measure drawn (the pelvic line for pelvic drop, the thigh and shank lines
for the knee frontal-plane projection angle). A side without a flag gets the still of its
worst knee-angle event, so left can be set against right. The standing reference is a
frame of quiet upright standing before the first event (the first squat repetition, the
first step), else the most upright frame of the clip (:func:`standing_frame`).

Stills are cut from the source video at its full resolution, faces blurred, and scaled to
:data:`STILL_WIDTH_PX` wide as JPEG. Without the video (an analysis from cached
keypoints) the skeleton is drawn on a grey canvas and the caption says so.

:func:`write_stills` saves them beside the report (``stills/index.json`` and one JPEG per
still) so the visit report (:func:`screener.report.render_visit`) can show them after the
video has been deleted; :func:`load_stills` reads them back.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from screener.faults import RESEARCH_ONLY_METRICS, flagged, hidden_metrics
from screener.fileio import atomic_write
from screener.landmarks import INDEX
from screener.report.images import (
    Image,
    blank_frame,
    blur_faces,
    draw_angle,
    draw_label,
    draw_skeleton,
    metric_short,
    person_box,
    read_video_frame,
)
from screener.tasks import get_task, is_unilateral, recording_slots, task_names
from screener.upright import pose_rotation_cw, rotate_image

if TYPE_CHECKING:
    import pandas as pd

    from screener.keypoints import PoseSequence
    from screener.result import AnalysisResult

log = logging.getLogger(__name__)

#: Width of a still in the reports, pixels (height follows the person's box).
STILL_WIDTH_PX = 360
#: JPEG quality of the stills (0-100).
JPEG_QUALITY = 85
#: Frames before the first event needed to take the standing reference from them.
MIN_FRAMES_BEFORE = 3
#: Standing reference: frames within this of the straightest knee count as upright.
UPRIGHT_MARGIN_DEG = 5.0
#: Folder of the stills beside the report, and its index.
STILLS_DIR = "stills"
INDEX_NAME = "index.json"


def _title(task: str) -> str:
    """A task's title in the report (its name if it is not registered)."""
    return get_task(task).title if task in task_names() else task


NO_VIDEO_NOTE = (
    "Skeleton drawn on a blank canvas: the video was not available (analysis from cached "
    "keypoints or a deleted video)."
)

Draw = Callable[[Image, npt.NDArray[np.float64], float], None]


def render_still(
    pose: PoseSequence, frame_index: int, video_path: Path | None, draw: Draw
) -> tuple[Image, bool]:
    """One face-blurred still cropped to the person, :data:`STILL_WIDTH_PX` wide.

    Parameters
    ----------
    pose
        The landmarks (image pixels of the video as analysed).
    frame_index
        The frame to show.
    video_path
        The source video, read at its full resolution; None: a grey canvas.
    draw
        ``draw(image, xy, scale)`` draws in place on the scaled still with the frame's
        landmarks ``xy`` in the still's pixels.

    Returns
    -------
    image, from_video
        RGB image; whether it shows the real video frame.
    """
    import cv2

    xy = pose.image_xy_px[frame_index]
    frame = read_video_frame(video_path, frame_index) if video_path is not None else None
    if frame is not None:  # turned as the frames were for pose estimation
        frame = rotate_image(frame, pose_rotation_cw(pose))
        if frame.shape[1::-1] != tuple(pose.image_size_px):
            log.warning("%s: frame size differs from the landmarks' image size", video_path)
            frame = None
    from_video = frame is not None
    if frame is None:
        frame = blank_frame(pose.image_size_px)
    blurred = blur_faces(frame, xy, in_place=True)  # the frame is this function's own
    x0, y0, x1, y1 = person_box(xy, (blurred.shape[0], blurred.shape[1]))
    crop = blurred[y0:y1, x0:x1]
    factor = STILL_WIDTH_PX / crop.shape[1]
    size = (STILL_WIDTH_PX, max(1, round(crop.shape[0] * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    image: Image = np.ascontiguousarray(
        cv2.resize(crop, size, interpolation=interpolation), dtype=np.uint8
    )
    local = (xy - np.array([x0, y0], dtype=float)) * factor
    draw(image, local, 0.8)
    return image, from_video


def jpeg_bytes(image: Image) -> bytes:
    """Encode an RGB image as JPEG (:data:`JPEG_QUALITY`)."""
    import cv2

    ok, buf = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf)


def jpeg_uri(jpeg: bytes) -> str:
    """A ``data:`` URI of JPEG bytes, for self-contained HTML."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _deg(value: float, metric: str) -> str:
    return f"{value:.1f}°" if metric.endswith("_deg") else f"{value:.2f}"


def _worst_row(events: pd.DataFrame, side: str, metric: str, direction: str) -> Any:
    """The event of ``side`` with the worst ``metric`` (None when none is finite)."""
    if len(events) == 0 or metric not in events:
        return None
    sel = events[events["side"] == side]
    values = sel[metric].to_numpy(float)
    if not np.isfinite(values).any():
        return None
    pos = int(np.nanargmax(values) if direction == "above" else np.nanargmin(values))
    return sel.iloc[pos]


def _event_still(
    result: AnalysisResult, row: Any, *, side: str, metric: str, label: str
) -> dict[str, Any] | None:
    frame = int(row["frame_peak"])
    if not 0 <= frame < result.pose.n_frames:
        return None
    value = float(row[metric])

    def draw(image: Image, xy: npt.NDArray[np.float64], scale: float) -> None:
        draw_skeleton(image, xy, side, scale)
        if math.isfinite(value):
            draw_angle(image, xy, metric, side, value, scale)

    image, from_video = render_still(result.pose, frame, result.video_path, draw)
    task = str(result.summary.get("task"))
    return {
        "task": task,
        "side": side,
        "metric": metric,
        "label": label,
        "value": value if math.isfinite(value) else None,
        "frame": frame,
        "time_s": float(row["t_peak_s"]),
        "from_video": from_video,
        "jpeg": jpeg_bytes(image),
    }


def event_stills(result: AnalysisResult, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One still per flagged measure and side; a side without a flag, its worst knee event.

    Parameters
    ----------
    result
        The analysis (events, cleaned pose, video path).
    faults
        The fault entries to show (research measures already left out).

    Returns
    -------
    list of dict
        Per still: ``kind`` (``"flag"`` or ``"reference"``), ``task``, ``side``,
        ``metric``, ``label``, ``value``, ``severity``, ``frame``, ``time_s``,
        ``from_video``, ``caption``, ``jpeg`` (bytes), ordered left then right.
    """
    task = str(result.summary.get("task"))
    task_name = _title(task)
    out = []
    for side in ("left", "right"):
        hits = [f for f in flagged(faults) if f["side"] == side]
        for f in hits:
            row = _worst_row(result.events, side, f["metric"], f["direction"])
            if row is None:
                continue
            still = _event_still(result, row, side=side, metric=f["metric"], label=f["label"])
            if still is None:
                continue
            value = _deg(still["value"], f["metric"]) if still["value"] is not None else "–"
            still["kind"], still["severity"] = "flag", f["severity"]
            still["caption"] = (
                f"{task_name}, {side} side: {f['label'].lower()} {value} at the peak of the "
                f"worst event (t = {still['time_s']:.2f} s, frame {still['frame']}); "
                f"{f['severity']} flag."
            )
            out.append(still)
        if hits:
            continue
        row = _worst_row(result.events, side, "knee_fppa_deg", "above")
        if row is None:
            continue
        still = _event_still(
            result, row, side=side, metric="knee_fppa_deg", label="Knee FPPA (no flag)"
        )
        if still is None:
            continue
        value = _deg(still["value"], "knee_fppa_deg") if still["value"] is not None else "–"
        still["kind"], still["severity"] = "reference", "none"
        still["caption"] = (
            f"{task_name}, {side} side: no flag; for comparison, the event with the largest "
            f"{metric_short('knee_fppa_deg')} ({value}, t = {still['time_s']:.2f} s, "
            f"frame {still['frame']})."
        )
        out.append(still)
    by_eye = _judge_by_eye(result.summary)
    for still in out:
        if by_eye:
            still["caption"] += " " + by_eye
        if not still["from_video"]:
            still["caption"] += " " + NO_VIDEO_NOTE
    return out


#: The frontal-plane measures a clinician judges on a still when the screen leaves them
#: out (their readings do not follow the truth, or err too much, for this task and view).
BY_EYE_METRICS = ("pelvic_drop_deg", "hip_adduction_deg", "trunk_lean_deg")


def _judge_by_eye(summary: dict[str, Any]) -> str:
    """The sentence a still's caption ends with when some of :data:`BY_EYE_METRICS` are
    not shown for this recording (empty when all are shown)."""
    hidden = hidden_metrics(summary) - RESEARCH_ONLY_METRICS
    names = [metric_short(m) for m in BY_EYE_METRICS if m in hidden]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Not measured reliably from this video ({listed}): judge by eye on this frame."


def standing_frame(result: AnalysisResult) -> tuple[int, str] | None:
    """The frame of the standing reference and how it was chosen, or None.

    Notes
    -----
    The knees that count are the stance knee of a single-leg squat, both knees
    otherwise. Before the first event (the first repetition or stance phase) with at
    least :data:`MIN_FRAMES_BEFORE` frames: among the frames whose knees are within
    :data:`UPRIGHT_MARGIN_DEG` of the straightest of them, the stillest (least pelvis
    and leg landmark movement over ±3 frames, the earliest on a tie). Otherwise, the
    most upright frame of the clip. Knee flexion is compared between frames of the
    clip, not against a fixed angle: the pose model reads a straight knee 10-25° bent.
    """
    frames = result.frames
    n = min(len(frames), result.pose.n_frames)
    stance = result.summary.get("stance_side")
    sides = [stance] if is_unilateral(result.summary.get("task")) and stance else ["left", "right"]
    columns = [f"{side}_knee_flexion_deg" for side in sides]
    if n == 0 or any(c not in frames for c in [*columns, "detected"]):
        return None
    flexion = np.abs(frames[columns].to_numpy(float)[:n]).max(axis=1)
    usable = frames["detected"].to_numpy(bool)[:n] & np.isfinite(flexion)
    if not usable.any():
        return None
    events = result.events
    first = int(events["frame_start"].min()) if len(events) else n
    before = usable.copy()
    before[max(0, first) :] = False
    if before.sum() >= MIN_FRAMES_BEFORE:
        straightest = float(np.min(flexion[before]))
        pool = before & (flexion <= straightest + UPRIGHT_MARGIN_DEG)
        score = np.where(pool, _motion(result.pose)[:n], np.inf)
        return int(np.argmin(score)), "the stillest upright frame before the first event"
    return (
        int(np.argmin(np.where(usable, flexion, np.inf))),
        "the most upright frame of the clip (too few frames before the first event)",
    )


def _motion(pose: PoseSequence) -> npt.NDArray[np.float64]:
    """Per frame, the mean speed of the pelvis and leg landmarks over ±3 frames (px/frame)."""
    names = [f"{s}_{p}" for s in ("left", "right") for p in ("hip", "knee", "ankle")]
    xy = pose.image_xy_px[:, [INDEX[n] for n in names]]
    step = np.linalg.norm(np.diff(xy, axis=0), axis=2)
    speed = np.nanmean(np.where(np.isfinite(step), step, np.nan), axis=1)
    speed = np.concatenate([[speed[0] if len(speed) else 0.0], speed])
    speed = np.where(np.isfinite(speed), speed, np.inf)
    kernel = np.ones(7) / 7
    return np.asarray(np.convolve(speed, kernel, mode="same"), dtype=float)


def standing_still(result: AnalysisResult) -> dict[str, Any] | None:
    """The standing reference still (skeleton, pelvic line and both knee lines), or None."""
    found = standing_frame(result)
    if found is None:
        return None
    frame, how = found
    row = result.frames.iloc[frame]

    def value(column: str) -> float:
        v = row.get(column)
        return float(v) if v is not None and math.isfinite(float(v)) else math.nan

    pelvis = value("pelvic_obliquity_deg")
    stance = result.summary.get("stance_side")
    sides = [stance] if is_unilateral(result.summary.get("task")) and stance else ["left", "right"]
    knees = {side: value(f"{side}_knee_fppa_deg") for side in sides}

    def draw(image: Image, xy: npt.NDArray[np.float64], scale: float) -> None:
        draw_skeleton(image, xy, stance if len(sides) == 1 else None, scale)
        for side, fppa in knees.items():
            if math.isfinite(fppa):
                draw_angle(image, xy, "knee_fppa_deg", side, fppa, scale)
        draw_label(image, "standing reference", (6, image.shape[0] - 8), scale)

    image, from_video = render_still(result.pose, frame, result.video_path, draw)
    task = str(result.summary.get("task"))
    parts = [f"{side} knee FPPA {v:.1f}°" for side, v in knees.items() if math.isfinite(v)]
    if math.isfinite(pelvis):
        parts.append(f"pelvic obliquity {pelvis:.1f}°")
    caption = (
        f"{_title(task)}: standing reference, {how} "
        f"(t = {float(row['time_s']):.2f} s, frame {frame})"
        + (f": {', '.join(parts)}." if parts else ".")
    )
    if not from_video:
        caption += " " + NO_VIDEO_NOTE
    return {
        "kind": "standing",
        "task": task,
        "side": None,
        "metric": None,
        "label": "Standing reference",
        "value": None,
        "severity": "none",
        "frame": frame,
        "time_s": float(row["time_s"]),
        "from_video": from_video,
        "caption": caption,
        "jpeg": jpeg_bytes(image),
    }


def recording_stills(result: AnalysisResult, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The standing reference (when found) then :func:`event_stills`, each with ``uri``.

    The absence of a standing frame is itself an entry (``kind`` ``"standing"``, no image,
    a caption saying why), so no report omits it silently.
    """
    standing = standing_still(result)
    if standing is None:
        task = str(result.summary.get("task"))
        standing = {
            "kind": "standing",
            "task": task,
            "side": None,
            "label": "Standing reference",
            "caption": f"{_title(task)}: no standing reference (no frame "
            "with the pose and the knee angles found).",
            "from_video": False,
        }
    out = [standing, *event_stills(result, faults)]
    for still in out:
        if "jpeg" in still:
            still["uri"] = jpeg_uri(still["jpeg"])
    return out


def _file_name(still: dict[str, Any]) -> str:
    if still["kind"] == "standing":
        return "standing.jpg"
    return f"{still['side']}-{still['metric']}.jpg"


def _write_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data)


def write_stills(stills: list[dict[str, Any]], outdir: Path) -> Path:
    """Write the stills as JPEG files and ``index.json`` into ``outdir/stills``.

    Returns
    -------
    Path
        The folder.
    """
    folder = outdir / STILLS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for still in stills:
        meta = {k: v for k, v in still.items() if k not in ("jpeg", "uri")}
        if "jpeg" in still:
            name = _file_name(still)
            atomic_write(folder / name, partial(_write_bytes, still["jpeg"]))
            meta["file"] = name
        index.append(meta)
    text = json.dumps({"stills": index}, indent=2)
    atomic_write(folder / INDEX_NAME, lambda p: p.write_text(text, encoding="utf-8"))
    return folder


def load_stills(result_dir: Path) -> list[dict[str, Any]] | None:
    """The stills saved beside a recording's report, each with ``uri``; None if none saved.

    A still whose JPEG is missing keeps its caption and gets no ``uri``.
    """
    index_path = result_dir / STILLS_DIR / INDEX_NAME
    try:
        data = json.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s: cannot read the stills index (%s)", index_path, exc)
        return None
    out = []
    for meta in data.get("stills", []):
        still = dict(meta)
        name = still.get("file")
        if name:
            try:
                still["uri"] = jpeg_uri((result_dir / STILLS_DIR / Path(name).name).read_bytes())
            except OSError:
                still["caption"] = f"{still.get('caption', '')} (image file missing)"
        out.append(still)
    return out


def _row(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "notes": [],
        "standing": {"left": [], "right": []},
        "standing_shared": None,
        "events": {"left": [], "right": []},
        "empty": {"left": "No event could be drawn.", "right": "No event could be drawn."},
    }


def _fill(row: dict[str, Any], stills: list[dict[str, Any]], sides: tuple[str, ...]) -> None:
    """Put a recording's stills into a row: its standing still, its events of ``sides``."""
    standing = [s for s in stills if s.get("kind") == "standing"]
    if len(sides) == 2:
        row["standing_shared"] = standing
    else:
        row["standing"][sides[0]] = standing
    for side in sides:
        row["events"][side] = [
            s for s in stills if s.get("kind") != "standing" and s.get("side") == side
        ]


def recording_still_rows(
    stills: list[dict[str, Any]], task: str, stance_side: str | None
) -> list[dict[str, Any]]:
    """The stills of one recording laid out left against right (one row)."""
    row = _row(_title(task))
    if is_unilateral(task) and stance_side in ("left", "right"):
        other = "right" if stance_side == "left" else "left"
        _fill(row, stills, (stance_side,))
        row["standing"][other] = []
        row["empty"][other] = f"Not judged: this squat was on the {stance_side} leg."
    else:
        _fill(row, stills, ("left", "right"))
    return [row]


def visit_still_rows(
    slots: dict[str, str],
    stills: dict[str, list[dict[str, Any]] | None],
    labels: dict[str, str],
) -> list[dict[str, Any]]:
    """The stills of a visit's kept takes, one row per task, left against right.

    Parameters
    ----------
    slots
        Slot (``walk``, ``sls_left``, ``sls_right``, ``jog``) -> kept take id.
    stills
        Take id -> its saved stills (:func:`load_stills`), None when none were saved.
    labels
        A readable name per take id.
    """
    rows = []
    by_task: dict[str, list[tuple[str, str]]] = {}
    for slot, (task, side) in recording_slots().items():
        by_task.setdefault(task, []).append((slot, side))
    for task, task_slots in by_task.items():
        if not any(slot in slots for slot, _ in task_slots):
            continue
        row = _row(_title(task))
        for slot, side in task_slots:
            sides: tuple[str, ...] = ("left", "right") if side == "auto" else (side,)
            take = slots.get(slot)
            if take is None:
                for side in sides:
                    row["empty"][side] = "Not filmed at this visit."
                continue
            saved = stills.get(take)
            if saved is None:
                row["notes"].append(
                    f"No stills were saved for {labels.get(take, take)} (analysed before "
                    "stills were kept, or its files are missing): analyse it again to add them."
                )
                continue
            _fill(row, saved, sides)
        rows.append(row)
    return rows
