"""Where a rendered foot meets the floor: gait events as a gait lab defines them.

The generator labels a stance phase by gait phase (:mod:`screener_synth.kinematics`);
this reads initial contact and toe-off from the posed mesh instead. Pure NumPy (no
torch), so it is tested without the synth extra.
"""

from __future__ import annotations

import numpy as np

#: A foot is on the floor while its lowest vertex is within this height of it (m): about
#: a shoe sole's compression, and above the mesh's 2-3 mm resting offset.
FLOOR_CONTACT_TOL_M = 0.01


def floor_contact_s(
    lowest_z_m: np.ndarray,
    time_s: np.ndarray,
    t_start_s: float,
    t_end_s: float,
    tol_m: float = FLOOR_CONTACT_TOL_M,
) -> tuple[float, float] | None:
    """Where the rendered foot is on the floor around one labelled stance phase.

    Parameters
    ----------
    lowest_z_m
        ``(n,)`` height of the foot's lowest vertex above the floor, per frame.
    time_s
        ``(n,)`` frame times.
    t_start_s, t_end_s
        The stance phase as the generator labels it (by gait phase).
    tol_m
        The foot is on the floor while its lowest point is within this height.

    Returns
    -------
    tuple of float or None
        ``(on, off)``: the first and last instants of the run of on-floor frames that
        contains the labelled stance's middle frame, each interpolated linearly to where
        the height crosses ``tol_m``. None when that frame is off the floor or the run
        reaches the clip's first or last frame (the contact time is not seen).

    Notes
    -----
    This is initial contact and toe-off as a gait lab defines them (first and last
    contact of any part of the foot), read from the posed mesh. It differs from the
    generator's phase labels wherever its leg curves lift the foot early or bring it
    down early (docs/accuracy.md measures by how much).
    """
    on = lowest_z_m <= tol_m
    n = on.size
    mid = int(np.argmin(np.abs(time_s - 0.5 * (t_start_s + t_end_s))))
    if not on[mid]:
        return None
    first = mid
    while first > 0 and on[first - 1]:
        first -= 1
    last = mid
    while last < n - 1 and on[last + 1]:
        last += 1
    if first == 0 or last == n - 1:
        return None

    def crossing(off: int, onto: int) -> float:
        z_off, z_on = lowest_z_m[off], lowest_z_m[onto]
        u = (z_off - tol_m) / (z_off - z_on)
        return float(time_s[off] + u * (time_s[onto] - time_s[off]))

    return crossing(first - 1, first), crossing(last + 1, last)


#: A contact run that starts more than this fraction of the foot's labelled swing before
#: the labelled stance is a swing dragged along the floor, not an initial contact
#: (:func:`dragged_swing`).
DRAG_SWING_FRACTION = 0.5


def labelled_swing_s(events: list[dict], index: int) -> float | None:
    """The labelled swing before stance event ``index``: from the same foot's previous
    labelled stance's end to this one's start, seconds.

    For a foot's first stance of the clip (no previous one) the median of the clip's other
    swings of either foot; None when the clip has none.
    """
    stances = [e for e in events if e.get("kind") == "stance"]
    swings: dict[int, float] = {}
    for k, ev in enumerate(events):
        if ev.get("kind") != "stance":
            continue
        before = [
            e["t_end_s"]
            for e in stances
            if e["side"] == ev["side"] and e["t_end_s"] <= ev["t_start_s"] + 1e-9
        ]
        if before:
            swings[k] = float(ev["t_start_s"] - max(before))
    if index in swings:
        return swings[index]
    return float(np.median(list(swings.values()))) if swings else None


