"""The hip-strengthening plan: red flags, the pain gate and the exercises the faults point to.

The whole protocol is data (``screener/models/exercises.toml``): the exercises with their
cues, pictures and dosages, the fault-to-exercise mapping, the phases of care with entry
and exit criteria, load and return-to-run guidance, the re-screen interval and the
protocol's citation. This module validates that file and assembles a plan for one screen
from the intake answers (:mod:`screener.intake`). A red flag replaces the plan with a
referral; otherwise the worst lateral knee pain during or after running sets the stage.
The plan supports a clinician's judgement: its wording describes findings and options,
never a diagnosis.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from screener.errors import ConfigError
from screener.faults import severity_rank
from screener.fileio import cached_by_file
from screener.intake import FIRST_LINE_LABELS, RED_FLAG_LABELS, Intake

FIRST_LINE = "first-line care"
SECOND_LINE = "second-line protocol"
GOAL_REACHED = "goal reached"
PAIN_UNKNOWN = "pain unknown"
REFER = "refer"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dosage(_Strict):
    """Editable default dose of one exercise."""

    sets: int = Field(ge=1)
    reps: str
    tempo: str = ""
    load: str = ""
    frequency: str = ""


class DoseOverride(_Strict):
    """A clinic's or a patient's dose of one exercise; what is left out keeps the default."""

    sets: int | None = Field(None, ge=1, le=20)
    reps: str | None = Field(None, max_length=40)
    tempo: str | None = Field(None, max_length=80)
    load: str | None = Field(None, max_length=120)
    frequency: str | None = Field(None, max_length=80)


class Exercise(_Strict):
    """One exercise of the protocol with its set-up cues."""

    id: str
    name: str
    targets: list[str]
    mode: str = ""
    plain_name: str
    picture: str
    plain_steps: list[str] = Field(min_length=1)
    setup: list[str] = Field(min_length=1)
    dosage: Dosage


class FaultLink(_Strict):
    """Exercises addressing one fault, most relevant first."""

    exercises: list[str] = Field(min_length=1)
    why: str
    cue: str = ""


class PainGate(_Strict):
    """Pain threshold of the goal."""

    goal_max_pain: float = Field(ge=0, le=10)
    goal_source: str
    scale: str = ""


class FirstLine(_Strict):
    """First-line care advice."""

    title: str
    items: list[str] = Field(min_length=1)
    next_step: str
    plain_items: list[str] = Field(min_length=1)


class Lumbopelvic(_Strict):
    """Lumbopelvic-control cue for every exercise."""

    cue: str


class Progression(_Strict):
    """How volume and load rise."""

    rule: str
    steps: list[str]
    goals: str


class Referral(_Strict):
    """What replaces the plan when a red flag is reported."""

    title: str
    message: str


class Phase(_Strict):
    """One phase of care with the criteria to enter and leave it."""

    id: str
    name: str
    basis: str
    entry: list[str] = Field(min_length=1)
    content: list[str] = Field(min_length=1)
    exit: list[str] = Field(min_length=1)


class Guidance(_Strict):
    """One piece of load-management advice and what it rests on."""

    topic: str
    advice: str
    basis: str


class ReturnToRun(_Strict):
    """Criteria and steps of the graded return to running."""

    basis: str
    criteria: list[str] = Field(min_length=1)
    steps: list[str] = Field(min_length=1)


class Protocol(_Strict):
    """A validated exercises file."""

    schema_version: int
    name: str
    source: str
    doi: str
    disclaimer: str
    rescreen_weeks: int = Field(ge=1, le=52)
    rescreen_basis: str
    pain_gate: PainGate
    referral: Referral
    first_line: FirstLine
    lumbopelvic: Lumbopelvic
    progression: Progression
    phases: list[Phase] = Field(min_length=1)
    load_guidance: list[Guidance]
    return_to_run: ReturnToRun
    exercises: list[Exercise] = Field(min_length=1)
    fault_map: dict[str, FaultLink]

    @model_validator(mode="after")
    def _links(self) -> Protocol:
        if self.schema_version != 2:
            raise ValueError(f"schema_version {self.schema_version} is not supported (2)")
        ids = [e.id for e in self.exercises]
        if len(set(ids)) != len(ids):
            raise ValueError(f"exercise ids must be unique, got {ids}")
        for fault, link in self.fault_map.items():
            for ex in link.exercises:
                if ex not in ids:
                    raise ValueError(f"fault_map.{fault} names unknown exercise '{ex}'")
        return self


@cached_by_file
def load_protocol(path: str | Path) -> Protocol:
    """Read and validate an exercises file.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or has a missing or wrong key (named in the message).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the exercises file ({exc.strerror or exc})",
            path=path,
            remedy="Check AnalysisConfig.plan_path (bundled: screener/models/exercises.toml).",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the exercises file is not valid TOML ({exc})", path=path) from exc
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"key '{'.'.join(str(p) for p in e['loc']) or '(top level)'}': {e['msg']}"
            for e in exc.errors()[:3]
        )
        raise ConfigError(
            f"invalid exercises file: {details}",
            path=path,
            remedy="Compare with the bundled screener/models/exercises.toml.",
        ) from exc


