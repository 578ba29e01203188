"""The rendered foot's floor contact, read from its height above the floor."""

from __future__ import annotations

import numpy as np
import pytest

from screener_synth.contact import (
    FLOOR_CONTACT_TOL_M,
    dragged_swing,
    floor_contact_s,
    labelled_swing_s,
    lifted_in_walking_stance,
)


def _swing_stance_swing(fps: float, on_s: float, off_s: float) -> tuple[np.ndarray, np.ndarray]:
    """A foot that descends at 0.2 m/s to the floor at ``on_s``, stays, and rises at
    0.2 m/s from ``off_s``: its contact starts and ends where it crosses 1 cm."""
    t = np.arange(0.0, 1.5, 1.0 / fps)
    z = np.where(t < on_s, 0.2 * (on_s - t), np.where(t > off_s, 0.2 * (t - off_s), 0.0))
    return t, z


def test_contact_is_where_the_foot_crosses_the_tolerance_between_frames() -> None:
    t, z = _swing_stance_swing(24.0, on_s=0.43, off_s=0.91)
    contact = floor_contact_s(z, t, t_start_s=0.40, t_end_s=1.0)
    assert contact is not None
    on, off = contact
    # the foot is within 1 cm from 0.43 - 0.05 s to 0.91 + 0.05 s (0.2 m/s); linear
    # interpolation between 24 fps frames finds it to well under a frame
    assert abs(on - (0.43 - FLOOR_CONTACT_TOL_M / 0.2)) < 1e-6
    assert abs(off - (0.91 + FLOOR_CONTACT_TOL_M / 0.2)) < 1e-6


def test_contact_ignores_the_label_and_reads_the_foot() -> None:
    # the label says 0.2-1.2 s; the foot is on the floor only from 0.6 to 0.8 s
    t, z = _swing_stance_swing(60.0, on_s=0.6, off_s=0.8)
    contact = floor_contact_s(z, t, t_start_s=0.2, t_end_s=1.2)
    assert contact is not None
    assert abs(contact[0] - 0.55) < 1e-6 and abs(contact[1] - 0.85) < 1e-6


def test_a_foot_off_the_floor_mid_label_or_a_contact_cut_by_the_clip_is_not_read() -> None:
    t, z = _swing_stance_swing(30.0, on_s=0.9, off_s=1.1)
    assert floor_contact_s(z, t, t_start_s=0.1, t_end_s=0.5) is None  # foot in the air
    t, z = _swing_stance_swing(30.0, on_s=-0.5, off_s=0.6)  # on the floor from frame 0
    assert floor_contact_s(z, t, t_start_s=0.0, t_end_s=0.6) is None


def test_floor_contacts_refuse_a_clip_of_another_generator_version(tmp_path) -> None:
    import json
    from typing import Any

    import pytest

    from screener_synth import __version__
    from screener_synth.corpus import SpecMismatchError, add_floor_contacts
    from screener_synth.sets import corpus_specs

    spec = next(s for s in corpus_specs("val", 30) if s.task == "walk")
    truth: dict[str, Any] = {
        "task": spec.task,
        "body": dict(spec.phenotype),
        "generator": {"name": "screener_synth", "version": "0.1.0"},
        "events": [],
    }
    assert __version__ != "0.1.0"
    (tmp_path / f"{spec.name}.truth.json").write_text(json.dumps(truth))
    with pytest.raises(SpecMismatchError, match=r"rendered by screener_synth 0\.1\.0"):
        add_floor_contacts(spec, tmp_path)
    # the right version but another clip's body: refused too, before any posing
    truth["generator"]["version"] = __version__
    truth["body"] = {k: v + 0.01 for k, v in spec.phenotype.items()}
    (tmp_path / f"{spec.name}.truth.json").write_text(json.dumps(truth))
    with pytest.raises(SpecMismatchError, match="body or task differs"):
        add_floor_contacts(spec, tmp_path)


def _stance(side: str, start: float, end: float, on: float | None = None) -> dict:
    return {"kind": "stance", "side": side, "t_start_s": start, "t_end_s": end, "t_floor_on_s": on}


def test_a_contact_begun_early_in_the_swing_is_a_drag_not_an_initial_contact() -> None:
    # left stances 0.0-0.7 and 1.2-1.9: a 0.5 s swing between them
    events = [_stance("left", 0.0, 0.7), _stance("right", 0.6, 1.3), _stance("left", 1.2, 1.9)]
    assert labelled_swing_s(events, 2) == pytest.approx(0.5)
    # the first left stance has no swing before it: the clip's median swing (0.5 s: the
    # only one) stands in
    assert labelled_swing_s(events, 0) == pytest.approx(0.5)
    # on the floor 40 ms before the label: an initial contact; 300 ms before (from early
    # in the 0.5 s swing): the foot dragged along the floor
    assert not dragged_swing(1.16, 1.2, 0.5)
    assert not dragged_swing(1.25, 1.2, 0.5)
    assert dragged_swing(0.9, 1.2, 0.5)
    # without a labelled swing nothing is judged
    assert labelled_swing_s([_stance("left", 0.0, 0.7)], 0) is None
    assert not dragged_swing(0.0, 1.2, None)


def test_a_walking_foot_off_the_floor_well_before_its_labelled_toe_off_was_lifted() -> None:
    # labelled stance 1.0-1.7 s (0.7 s): off the floor 30 ms before the label is a toe-off;
    # 150 ms before (21 % of the stance) the posing lifted a loaded foot
    assert not lifted_in_walking_stance(1.67, 1.0, 1.7)
    assert not lifted_in_walking_stance(1.72, 1.0, 1.7)
    assert lifted_in_walking_stance(1.55, 1.0, 1.7)
    # a degenerate label judges nothing
    assert not lifted_in_walking_stance(0.5, 1.0, 1.0)
