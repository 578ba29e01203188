"""The capture guide of each task and the check of what the recording achieved.

The guide (``screener/models/capture.toml``) says how to film a task so that its norms
apply; :func:`squat_depth` checks the depth of a single-leg squat against it.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screener.config import MODELS_DIR
from screener.errors import ConfigError
from screener.fileio import cached_by_file

CAPTURE_PATH = MODELS_DIR / "capture.toml"


class TaskGuide(BaseModel):
    """How to film one task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    steps: list[str] = Field(min_length=1)
    min_depth_knee_flexion_deg: float | None = Field(None, gt=0, lt=180)
    depth_basis: str = ""


@cached_by_file
def load_capture_guides(path: str | Path) -> dict[str, TaskGuide]:
    """Read and validate the capture guides, one per task.

    Raises
    ------
    ConfigError
        The file is missing, not TOML or has a wrong key.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {task: TaskGuide.model_validate(guide) for task, guide in data.items()}
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(
            f"invalid capture guide file ({str(exc).splitlines()[0]})",
            path=path,
            remedy="Compare with the bundled screener/models/capture.toml.",
        ) from exc


def squat_depth(events: pd.DataFrame, guide: TaskGuide) -> dict[str, Any]:
    """The depth the single-leg squat reached, against the guide.

    Parameters
    ----------
    events
        The repetitions (``knee_flexion_deg`` at the deepest point of each).
    guide
        The single-leg squat guide (its ``min_depth_knee_flexion_deg``).

    Returns
    -------
    dict
        ``mean_knee_flexion_deg`` (None when not measurable), ``min_required_deg``,
        ``reached`` (True, False or None when unknown), ``note`` in words.

    Notes
    -----
    Knee flexion seen from the front is foreshortened and approximate; the check is a
    prompt to look at the stills, not a measurement of record.
    """
    values = (
        events["knee_flexion_deg"].to_numpy(float)
        if "knee_flexion_deg" in events
        else pd.Series(dtype=float).to_numpy()
    )
    values = values[~pd.isna(values)]
    need = guide.min_depth_knee_flexion_deg
    if not len(values) or need is None:
        return {
            "mean_knee_flexion_deg": None,
            "min_required_deg": need,
            "reached": None,
            "note": "squat depth could not be measured; check the stills",
        }
    mean = float(values.mean())
    reached = bool(mean >= need) if math.isfinite(mean) else None
    note = f"squat depth about {mean:.0f} deg of knee flexion (approximate from the front), " + (
        f"at or past the {need:.0f} deg the norms assume"
        if reached
        else f"shallower than the {need:.0f} deg the norms assume: {guide.depth_basis}"
    )
    return {
        "mean_knee_flexion_deg": round(mean, 1),
        "min_required_deg": need,
        "reached": reached,
        "note": note,
    }