def pain_gate(
    pain: float | None,
    first_line_done: bool,
    goal_max_pain: float,
    red_flags: tuple[str, ...] | list[str] = (),
) -> str:
    """Which stage of care the answers point to.

    Parameters
    ----------
    pain
        Worst lateral knee pain during or after running in the past week, 0-10, or None
        when unknown. Pain at rest does not enter the gate: iliotibial band pain comes
        with running.
    first_line_done
        First-line care (NSAIDs, activity reduction, load modification, cross-training)
        has been tried.
    goal_max_pain
        Pain at or below this is the goal (3/10 in the protocol).
    red_flags
        Positive answers of the red-flag checklist; any one means ``"refer"``.

    Returns
    -------
    str
        ``"refer"`` (a red flag), ``"pain unknown"``, ``"goal reached"`` (pain <= goal),
        ``"first-line care"`` (pain above the goal, first-line care not yet tried) or
        ``"second-line protocol"`` (pain above the goal after first-line care).

    Raises
    ------
    ValueError
        ``pain`` is outside 0-10 or not a number.
    """
    if pain is not None and (
        not isinstance(pain, int | float) or not math.isfinite(pain) or not 0 <= pain <= 10
    ):
        raise ValueError(f"pain must be a number from 0 to 10, got {pain!r}")
    if red_flags:
        return REFER
    if pain is None:
        return PAIN_UNKNOWN
    if pain <= goal_max_pain:
        return GOAL_REACHED
    return SECOND_LINE if first_line_done else FIRST_LINE


def _findings(faults: list[dict[str, Any]], protocol: Protocol) -> list[dict[str, Any]]:
    out = []
    for f in faults:
        if f.get("verdict") != "flag":
            continue
        link = protocol.fault_map.get(f["fault"])
        out.append(
            {
                "fault": f["fault"],
                "side": f["side"],
                "severity": f["severity"],
                "confidence": f.get("confidence"),
                "label": f.get("label", f["fault"]),
                "task": f.get("task_name") or f.get("task"),
                "why": link.why if link else "",
                "exercises": list(link.exercises) if link else [e.id for e in protocol.exercises],
            }
        )
    return sorted(out, key=lambda d: -severity_rank(d["severity"]))


def _legs(indicated: list[dict[str, Any]]) -> str:
    """Which legs to train, in plain words: both unless only one side was flagged."""
    sides = {i["side"] for i in indicated if i["side"] in ("left", "right")}
    return f"{sides.pop()} leg" if len(sides) == 1 else "both legs"


def _exercise_entries(
    findings: list[dict[str, Any]],
    protocol: Protocol,
    overrides: dict[str, DoseOverride],
) -> list[dict[str, Any]]:
    entries = []
    for order, ex in enumerate(protocol.exercises):
        indicated = [
            {"fault": d["fault"], "side": d["side"], "severity": d["severity"]}
            for d in findings
            if ex.id in d["exercises"]
        ]
        top = max((severity_rank(i["severity"]) for i in indicated), default=0)
        relevance = min(
            (d["exercises"].index(ex.id) for d in findings if ex.id in d["exercises"]),
            default=len(protocol.exercises),
        )
        entry = ex.model_dump()
        override = overrides.get(ex.id)
        if override is not None:
            entry["dosage"].update(override.model_dump(exclude_none=True))
        entry["dose_source"] = "override" if override is not None else "protocol file default"
        entry["indicated_by"] = indicated
        entry["reasons"] = [
            f"{d['label']} ({', '.join(x for x in (d['side'], d['severity'], d['task']) if x)})"
            for d in findings
            if ex.id in d["exercises"]
        ]
        entry["legs"] = _legs(indicated)
        entry["_order"] = (-top, relevance, -len(indicated), order)
        entries.append(entry)
    entries.sort(key=lambda e: e.pop("_order"))
    return entries


