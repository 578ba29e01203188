"""The patient handout: one page in plain words, a picture of each exercise, dose, return date.

It is rendered from the plan of a screen (or of a whole visit) and the chart header; the
words come from the protocol file's plain-language fields (``plain_name``,
``plain_steps``, ``first_line.plain_items``), the pictures from
``screener/report/assets``. No angle, code or file name appears on it.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from screener.intake import RED_FLAG_LABELS

#: Plan stages whose handout shows the exercises (first-line care shows its advice instead).
EXERCISE_STAGES = frozenset({"second-line protocol", "goal reached", "pain unknown"})


@cache
def picture_uri(name: str) -> str:
    """A bundled exercise picture as a data URI (empty if the file is not bundled)."""
    path = resources.files("screener.report") / "assets" / name
    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


def plain_dose(dosage: dict[str, Any]) -> str:
    """A dose in everyday words: ``"3 sets of 10-15 · 2 s up, 3 s down · daily"``."""
    parts = [f"{dosage['sets']} sets of {dosage['reps']}"]
    parts += [str(dosage[k]) for k in ("tempo", "frequency") if dosage.get(k)]
    return " · ".join(parts)


def handout_context(plan: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    """Everything the handout shows.

    Parameters
    ----------
    plan
        A plan of :func:`screener.plan.build_plan` (one screen or a whole visit).
    header
        ``patient_code`` and ``visit_date`` (ISO date or "not recorded").

    Returns
    -------
    dict
        ``h`` (header), ``plan``, ``exercises`` (with ``picture_uri`` and
        ``plain_dose``), ``show_first_line``, ``red_flags`` (in words), ``return_date``.
    """
    status = plan.get("status")
    exercises = []
    if status in EXERCISE_STAGES:
        for e in plan.get("exercises", []):
            exercises.append(
                {
                    **e,
                    "picture_uri": picture_uri(str(e.get("picture", ""))),
                    "plain_dose": plain_dose(e["dosage"]),
                }
            )
    return_date = None
    try:
        visit = date.fromisoformat(str(header.get("visit_date")))
        return_date = (visit + timedelta(weeks=int(plan.get("rescreen_weeks", 4)))).isoformat()
    except ValueError:
        pass
    flags = (plan.get("referral") or {}).get("red_flags", [])
    return {
        "h": header,
        "plan": plan,
        "exercises": exercises,
        "show_first_line": status == "first-line care" and plan.get("first_line"),
        "red_flags": [RED_FLAG_LABELS.get(f, f) for f in flags],
        "return_date": return_date,
    }
