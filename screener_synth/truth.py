"""Per-frame truth table and the clip's truth summary (format: docs/ARCHITECTURE.md).

The 2D columns are computed from points projected through the render camera with the
spec's definitions (:mod:`screener_synth.geometry`): from the JOINT CENTRES (plain names)
and from anny's COCO surface keypoints (suffix ``_surface``). 3D columns come from the
posed skeleton: knee flexion from joint centres, femoral internal rotation as the third
angle of the hip joint coordinate system (anatomical truth), plus ``_3d`` anatomical
hip flexion/adduction and pelvic obliquity, and ``*_femoral_ir_plane_deg`` (what the
hip-knee-ankle plane gives from joint centres alone).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from screener_synth import geometry as geo
from screener_synth.body import PosedBody
from screener_synth.contact import floor_contact_fields
from screener_synth.kinematics import SIDES, Event, Motion

_SURFACE = {"hip": "hip", "knee": "knee", "ankle": "ankle", "shoulder": "shoulder"}
#: Planted-value thresholds above which a fault is expected (far from the screener's
#: thresholds; normal clips stay far below).
FAULT_MIN = {"pelvic_drop": 8.0, "knee_valgus": 18.0, "femoral_ir": 12.0, "trunk_lean": 8.0}


def _points_2d(points: dict[str, np.ndarray], camera: geo.PinholeCamera) -> dict[str, np.ndarray]:
    return {k: camera.project(v) for k, v in points.items()}


def _frontal_columns(p: dict[str, np.ndarray], suffix: str) -> dict[str, np.ndarray]:
    """The spec's 2D columns from image points named ``{side}_{hip,knee,ankle,shoulder}``."""
    cols = {
        f"pelvic_obliquity_deg{suffix}": geo.pelvic_obliquity_deg(p["left_hip"], p["right_hip"]),
        f"trunk_lean_deg{suffix}": geo.trunk_lean_deg(
            p["left_hip"], p["right_hip"], p["left_shoulder"], p["right_shoulder"]
        ),
    }
    for side in SIDES:
        other = "right" if side == "left" else "left"
        hip, knee, ankle = p[f"{side}_hip"], p[f"{side}_knee"], p[f"{side}_ankle"]
        cols[f"{side}_knee_fppa_deg{suffix}"] = geo.knee_fppa_deg(
            hip, knee, ankle, p[f"{other}_hip"]
        )
        cols[f"{side}_hip_adduction_deg{suffix}"] = geo.hip_adduction_2d_deg(
            hip, knee, p[f"{other}_hip"]
        )
    return cols


def truth_frames(motion: Motion, body: PosedBody, camera: geo.PinholeCamera) -> pd.DataFrame:
    """One row per frame: the spec's frame columns from joint centres, surface and 3D.

    Parameters
    ----------
    motion
        The clip's motion (times, stance).
    body
        The posed body (world coordinates).
    camera
        The upright render camera.

    Returns
    -------
    DataFrame
    """
    j2 = _points_2d(body.joints, camera)
    surface = {f"{s}_{name}": body.surface[f"{s}_{name}"] for s in SIDES for name in _SURFACE}
    s2 = _points_2d(surface, camera)
    cols: dict[str, np.ndarray] = {
        "frame": np.arange(motion.n_frames),
        "time_s": motion.time_s,
    }
    cols.update(_frontal_columns(j2, ""))
    j = body.joints
    pel = body.pelvis_rotation
    for side in SIDES:
        rel = np.einsum("nji,njk->nik", pel, body.femur_rotation[side]) @ body.femur_frame[side]
        flex, add, ir = geo.hip_angles(rel, side)
        cols[f"{side}_femoral_ir_deg"] = ir
        cols[f"{side}_knee_flexion_deg"] = geo.knee_flexion_deg(
            j[f"{side}_hip"], j[f"{side}_knee"], j[f"{side}_ankle"]
        )
        cols[f"{side}_hip_flexion_3d_deg"] = flex
        cols[f"{side}_hip_adduction_3d_deg"] = add
        cols[f"{side}_femoral_ir_plane_deg"] = geo.femoral_ir_plane_deg(
            j[f"{side}_hip"],
            j[f"{side}_knee"],
            j[f"{side}_ankle"],
            j["left_hip"],
            j["right_hip"],
            side,
        )
    cols["pelvic_obliquity_3d_deg"] = np.degrees(np.arcsin(np.clip(-pel[:, 2, 0], -1, 1)))
    for side in SIDES:
        cols[f"{side}_in_stance"] = motion.in_stance[side].astype(int)
        cols[f"{side}_foot_lowest_z_m"] = body.foot_lowest_z[side]
    cols.update(_frontal_columns(s2, "_surface"))
    for name, pts in j2.items():
        cols[f"{name}_x_px"] = pts[:, 0]
        cols[f"{name}_y_px"] = pts[:, 1]
    return pd.DataFrame(cols)


def _event_peak(ev: Event, frames: pd.DataFrame) -> float:
    """Stance: time of max pelvic drop in stance; rep: the deepest point (max knee flexion)."""
    t = frames["time_s"].to_numpy()
    inside = (t >= ev.t_start_s - 1e-9) & (t <= ev.t_end_s + 1e-9)
    if ev.kind == "rep":
        series = frames[f"{ev.side}_knee_flexion_deg"].to_numpy()
    else:
        sign = 1.0 if ev.side == "right" else -1.0
        series = sign * frames["pelvic_obliquity_deg"].to_numpy()
    k = np.flatnonzero(inside)[np.argmax(series[inside])]
    return float(t[k])