def dose_text(dosage: dict[str, Any]) -> str:
    """A dose in words: ``"3 sets of 10-15; 2 s up, 3 s down; daily"``."""
    parts = [f"{dosage['sets']} sets of {dosage['reps']}"]
    parts += [str(dosage[k]) for k in ("tempo", "load", "frequency") if dosage.get(k)]
    return "; ".join(parts)


def validate_dose_overrides(raw: dict[str, Any], plan_path: str | Path) -> dict[str, DoseOverride]:
    """Check per-exercise dose overrides against the protocol file.

    Raises
    ------
    ConfigError
        An override names an exercise the file does not have, or a value is invalid.
    """
    protocol = load_protocol(plan_path)
    ids = {e.id for e in protocol.exercises}
    out = {}
    for ex_id, value in raw.items():
        if ex_id not in ids:
            raise ConfigError(
                f"dose override for unknown exercise '{ex_id}'",
                path=plan_path,
                remedy=f"Use one of: {', '.join(sorted(ids))}.",
            )
        try:
            out[ex_id] = (
                value if isinstance(value, DoseOverride) else DoseOverride.model_validate(value)
            )
        except ValidationError as exc:
            raise ConfigError(
                f"invalid dose override for '{ex_id}': {exc.errors()[0]['msg']}",
                remedy="sets is a whole number 1-20; reps, tempo, load, frequency are text.",
            ) from exc
    return out


def _answer_reasons(intake: Intake, status: str, goal: float) -> list[str]:
    """Which answer put the patient at this stage, one sentence each."""
    out = []
    if intake.red_flags:
        flags = "; ".join(RED_FLAG_LABELS[f] for f in intake.red_flags)
        out.append(f"Red flag reported ({flags}): referral replaces the exercise plan.")
    pain = intake.running_pain
    if pain is None:
        out.append("Worst lateral knee pain during or after running was not recorded.")
    else:
        side = "at or below" if pain <= goal else "above"
        out.append(
            f"Worst lateral knee pain during or after running in the past week: {pain:g}/10, "
            f"{side} the protocol's goal of {goal:g}/10 (this answer sets the stage)."
        )
    if intake.rest_pain is not None:
        out.append(
            f"Pain at rest: {intake.rest_pain:g}/10 (recorded; it does not set the stage, "
            "because this pain typically comes with running)."
        )
    if status in (FIRST_LINE, SECOND_LINE) or intake.first_line_care:
        if intake.first_line_care:
            tried = ", ".join(FIRST_LINE_LABELS[c] for c in intake.first_line_care)
            weeks = (
                f" for {intake.first_line_weeks:g} week(s)"
                if intake.first_line_weeks is not None
                else " (duration not recorded)"
            )
            out.append(f"First-line care tried: {tried}{weeks}.")
        else:
            out.append("No first-line care recorded as tried, so it comes first.")
    return out


_MESSAGES = {
    PAIN_UNKNOWN: "The worst lateral knee pain during or after running was not recorded, so "
    "the pain gate could not be applied. The exercises matching the movement findings are "
    "listed for the clinician to consider; record it (0-10) to place the patient in the "
    "protocol.",
    GOAL_REACHED: "The worst lateral knee pain during or after running is {pain:g}/10, at or "
    "below {goal:g}/10, the goal of the protocol. The exercises matching any movement "
    "findings are listed for the clinician to consider as maintenance.",
    FIRST_LINE: "The worst lateral knee pain during or after running is {pain:g}/10 and no "
    "first-line care was recorded as tried: first-line care comes first. If the pain stays "
    "above {goal:g}/10 afterwards, the hip-strengthening protocol below is the next step.",
    SECOND_LINE: "The worst lateral knee pain during or after running is {pain:g}/10 after "
    "first-line care (above {goal:g}/10): the hip-strengthening protocol is the next step, "
    "for the clinician to confirm and dose.",
}


