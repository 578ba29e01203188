"""The patient's answers that place a screen in the protocol: pain, history, red flags.

Iliotibial band pain comes with running: a runner may be pain-free at rest and at 7/10
five kilometres into a run. The pain gate of the plan therefore uses the worst lateral
knee pain during or after running in the past week, not the pain at rest. The other
answers (pain at rest, when the pain starts, weekly running volume, which first-line care
was tried and for how long) are recorded in ``summary.json`` and shown to the clinician.
A positive red flag replaces the plan with a referral (:mod:`screener.plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from screener.errors import ConfigError

FirstLineItem = Literal[
    "nsaids", "activity_reduction", "load_modification", "cross_training", "unspecified"
]
RedFlag = Literal[
    "night_pain",
    "swelling",
    "locking_or_giving_way",
    "trauma",
    "rising_rest_pain",
    "numbness",
    "systemic_signs",
]

#: What each first-line item means, as shown to the clinician.
FIRST_LINE_LABELS: dict[str, str] = {
    "nsaids": "anti-inflammatory medication (NSAIDs)",
    "activity_reduction": "activity reduction",
    "load_modification": "load modification",
    "cross_training": "cross-training (swimming, flat-ground walking)",
    "unspecified": "first-line care (which was not recorded)",
}

#: The red-flag checklist: any "yes" means referral before any exercise plan.
RED_FLAG_LABELS: dict[str, str] = {
    "night_pain": "knee pain that wakes the patient at night",
    "swelling": "visible swelling of the knee",
    "locking_or_giving_way": "the knee locks, catches or gives way",
    "trauma": "the pain began with a fall, twist or blow",
    "rising_rest_pain": "pain at rest that keeps rising",
    "numbness": "numbness, tingling or weakness in the leg",
    "systemic_signs": "fever, feeling unwell or unexplained weight loss",
}

#: What a movement video cannot exclude; listed in every clinician report.
VIDEO_CANNOT_EXCLUDE: tuple[str, ...] = (
    "meniscal injury",
    "lateral collateral ligament injury",
    "patellofemoral pain",
    "stress fracture (femur, tibia or fibula)",
    "pain referred from the lumbar spine or hip",
)


class Intake(BaseModel):
    """The pain and history answers of one visit.

    Attributes
    ----------
    running_pain
        Worst lateral knee pain during or after running in the past week, 0-10; the
        plan's pain gate uses this answer. None: not asked.
    rest_pain
        Lateral knee pain at rest, 0-10.
    pain_onset
        When the pain starts in a run, free text with its unit ("3 km", "20 min").
    weekly_volume_km
        Running volume per week, km.
    first_line_care
        First-line care tried (NSAIDs, activity reduction, load modification,
        cross-training); ``"unspecified"`` when only "done" is known.
    first_line_weeks
        How long first-line care was tried, weeks.
    red_flags
        Positive answers of the red-flag checklist.
    patient_code
        The clinic's code for the patient (no name), printed on the chart entry.
    visit_date
        Date of the visit, printed on the chart entry and the handout.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_code: str = Field("", max_length=64)
    visit_date: date | None = None

    running_pain: float | None = Field(None, ge=0, le=10)
    rest_pain: float | None = Field(None, ge=0, le=10)
    pain_onset: str = Field("", max_length=80)
    weekly_volume_km: float | None = Field(None, ge=0, le=1000)
    first_line_care: tuple[FirstLineItem, ...] = ()
    first_line_weeks: float | None = Field(None, ge=0, le=520)
    red_flags: tuple[RedFlag, ...] = ()

    @field_validator("running_pain", "rest_pain", "weekly_volume_km", "first_line_weeks")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and value != value:  # NaN
            raise ValueError("must be a number, not NaN")
        return value

    @field_validator("first_line_care", "red_flags")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    @property
    def first_line_done(self) -> bool:
        """Whether any first-line care was tried."""
        return bool(self.first_line_care)

    def answers(self) -> dict[str, Any]:
        """The answers as plain JSON values, for ``summary.json``."""
        data = self.model_dump(mode="json")
        data["first_line_done"] = self.first_line_done
        return data


def make_intake(
    intake: Intake | Mapping[str, Any] | None = None,
    *,
    pain: float | None = None,
    first_line_done: bool = False,
) -> Intake:
    """Build the intake from an :class:`Intake`, a mapping, or the legacy arguments.

    Parameters
    ----------
    intake
        The answers; a mapping is validated into an :class:`Intake`.
    pain
        Legacy alias of ``running_pain`` (the old "lateral knee pain" value). Used only
        when ``intake`` gives no running pain; giving both is an error.
    first_line_done
        Legacy flag: first-line care was done (which was not recorded). Used only when
        ``intake`` lists no first-line care.

    Raises
    ------
    ConfigError
        An answer is out of range or unknown (named in the message), or ``pain`` and
        ``intake.running_pain`` are both given.
    """
    try:
        base = intake if isinstance(intake, Intake) else Intake.model_validate(dict(intake or {}))
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise ConfigError(
            f"invalid intake answers: {details}",
            remedy="Pain is 0-10; see screener.intake.Intake for the answers and their values.",
        ) from exc
    update: dict[str, Any] = {}
    if pain is not None:
        if base.running_pain is not None:
            raise ConfigError(
                "both pain and running_pain were given",
                remedy="Give only running_pain (pain is its older name).",
            )
        update["running_pain"] = pain
    if first_line_done and not base.first_line_care:
        update["first_line_care"] = ("unspecified",)
    if not update:
        return base
    try:
        return Intake.model_validate({**base.model_dump(), **update})
    except ValidationError as exc:
        raise ConfigError(
            f"pain must be a number from 0 to 10, got {pain!r}",
            remedy="Give the worst lateral knee pain during or after running, 0-10.",
        ) from exc
