"""The hip-strengthening plan: the pain gate and the exercises the flagged faults point to.

The exercises, their cues and dosages, the fault-to-exercise mapping and the progression
rule are data (``screener/models/exercises.toml``); this module validates that file and
assembles a plan for one screen. The plan supports a clinician's judgement: its wording
describes findings and options, never a diagnosis.
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

FIRST_LINE = "first-line care"
SECOND_LINE = "second-line protocol"
GOAL_REACHED = "goal reached"
PAIN_UNKNOWN = "pain unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dosage(_Strict):
    """Editable default dose of one exercise."""

    sets: int = Field(ge=1)
    reps: str
    tempo: str = ""
    load: str = ""
    frequency: str = ""


class Exercise(_Strict):
    """One exercise of the protocol with its set-up cues."""

    id: str
    name: str
    targets: list[str]
    mode: str = ""
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


class Lumbopelvic(_Strict):
    """Lumbopelvic-control cue for every exercise."""

    cue: str


class Progression(_Strict):
    """How volume and load rise."""

    rule: str
    steps: list[str]
    goals: str


class Protocol(_Strict):
    """A validated exercises file."""

    schema_version: int
    name: str
    source: str
    disclaimer: str
    pain_gate: PainGate
    first_line: FirstLine
    lumbopelvic: Lumbopelvic
    progression: Progression
    exercises: list[Exercise] = Field(min_length=1)
    fault_map: dict[str, FaultLink]

    @model_validator(mode="after")
    def _links(self) -> Protocol:
        if self.schema_version != 1:
            raise ValueError(f"schema_version {self.schema_version} is not supported (1)")
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


def pain_gate(pain: float | None, first_line_done: bool, goal_max_pain: float) -> str:
    """Which stage of care the pain level points to.

    Parameters
    ----------
    pain
        Lateral knee pain 0-10, or None when unknown.
    first_line_done
        First-line care (NSAIDs, activity reduction, load modification, cross-training)
        has been done.
    goal_max_pain
        Pain at or below this is the goal (3/10 in the protocol).

    Returns
    -------
    str
        ``"pain unknown"``, ``"goal reached"`` (pain <= goal), ``"first-line care"``
        (pain above the goal, first-line care not yet done) or ``"second-line protocol"``
        (pain above the goal after first-line care).

    Raises
    ------
    ValueError
        ``pain`` is outside 0-10 or not a number.
    """
    if pain is None:
        return PAIN_UNKNOWN
    if not isinstance(pain, int | float) or not math.isfinite(pain) or not 0 <= pain <= 10:
        raise ValueError(f"pain must be a number from 0 to 10, got {pain!r}")
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
                "why": link.why if link else "",
                "exercises": list(link.exercises) if link else [e.id for e in protocol.exercises],
            }
        )
    return sorted(out, key=lambda d: -severity_rank(d["severity"]))


def _exercise_entries(findings: list[dict[str, Any]], protocol: Protocol) -> list[dict[str, Any]]:
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
        entry["indicated_by"] = indicated
        entry["_order"] = (-top, relevance, -len(indicated), order)
        entries.append(entry)
    entries.sort(key=lambda e: e.pop("_order"))
    return entries


_MESSAGES = {
    PAIN_UNKNOWN: "Pain was not recorded, so the pain gate could not be applied. The exercises "
    "matching the movement findings are listed for the clinician to consider; record lateral "
    "knee pain (0-10) to place the patient in the protocol.",
    GOAL_REACHED: "Lateral knee pain is at or below {goal:g}/10, the goal of the protocol. The "
    "exercises matching any movement findings are listed for the clinician to consider as "
    "maintenance.",
    FIRST_LINE: "Lateral knee pain is {pain:g}/10 and first-line care has not been recorded as "
    "done: first-line care comes first. If pain stays above {goal:g}/10 afterwards, the "
    "hip-strengthening protocol below is the next step.",
    SECOND_LINE: "Lateral knee pain is {pain:g}/10 after first-line care (above {goal:g}/10): "
    "the hip-strengthening protocol is the next step, for the clinician to confirm and dose.",
}


def build_plan(
    faults: list[dict[str, Any]],
    pain: float | None,
    first_line_done: bool,
    plan_path: str | Path,
) -> dict[str, Any]:
    """Assemble the plan for one screen.

    Parameters
    ----------
    faults
        Entries of :func:`screener.faults.flag_faults`; only those with verdict ``"flag"``
        select exercises.
    pain
        Lateral knee pain 0-10, or None when unknown.
    first_line_done
        Whether first-line care has been done.
    plan_path
        The exercises file (``screener/models/exercises.toml`` or a clinic's own).

    Returns
    -------
    dict
        ``status`` (see :func:`pain_gate`), ``message``, ``pain``, ``first_line_done``,
        ``goal_max_pain``, ``first_line`` (advice, when it applies or pain is unknown),
        ``findings`` (flagged faults with why they matter and their exercises),
        ``exercises`` (all five of the protocol with set-up cues, editable default dosage
        and ``indicated_by``; those addressing the findings first), ``cues`` (extra cues of
        the flagged faults), ``lumbopelvic_cue``, ``progression``, ``disclaimer``,
        ``source``.

    Raises
    ------
    ConfigError
        The exercises file is invalid.
    ValueError
        ``pain`` is outside 0-10.
    """
    protocol = load_protocol(plan_path)
    goal = protocol.pain_gate.goal_max_pain
    status = pain_gate(pain, first_line_done, goal)
    findings = _findings(faults, protocol)
    cues = []
    for d in findings:
        link = protocol.fault_map.get(d["fault"])
        if link and link.cue and link.cue not in cues:
            cues.append(link.cue)
    return {
        "status": status,
        "message": _MESSAGES[status].format(pain=pain if pain is not None else 0, goal=goal),
        "pain": pain,
        "first_line_done": bool(first_line_done),
        "goal_max_pain": goal,
        "first_line": (
            protocol.first_line.model_dump() if status in (FIRST_LINE, PAIN_UNKNOWN) else None
        ),
        "findings": findings,
        "exercises": _exercise_entries(findings, protocol),
        "cues": cues,
        "lumbopelvic_cue": protocol.lumbopelvic.cue,
        "progression": protocol.progression.model_dump(),
        "disclaimer": protocol.disclaimer,
        "source": protocol.source,
        "plan_name": protocol.name,
    }