def build_plan(
    faults: list[dict[str, Any]],
    intake: Intake | None,
    plan_path: str | Path,
    *,
    dose_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the plan for one screen (or one visit).

    Parameters
    ----------
    faults
        Entries of :func:`screener.faults.flag_faults`; only those with verdict ``"flag"``
        select exercises.
    intake
        The pain and history answers (:class:`screener.intake.Intake`); None: nothing
        recorded.
    plan_path
        The exercises file (``screener/models/exercises.toml`` or a clinic's own).
    dose_overrides
        Per exercise id, the dose fields that replace the file's defaults (a clinic's or
        a patient's dose).

    Returns
    -------
    dict
        ``status`` (see :func:`pain_gate`), ``message``, ``reasons`` (which answer put the
        patient where), ``intake`` (the answers), ``pain`` (the running pain),
        ``first_line_done``, ``goal_max_pain``, ``referral`` (when a red flag replaced the
        plan), ``first_line`` (advice, when it applies or pain is unknown), ``findings``,
        ``exercises`` (none when referred; else all five with cues, plain-language steps,
        picture, dose, ``dose_source``, ``indicated_by``, ``legs``; those addressing the
        findings first), ``cues``, ``lumbopelvic_cue``, ``progression``, ``phases``,
        ``load_guidance``, ``return_to_run``, ``rescreen_weeks``, ``disclaimer``,
        ``source``, ``doi``, ``dose_overrides``.

    Raises
    ------
    ConfigError
        The exercises file or a dose override is invalid.
    ValueError
        The running pain is outside 0-10.
    """
    protocol = load_protocol(plan_path)
    intake = intake or Intake()
    overrides = validate_dose_overrides(dose_overrides or {}, plan_path)
    goal = protocol.pain_gate.goal_max_pain
    status = pain_gate(intake.running_pain, intake.first_line_done, goal, intake.red_flags)
    findings = _findings(faults, protocol)
    cues = []
    for d in findings:
        link = protocol.fault_map.get(d["fault"])
        if link and link.cue and link.cue not in cues:
            cues.append(link.cue)
    referred = status == REFER
    if referred:
        flags = "; ".join(RED_FLAG_LABELS[f] for f in intake.red_flags)
        message = protocol.referral.message.format(flags=flags)
    else:
        pain = intake.running_pain if intake.running_pain is not None else 0
        message = _MESSAGES[status].format(pain=pain, goal=goal)
    return {
        "status": status,
        "message": message,
        "reasons": _answer_reasons(intake, status, goal),
        "intake": intake.answers(),
        "pain": intake.running_pain,
        "first_line_done": intake.first_line_done,
        "goal_max_pain": goal,
        "goal_source": protocol.pain_gate.goal_source,
        "referral": (
            {"title": protocol.referral.title, "red_flags": list(intake.red_flags)}
            if referred
            else None
        ),
        "first_line": (
            protocol.first_line.model_dump() if status in (FIRST_LINE, PAIN_UNKNOWN) else None
        ),
        "findings": findings,
        "exercises": [] if referred else _exercise_entries(findings, protocol, overrides),
        "cues": [] if referred else cues,
        "lumbopelvic_cue": protocol.lumbopelvic.cue,
        "progression": protocol.progression.model_dump(),
        "phases": [] if referred else [ph.model_dump() for ph in protocol.phases],
        "load_guidance": [] if referred else [g.model_dump() for g in protocol.load_guidance],
        "return_to_run": None if referred else protocol.return_to_run.model_dump(),
        "rescreen_weeks": protocol.rescreen_weeks,
        "rescreen_basis": protocol.rescreen_basis,
        "disclaimer": protocol.disclaimer,
        "source": protocol.source,
        "doi": protocol.doi,
        "plan_name": protocol.name,
        "dose_overrides": {k: v.model_dump(exclude_none=True) for k, v in overrides.items()},
    }
