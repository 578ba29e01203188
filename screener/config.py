"""Typed, validated settings of one analysis, with their documented defaults.

All tunable numbers of the pipeline live here (and the clinical thresholds in
``models/norms.toml``). A config is hashed into the output's provenance, so a result
always says which settings produced it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Task = Literal["walk", "sls", "jog"]
TaskChoice = Literal["walk", "sls", "jog", "auto"]
Side = Literal["left", "right"]
SideChoice = Literal["left", "right", "auto"]
View = Literal["anterior", "posterior", "sagittal"]
ViewChoice = Literal["anterior", "posterior", "auto"]
Sex = Literal["female", "male"]

MODELS_DIR = Path(__file__).resolve().parent / "models"


def default_cache_dir() -> Path:
    """Keypoint cache folder: ``$SCREENER_CACHE_DIR`` or ``~/.cache/screener``."""
    env = os.environ.get("SCREENER_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "screener"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PoseConfig(_Frozen):
    """MediaPipe settings. Any change here invalidates the keypoint cache."""

    model_complexity: Literal[1] = Field(
        1,
        description="BlazePose full model, the one shipped inside the mediapipe wheel. "
        "Complexity 0 and 2 download weights at run time and are not offered.",
    )
    min_detection_confidence: float = Field(0.5, ge=0.0, le=1.0)
    min_tracking_confidence: float = Field(0.5, ge=0.0, le=1.0)
    smooth_landmarks: bool = Field(
        True, description="MediaPipe's own landmark smoothing (legacy API only)."
    )
    task_model_path: Path | None = Field(
        None,
        description="Optional user-supplied pose_landmarker .task file (MediaPipe Tasks API). "
        "Never required: by default the bundled legacy full model is used.",
    )
    max_long_side_px: int = Field(
        1280,
        ge=256,
        description="Frames larger than this are downscaled before pose estimation "
        "(MediaPipe works on 256 px crops; this only saves decoding and colour conversion).",
    )


class CleaningConfig(_Frozen):
    """Landmark cleaning settings."""

    visibility_min: float = Field(
        0.5, ge=0.0, le=1.0, description="Landmarks below this visibility are masked (NaN)."
    )
    max_gap_s: float = Field(
        0.2, ge=0.0, description="Gaps up to this long are interpolated; longer stay empty."
    )
    repair_swaps: bool = Field(True, description="Detect and undo left/right leg label swaps.")
    filter_order: int = Field(
        2,
        ge=1,
        le=4,
        description="Butterworth design order; applied forward and backward (sosfiltfilt), "
        "so the effective order is twice this (default: 4th-order zero-lag).",
    )
    cutoff_hz: dict[str, float] = Field(
        default_factory=lambda: {"walk": 6.0, "sls": 6.0, "jog": 10.0},
        description="Low-pass cut-off per task, Hz. 6 Hz is the field's default for walking; "
        "6-15 Hz for running (see shared clinical evidence). Recorded in provenance.",
    )

    @field_validator("cutoff_hz")
    @classmethod
    def _positive_cutoffs(cls, value: dict[str, float]) -> dict[str, float]:
        for task, hz in value.items():
            if hz <= 0:
                raise ValueError(f"cut-off for {task} must be positive, got {hz}")
        return value


class EventConfig(_Frozen):
    """Event detection settings."""

    min_stance_s: dict[str, float] = Field(
        default_factory=lambda: {"walk": 0.25, "jog": 0.08},
        description="Shorter stance phases are dropped (a swinging foot slows for a moment; "
        "walking stance lasts about 0.6 s, jogging stance 0.15-0.3 s).",
    )
    max_stance_s: float = Field(2.0, gt=0, description="Longer 'stance phases' are dropped.")
    stance_heel_speed_max_leg_per_s: dict[str, float] = Field(
        default_factory=lambda: {"walk": 0.4, "jog": 0.3},
        description="A heel or toe moving slower than this (leg lengths per second, in the "
        "image) may be in stance. Chosen on the rendered tuning set and the samples, checked "
        "on the hold-out set (docs/accuracy.md).",
    )
    stance_gap_max_s: float = Field(
        0.034,
        ge=0,
        description="Breaks in a stance phase up to this long (a heel landmark's jitter) are "
        "closed; no real swing is this short.",
    )
    stance_height_max_leg: float = Field(
        0.06,
        gt=0,
        description="Jogging in place: a foot farther than this (leg lengths) from its ground "
        "level is in the air, however slowly it moves (chosen like the speed threshold).",
    )
    min_rep_depth_leg: float = Field(
        0.04,
        gt=0,
        description="A single-leg squat repetition must lower the pelvis by at least this "
        "fraction of leg length.",
    )
    min_events_per_side: int = Field(
        1, ge=1, description="Fewer events than this on both sides is an error."
    )


class AnalysisConfig(_Frozen):
    """All settings of one analysis. Defaults are the documented, recommended values."""

    pose: PoseConfig = Field(default_factory=PoseConfig)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    events: EventConfig = Field(default_factory=EventConfig)
    norms_path: Path = Field(
        MODELS_DIR / "norms.toml", description="Thresholds file (a clinic may use its own)."
    )
    plan_path: Path = Field(
        MODELS_DIR / "exercises.toml", description="Fault-to-exercise mapping and dosage."
    )
    corrections_path: Path | None = Field(
        MODELS_DIR / "corrections.toml",
        description="Corrections of MediaPipe's under-reading fitted on renders; None: off.",
    )
    dose_overrides: dict[str, dict[str, str | int]] = Field(
        default_factory=dict,
        description="Per exercise id of the plan file, dose fields (sets, reps, tempo, load, "
        "frequency) replacing the file's defaults: a clinic's or a patient's dose. Checked "
        "against the plan file when the plan is built; part of the settings hash.",
    )
    sex: Sex | None = Field(None, description="Selects sex-specific norms where they exist.")
    cache_dir: Path | None = Field(
        default_factory=default_cache_dir,
        description="Keypoint cache; None disables caching.",
    )
    min_fps: float = 24.0
    max_fps: float = 240.0

    def analysis_dict(self) -> dict[str, object]:
        """Settings that affect results, with the norms and plan files by content hash.

        The cache folder does not affect results and is left out; file paths are replaced
        by the SHA-256 of the files' contents, so the same settings hash alike on any machine.
        """
        data = self.model_dump(
            mode="json", exclude={"cache_dir", "norms_path", "plan_path", "corrections_path"}
        )
        data["norms_sha256"] = _file_sha256(self.norms_path)
        data["plan_sha256"] = _file_sha256(self.plan_path)
        data["corrections_sha256"] = (
            _file_sha256(self.corrections_path) if self.corrections_path else "off"
        )
        return data

    def sha256(self) -> str:
        """Hash of the settings that affect results, for provenance and caching."""
        text = json.dumps(self.analysis_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def cutoff_for(self, task: str) -> float:
        """Low-pass cut-off for a task, Hz."""
        return self.cleaning.cutoff_hz.get(task, 6.0)


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, or ``"missing"`` if it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def load_config(path: Path | None) -> AnalysisConfig:
    """Read settings from a JSON or TOML file (defaults for anything left out).

    Raises
    ------
    ConfigError
        The file is missing, unreadable or has invalid settings.
    """
    from screener.errors import ConfigError

    if path is None:
        return AnalysisConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file ({exc.strerror})", path=path) from exc
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
        return AnalysisConfig.model_validate(data)
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()
        detail = "; ".join(first[:3])
        raise ConfigError(
            f"invalid settings: {detail}",
            path=path,
            remedy="See screener.config.AnalysisConfig for the settings and their defaults.",
        ) from exc
