"""Generated inputs with known answers for the faults, plan, re-screen and report tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener.config import MODELS_DIR, AnalysisConfig
from screener.metrics import EVENT_COLUMNS, EVENT_METRICS, asymmetry, side_statistics

NORMS_PATH = MODELS_DIR / "norms.toml"
PLAN_PATH = MODELS_DIR / "exercises.toml"


def config_judging_pelvic_drop(folder: Path) -> AnalysisConfig:
    """The default settings with the shipped measured errors but without the rule that
    withholds a metric whose side means follow the truth weakly (``min_tracking_r``).

    By that rule the defaults judge pelvic drop in no task (docs/accuracy.md); the
    synthetic figures plant only pelvic drops, so tests of how a flag is shown, carried
    into a visit and into the plan use this to have one.
    """
    text = (MODELS_DIR / "measurement_errors.toml").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("min_tracking_r")]
    assert len(lines) < len(text.splitlines()), "the shipped file has the tracking rule"
    path = folder / "measurement_errors_without_tracking_rule.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return AnalysisConfig(measurement_errors_path=path)


#: A value per metric that no default band flags.
NEUTRAL: dict[str, float] = {
    "pelvic_drop_deg": 1.0,
    "knee_fppa_deg": 2.0,
    "hip_adduction_deg": 5.0,
    "femoral_ir_deg": 3.0,
    "knee_flexion_deg": 40.0,
    "trunk_lean_deg": 1.0,
    "step_width_m": 0.15,
    "step_width_hip_ratio": 0.8,
}


def make_events(
    per_side: dict[str, dict[str, float]],
    *,
    task: str = "jog",
    n: int = 8,
    spread: float = 0.0,
    confidence: float = 0.9,
    femoral_ir_confidence: float = 0.8,
    seed: int = 0,
) -> pd.DataFrame:
    """An events table whose per-side means are exactly the values asked for.

    Parameters
    ----------
    per_side
        ``{side: {metric: mean}}``; metrics left out take :data:`NEUTRAL` values. A side
        left out has no events.
    n
        Events per side.
    spread
        Events alternate ``mean - spread`` and ``mean + spread`` (n even keeps the mean).
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    t = 0.0
    for k in range(n):
        for side, values in per_side.items():
            row: dict[str, Any] = {
                "kind": "rep" if task == "sls" else "stance",
                "side": side,
                "t_start_s": t,
                "t_peak_s": t + 0.1,
                "t_end_s": t + 0.2,
                "frame_start": int(t * 60),
                "frame_peak": int(t * 60) + 6,
                "frame_end": int(t * 60) + 12,
                "femoral_ir_confidence": femoral_ir_confidence,
                "quality": confidence,
                "confidence": confidence,
            }
            sign = 1.0 if k % 2 == 0 else -1.0
            for metric in EVENT_METRICS:
                mean = values.get(metric, NEUTRAL[metric])
                row[metric] = mean + sign * spread
            rows.append(row)
            t += 0.35 + 0.01 * rng.random()
    table = pd.DataFrame(rows, columns=[c for c in EVENT_COLUMNS if c != "event_id"])
    table.insert(0, "event_id", np.arange(len(table)))
    return table


def make_summary(
    events: pd.DataFrame, *, task: str = "jog", mean_quality: float = 0.9, fps: float = 60.0
) -> dict[str, Any]:
    """The parts of ``summary.json`` that faults, plan and re-screen read."""
    sides = side_statistics(events)
    return {
        "task": task,
        "view": "anterior",
        "fps": fps,
        "sides": sides,
        "asymmetry": asymmetry(sides),
        "quality": {"mean_quality": mean_quality, "detected_fraction": 1.0, "warnings": []},
        "provenance": {"screener": "test"},
    }


def write_text(tmp: Path, name: str, text: str) -> Path:
    """Write a file under ``tmp`` and return its path."""
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path