def dragged_swing(t_floor_on_s: float, t_start_s: float, swing_s: float | None) -> bool:
    """Whether a stance's floor contact began in the foot's swing: the rendered foot on the
    floor more than :data:`DRAG_SWING_FRACTION` of its labelled swing before the labelled
    stance.

    Notes
    -----
    The generator poses the legs by gait phase, not by physics: for some bodies the swing
    foot's lowest point comes within :data:`FLOOR_CONTACT_TOL_M` of the floor (or below it)
    soon after toe-off and stays there while the foot swings forward, so
    :func:`floor_contact_s` extends the contact run back into the swing. Over the stored
    walks (409 clips, 2,228 stance phases with a seen contact) the contact began between
    60 ms before and 100 ms after the labelled stance for 96 % of phases, and 200-600 ms
    before it for 85 phases in 30 clips, with none between: a foot dragged through the
    floor, which no real walker does, and no initial contact to time.
    """
    if swing_s is None or not np.isfinite(swing_s) or swing_s <= 0:
        return False
    return bool(t_start_s - t_floor_on_s > DRAG_SWING_FRACTION * swing_s)


#: A walking stance whose rendered foot leaves the floor more than this fraction of its
#: labelled stance before the labelled toe-off was lifted by the posing while its gait
#: phase still loads it (:func:`lifted_in_walking_stance`).
LIFT_STANCE_FRACTION = 0.09


def lifted_in_walking_stance(t_floor_off_s: float, t_start_s: float, t_end_s: float) -> bool:
    """Whether a walking stance's rendered foot left the floor well before its labelled
    toe-off: more than :data:`LIFT_STANCE_FRACTION` of the labelled stance before it.

    Notes
    -----
    The counterpart of :func:`dragged_swing` at the other end of the stance. The generator
    sets the body's height by gait phase, not by physics: for some bodies the loaded
    foot's lowest point rises above :data:`FLOOR_CONTACT_TOL_M` in mid-stance, so
    :func:`floor_contact_s` ends the contact there. Over the walks of hold-outs 41-60
    inside the envelope (815 stance phases with a seen contact) the contact ended within
    0.056 of the labelled stance from the labelled toe-off for 728 phases and 0.119-0.449
    before it for 87, none between; in 56 of the 87 neither foot was on the floor within
    150 ms after (a walker in the air), which never happened after the other 728. Such a
    phase has no toe-off a camera could time. Jogs show no such gap (the same fraction
    spreads evenly up to 0.2), so the rule is for walks.
    """
    stance_s = t_end_s - t_start_s
    return bool(stance_s > 0 and t_end_s - t_floor_off_s > LIFT_STANCE_FRACTION * stance_s)


def posing_artefact(events: list[dict], index: int, task: str) -> str | None:
    """Why stance event ``index`` of a clip's truth has no floor contact to time.

    Returns
    -------
    str or None
        ``"dragged"`` (:func:`dragged_swing`), ``"lifted"`` (a walk,
        :func:`lifted_in_walking_stance`), or None: a contact to time, or none seen.
    """
    ev = events[index]
    if ev.get("kind") != "stance" or ev.get("t_floor_on_s") is None:
        return None
    swing = labelled_swing_s(events, index)
    if dragged_swing(float(ev["t_floor_on_s"]), float(ev["t_start_s"]), swing):
        return "dragged"
    off, start, end = (float(ev[k]) for k in ("t_floor_off_s", "t_start_s", "t_end_s"))
    if task == "walk" and lifted_in_walking_stance(off, start, end):
        return "lifted"
    return None


def floor_contact_fields(
    lowest_z_m: np.ndarray, time_s: np.ndarray, t_start_s: float, t_end_s: float
) -> dict[str, float | None]:
    """A stance event's ``t_floor_on_s`` and ``t_floor_off_s`` truth fields (µs-rounded
    :func:`floor_contact_s`; None when the contact is not seen)."""
    contact = floor_contact_s(lowest_z_m, time_s, t_start_s, t_end_s)
    return {
        "t_floor_on_s": None if contact is None else round(contact[0], 6),
        "t_floor_off_s": None if contact is None else round(contact[1], 6),
    }