def event_rows(motion: Motion, frames: pd.DataFrame) -> list[dict]:
    """True events with their peak instants and the truth values at the peak.

    Stance phases also get ``t_floor_on_s`` and ``t_floor_off_s``: the rendered foot's
    contact with the floor (:func:`~screener_synth.contact.floor_contact_fields`).
    """
    rows = []
    t = frames["time_s"].to_numpy()
    for ev in motion.events:
        peak = _event_peak(ev, frames)
        k = int(np.argmin(np.abs(t - peak)))
        sign = 1.0 if ev.side == "right" else -1.0
        lean_sign = 1.0 if ev.side == "left" else -1.0
        floor: dict[str, float | None] = {}
        if ev.kind == "stance":
            floor = floor_contact_fields(
                frames[f"{ev.side}_foot_lowest_z_m"].to_numpy(), t, ev.t_start_s, ev.t_end_s
            )
        rows.append(
            {
                "kind": ev.kind,
                "side": ev.side,
                "t_start_s": round(ev.t_start_s, 6),
                "t_peak_s": round(peak, 6),
                "t_end_s": round(ev.t_end_s, 6),
                "pelvic_drop_deg": round(sign * float(frames["pelvic_obliquity_deg"].iloc[k]), 3),
                "knee_fppa_deg": round(float(frames[f"{ev.side}_knee_fppa_deg"].iloc[k]), 3),
                "hip_adduction_deg": round(
                    float(frames[f"{ev.side}_hip_adduction_deg"].iloc[k]), 3
                ),
                "femoral_ir_deg": round(float(frames[f"{ev.side}_femoral_ir_deg"].iloc[k]), 3),
                "knee_flexion_deg": round(float(frames[f"{ev.side}_knee_flexion_deg"].iloc[k]), 3),
                "trunk_lean_deg": round(lean_sign * float(frames["trunk_lean_deg"].iloc[k]), 3),
                **floor,
            }
        )
    return rows


def planted_summary(
    motion: Motion, frames: pd.DataFrame, events: list[dict], planted: dict[str, dict[str, float]]
) -> tuple[dict[str, dict | None], list[dict]]:
    """Per-side planted values and the faults a correct screen should flag.

    Parameters
    ----------
    motion
        The motion (which sides bear weight).
    frames
        Truth frames.
    events
        :func:`event_rows` output.
    planted
        Side -> the generator's planted fault parameters (peak, degrees).

    Returns
    -------
    planted
        Side -> ``pelvic_drop_deg`` (3D, planted peak), ``hip_adduction_deg`` and
        ``femoral_ir_deg`` (3D anatomical at the events' peaks, median), ``knee_valgus_deg``
        (joint-centre FPPA at the events' peaks, median), ``knee_abduction_deg`` (planted
        knee-joint valgus), ``trunk_lean_deg``, and ``measured_2d`` medians of the event
        truth values; None for a side with no event (the lifted leg of a squat).
    expected_faults
        ``{"fault", "side", "value"}`` for each planted value at or above
        :data:`FAULT_MIN`.
    """
    out: dict[str, dict | None] = {}
    expected = []
    for side in SIDES:
        ev = [e for e in events if e["side"] == side]
        if not ev:
            out[side] = None
            continue

        def med(key: str, evs: list[dict] = ev) -> float:
            return round(float(np.median([e[key] for e in evs])), 2)

        p = planted[side]
        values: dict[str, Any] = {
            "pelvic_drop_deg": round(float(p["pelvic_drop"]), 2),
            "hip_adduction_deg": round(
                float(
                    np.median(
                        [
                            frames[f"{side}_hip_adduction_3d_deg"].iloc[_frame_at(frames, e)]
                            for e in ev
                        ]
                    )
                ),
                2,
            ),
            "femoral_ir_deg": med("femoral_ir_deg"),
            "knee_valgus_deg": med("knee_fppa_deg"),
            "trunk_lean_deg": round(float(p["trunk_lean"]), 2),
            "knee_abduction_deg": round(float(p["knee_abduction"]), 2),
            "measured_2d": {
                "pelvic_drop_deg": med("pelvic_drop_deg"),
                "knee_fppa_deg": med("knee_fppa_deg"),
                "hip_adduction_deg": med("hip_adduction_deg"),
                "trunk_lean_deg": med("trunk_lean_deg"),
            },
        }
        out[side] = values
        checks = {
            "pelvic_drop": float(values["pelvic_drop_deg"]),
            "knee_valgus": float(values["knee_valgus_deg"]),
            "femoral_ir": float(values["femoral_ir_deg"]),
            "trunk_lean": float(values["trunk_lean_deg"]),
        }
        for fault, value in checks.items():
            if value >= FAULT_MIN[fault]:
                expected.append({"fault": fault, "side": side, "value": value})
    return out, expected


def _frame_at(frames: pd.DataFrame, event: dict) -> int:
    return int(np.argmin(np.abs(frames["time_s"].to_numpy() - event["t_peak_s"])))
