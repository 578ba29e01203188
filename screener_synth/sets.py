"""The clip sets: the committed samples and a hold-out set with other bodies and cameras.

The hold-out set draws bodies and cameras from ranges disjoint from the samples' (see
:data:`SAMPLE_RANGES` and :data:`HOLDOUT_RANGES`), so a correction fitted on one can be
validated on the other.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from screener_synth import kinematics as kin
from screener_synth.clips import CORPUS_FRAME_SIZE, NORMAL_FAULTS, CameraSpec, ClipSpec

SLS_FAULTY = kin.SideFaults(
    pelvic_drop=10.0, hip_adduction=9.0, femoral_ir=16.0, knee_abduction=3.0
)
JOG_FAULTY = kin.SideFaults(
    pelvic_drop=10.0, hip_adduction=14.0, femoral_ir=16.0, knee_abduction=9.0
)
WALK_FAULTY = kin.SideFaults(
    pelvic_drop=10.0, hip_adduction=14.0, femoral_ir=15.0, knee_abduction=17.0
)

#: Bodies and cameras of the samples: heights (anny 0-1), camera heights (m), fields of view.
SAMPLE_RANGES = {"height": (0.40, 0.62), "camera_height_m": (0.85, 1.15), "yfov_deg": (44.0, 56.0)}
#: The hold-out set's ranges, disjoint from the samples'.
HOLDOUT_RANGES = {"height": (0.25, 0.38), "camera_height_m": (1.20, 1.45), "yfov_deg": (58.0, 68.0)}
#: The tuning set's ranges (corrections are fitted on it), disjoint from both others.
TUNE_RANGES = {"height": (0.12, 0.24), "camera_height_m": (0.65, 0.82), "yfov_deg": (36.0, 43.0)}

_SAMPLE_LOOKS = [
    {"shirt": (0.15, 0.35, 0.70), "shorts": (0.12, 0.12, 0.14), "skin": (0.80, 0.60, 0.48)},
    {"shirt": (0.70, 0.20, 0.20), "shorts": (0.10, 0.20, 0.35), "skin": (0.55, 0.38, 0.28)},
    {"shirt": (0.20, 0.55, 0.30), "shorts": (0.15, 0.15, 0.15), "skin": (0.88, 0.70, 0.58)},
    {"shirt": (0.85, 0.75, 0.25), "shorts": (0.25, 0.22, 0.40), "skin": (0.40, 0.27, 0.20)},
]


def _body(
    gender: float, height: float, muscle: float = 0.5, weight: float = 0.5
) -> dict[str, float]:
    return {"gender": gender, "age": 0.667, "height": height, "muscle": muscle, "weight": weight}


def sample_specs(seed: int = 1) -> list[ClipSpec]:
    """The committed sample set (``sample_videos/``)."""
    n = NORMAL_FAULTS
    return [
        ClipSpec(
            "walk_normal_ant_30fps",
            "walk",
            "anterior",
            30.0,
            "portrait",
            _body(0.0, 0.55),
            CameraSpec(1.0, 50.0, 0.8),
            {"left": n, "right": n},
            duration_s=4.2,
            cadence_spm=104.0,
            look=_SAMPLE_LOOKS[0],
            seed=seed,
        ),
        ClipSpec(
            "walk_faulty_ant_30fps",
            "walk",
            "anterior",
            30.0,
            "portrait",
            _body(1.0, 0.5, weight=0.6),
            CameraSpec(0.95, 52.0, 0.8),
            {"left": WALK_FAULTY, "right": n},
            duration_s=4.2,
            cadence_spm=108.0,
            look=_SAMPLE_LOOKS[1],
            seed=seed + 1,
        ),
        ClipSpec(
            "sls_left_normal_ant_30fps",
            "sls",
            "anterior",
            30.0,
            "portrait",
            _body(0.0, 0.5, muscle=0.6),
            CameraSpec(1.0, 50.0, 0.72),
            {"left": n, "right": n},
            stance_side="left",
            look=_SAMPLE_LOOKS[2],
            seed=seed + 2,
        ),
        ClipSpec(
            "sls_left_faulty_ant_30fps",
            "sls",
            "anterior",
            30.0,
            "landscape",
            _body(1.0, 0.45),
            CameraSpec(0.9, 46.0, 0.75),
            {"left": SLS_FAULTY, "right": n},
            stance_side="left",
            look=_SAMPLE_LOOKS[3],
            seed=seed + 3,
        ),
        ClipSpec(
            "sls_right_normal_post_30fps",
            "sls",
            "posterior",
            30.0,
            "landscape",
            _body(1.0, 0.6, weight=0.4),
            CameraSpec(1.1, 48.0, 0.75),
            {"left": n, "right": n},
            stance_side="right",
            look=_SAMPLE_LOOKS[0],
            seed=seed + 4,
        ),
        ClipSpec(
            "sls_right_faulty_ant_30fps_rot",
            "sls",
            "anterior",
            30.0,
            "portrait",
            _body(0.0, 0.6),
            CameraSpec(1.05, 54.0, 0.72),
            {"left": n, "right": SLS_FAULTY},
            stance_side="right",
            rotation_meta=True,
            look=_SAMPLE_LOOKS[1],
            seed=seed + 5,
        ),
        ClipSpec(
            "jog_normal_ant_60fps",
            "jog",
            "anterior",
            60.0,
            "portrait",
            _body(0.0, 0.45, muscle=0.7),
            CameraSpec(1.0, 50.0, 0.72),
            {"left": n, "right": n},
            duration_s=5.0,
            cadence_spm=170.0,
            look=_SAMPLE_LOOKS[2],
            seed=seed + 6,
        ),
        ClipSpec(
            "jog_faulty_post_30fps",
            "jog",
            "posterior",
            30.0,
            "portrait",
            _body(1.0, 0.55),
            CameraSpec(0.95, 50.0, 0.72),
            {
                "left": JOG_FAULTY,
                "right": kin.SideFaults(
                    pelvic_drop=9.0, hip_adduction=12.0, femoral_ir=14.0, knee_abduction=8.0
                ),
            },
            duration_s=5.0,
            cadence_spm=172.0,
            look=_SAMPLE_LOOKS[3],
            seed=seed + 7,
        ),
        ClipSpec(  # filmed as the capture guide asks: 2 s on both feet, hands on the hips
            "sls_right_normal_ant_30fps_guide",
            "sls",
            "anterior",
            30.0,
            "portrait",
            _body(1.0, 0.5, muscle=0.55),
            CameraSpec(0.85, 50.0, 0.72),
            {"left": n, "right": n},
            stance_side="right",
            arms="hips",
            look=_SAMPLE_LOOKS[2],
            seed=seed + 8,
            stand_s=2.0,
        ),
        ClipSpec(  # a walk away from the camera and back, as in a clinic's corridor
            "walk_turn_faulty_post_30fps",
            "walk",
            "posterior",
            30.0,
            "portrait",
            _body(0.0, 0.55),
            CameraSpec(0.9, 52.0, 0.8),
            {"left": n, "right": WALK_FAULTY},
            duration_s=8.0,
            cadence_spm=106.0,
            look=_SAMPLE_LOOKS[3],
            seed=seed + 9,
            turn_at_s=3.2,
        ),
    ]


def holdout_specs(seed: int = 100, per_task: int = 4) -> list[ClipSpec]:
    """A hold-out set: bodies and cameras drawn from :data:`HOLDOUT_RANGES`.

    Parameters
    ----------
    seed
        Random seed (clip parameters and looks).
    per_task
        Clips per task and stance configuration; half normal, half faulty.
    """
    return random_specs(HOLDOUT_RANGES, "holdout", seed, per_task)


def tune_specs(seed: int = 200, per_task: int = 4) -> list[ClipSpec]:
    """A tuning set: bodies and cameras from :data:`TUNE_RANGES`, faults of varied size.

    Corrections of MediaPipe's under-reading are fitted on this set and validated on the
    hold-out set and the samples, whose bodies and cameras it shares none of. The
    faulty sides' planted values are scaled by a factor drawn from 0.4-1.2, so a fit
    sees more than two magnitudes.
    """
    return random_specs(TUNE_RANGES, "tune", seed, per_task, fault_scale=(0.4, 1.2))


def random_specs(
    ranges: dict[str, tuple[float, float]],
    split: str,
    seed: int,
    per_task: int,
    fault_scale: tuple[float, float] | None = None,
) -> list[ClipSpec]:
    """Clips of every task and stance configuration with bodies and cameras from ``ranges``.

    Parameters
    ----------
    ranges
        ``height`` (anny 0-1), ``camera_height_m`` and ``yfov_deg`` intervals.
    split
        Name of the set, recorded in each truth file and used as the name's suffix letter.
    seed
        Random seed (clip parameters and looks).
    per_task
        Clips per task and stance configuration; half normal, half faulty.
    fault_scale
        Interval of a random factor applied to the faulty side's planted values; None
        keeps the task's fixed faulty values.
    """
    rng = np.random.default_rng(seed)
    r = ranges
    specs: list[ClipSpec] = []
    configs = [("walk", None), ("jog", None), ("sls", "left"), ("sls", "right")]
    k = 0
    for task, side in configs:
        for i in range(per_task):
            faulty = i % 2 == 1
            view = "posterior" if i % 4 >= 2 else "anterior"
            fps = 60.0 if rng.random() < 0.5 else 30.0
            orientation = "portrait" if rng.random() < 0.6 else "landscape"
            body = _body(
                float(rng.integers(0, 2)),
                float(rng.uniform(*r["height"])),
                muscle=float(rng.uniform(0.3, 0.8)),
                weight=float(rng.uniform(0.3, 0.8)),
            )
            camera = CameraSpec(
                float(rng.uniform(*r["camera_height_m"])),
                float(rng.uniform(*r["yfov_deg"])),
                float(rng.uniform(0.6, 0.8)),
                float(rng.uniform(-0.3, 0.3)),
            )
            bad = {"sls": SLS_FAULTY, "jog": JOG_FAULTY, "walk": WALK_FAULTY}[task]
            if fault_scale is not None and faulty:
                bad = _scaled(bad, float(rng.uniform(*fault_scale)))
            faults = {"left": NORMAL_FAULTS, "right": NORMAL_FAULTS}
            if faulty:
                sides = [side] if side else [["left", "right"][int(rng.integers(0, 2))]]
                for s in sides:
                    faults[s] = bad
            look = {
                "shirt": _rgb(rng.uniform(0.1, 0.9, 3)),
                "shorts": _rgb(rng.uniform(0.05, 0.45, 3)),
                "skin": _SAMPLE_LOOKS[int(rng.integers(0, 4))]["skin"],
            }
            state = "faulty" if faulty else "normal"
            task_name = f"{task}_{side}" if side else task
            name = f"{task_name}_{state}_{view[:4]}_{int(fps)}fps_{split[0]}{k:02d}"
            specs.append(
                ClipSpec(
                    name,
                    task,
                    view,
                    fps,
                    orientation,
                    body,
                    camera,
                    faults,
                    stance_side=side,
                    duration_s=4.2 if task == "walk" else 5.0,
                    cadence_spm=float(
                        rng.uniform(98, 112) if task == "walk" else rng.uniform(160, 180)
                    ),
                    n_reps=int(rng.integers(3, 5)),
                    look=look,
                    seed=seed + k,
                    split=split,
                )
            )
            k += 1
    return specs


def _scaled(faults: kin.SideFaults, factor: float) -> kin.SideFaults:
    """Every planted value of ``faults`` times ``factor``."""
    return dataclasses.replace(
        faults,
        **{f.name: getattr(faults, f.name) * factor for f in dataclasses.fields(faults)},
    )


def _rgb(values: np.ndarray) -> tuple[float, float, float]:
    """Three colour channels as a tuple of floats."""
    r, g, b = (float(v) for v in values)
    return (r, g, b)


# --------------------------------------------------------------------------- corpus
#: Ranges of the training corpus: wider than any clinic should film with, so that the
#: validated envelope (docs/accuracy.md) lies well inside what the method was fitted on.
CORPUS_RANGES: dict[str, tuple[float, float]] = {
    "yaw_deg": (-35.0, 35.0),
    "roll_deg": (-5.0, 5.0),
    "camera_height_m": (0.4, 1.8),
    "fill": (0.45, 0.9),
    "yfov_deg": (40.0, 70.0),
    "lateral_m": (-0.3, 0.3),
    "age": (0.5, 1.0),
    "height": (0.0, 1.0),
    "muscle": (0.0, 1.0),
    "weight": (0.0, 1.0),
    "proportions": (0.3, 0.7),
    "light": (0.55, 1.4),
    "ambient": (0.2, 0.5),
}
#: The capture envelope the method is validated for (docs/accuracy.md): chosen on the
#: validation corpus, where the event errors grew past the targets beyond these limits.
#: The final hold-out is drawn inside it ("inside") and, to check that such clips are
#: refused or warned about, outside it ("outside": a camera turned 15-35 deg or a lens
#: above 1.4 m).
ENVELOPE_RANGES: dict[str, tuple[float, float]] = {
    "yaw_deg": (-10.0, 10.0),
    "roll_deg": (-5.0, 5.0),
    "camera_height_m": (0.4, 1.2),
}
#: Largest planted value per fault; each side's value of each fault is drawn on its own.
CORPUS_FAULT_MAX = {
    "pelvic_drop": 12.0,
    "hip_adduction": 14.0,
    "femoral_ir": 18.0,
    "knee_abduction": 15.0,
    "trunk_lean": 8.0,
}
#: Task mix of the corpus (weights).
CORPUS_TASKS = (("walk", 0.25), ("jog", 0.25), ("sls", 0.40), ("stand", 0.10))
CORPUS_FPS = (24.0, 25.0, 30.0, 30.0, 50.0, 60.0)
#: Seeds of the corpus splits; the final hold-out is drawn from its own seed only after
#: the method is frozen.
CORPUS_SEEDS = {"train": 1000, "val": 2000, "final": 3000}
_SKIN_LIGHT = np.array([0.92, 0.76, 0.64])
_SKIN_DARK = np.array([0.30, 0.19, 0.13])


def corpus_specs(
    split: str,
    n: int,
    seed: int | None = None,
    envelope: str = "wide",
    fps_override: tuple[float, ...] = (),
) -> list[ClipSpec]:
    """Clips of a training, validation or final hold-out corpus with wide randomisation.

    Every factor is drawn independently of every other: body (sex, age, height, muscle,
    weight, proportions), clothing (shorts or long trousers, short or long top), skin
    tone, lighting, floor and wall; camera yaw, roll, height, distance, field of view,
    orientation and frame rate; task (walk, single-leg squat with its depth, tempo and
    arm position, jog in place with its cadence, quiet standing); and each planted fault
    on each side (so that no model can infer one fault from another).

    Parameters
    ----------
    split
        ``"train"``, ``"val"`` or ``"final"``: names the clips and picks the default seed.
    n
        Number of clips.
    seed
        Random seed; :data:`CORPUS_SEEDS` by default.
    envelope
        ``"wide"``: :data:`CORPUS_RANGES` (training, validation); ``"inside"``: the camera
        drawn within :data:`ENVELOPE_RANGES`; ``"outside"``: a camera turned 15-35° or a
        lens above 1.4 m (final hold-out checks).
    fps_override
        Frame rates given to the clips in turn instead of the drawn one (high-speed
        checks); the draw still happens, so every other factor is the same as without.

    Notes
    -----
    The 2D truth of these clips is read through a level camera straight in front of
    (behind) the subject at hip height (``truth_view="level_frontal"``): what the
    screener should report however the phone was placed.
    """
    rng = np.random.default_rng(CORPUS_SEEDS[split] if seed is None else seed)
    r = CORPUS_RANGES
    tasks = [t for t, _ in CORPUS_TASKS]
    weights = np.array([w for _, w in CORPUS_TASKS])
    specs: list[ClipSpec] = []
    for k in range(n):
        u = {key: float(rng.uniform(*bounds)) for key, bounds in r.items()}
        if envelope == "inside":
            u.update({key: float(rng.uniform(*b)) for key, b in ENVELOPE_RANGES.items()})
        elif envelope == "outside":
            if rng.random() < 0.5:
                u["yaw_deg"] = float(rng.choice([-1.0, 1.0]) * rng.uniform(15.0, 35.0))
            else:
                u["camera_height_m"] = float(rng.uniform(1.4, 1.8))
        task = str(rng.choice(tasks, p=weights / weights.sum()))
        side = str(rng.choice(["left", "right"])) if task == "sls" else None
        view = "anterior" if rng.random() < 0.6 else "posterior"
        fps = float(rng.choice(CORPUS_FPS))
        if fps_override:
            fps = float(fps_override[k % len(fps_override)])
        orientation = "portrait" if rng.random() < 0.7 else "landscape"
        body = {
            "gender": float(rng.choice([0.0, 1.0, rng.uniform(0, 1)], p=[0.45, 0.45, 0.1])),
            "age": u["age"],
            "height": u["height"],
            "muscle": u["muscle"],
            "weight": u["weight"],
            "proportions": u["proportions"],
        }
        camera = CameraSpec(
            height_m=u["camera_height_m"],
            yfov_deg=u["yfov_deg"],
            fill=u["fill"],
            lateral_m=u["lateral_m"],
            yaw_deg=u["yaw_deg"],
            roll_deg=u["roll_deg"],
        )
        faults = {s: _random_faults(rng) for s in ("left", "right")}
        tone = float(rng.uniform(0, 1))
        look = {
            "skin": _rgb(_SKIN_LIGHT + tone * (_SKIN_DARK - _SKIN_LIGHT)),
            "shirt": _rgb(rng.uniform(0.05, 0.95, 3)),
            "shorts": _rgb(rng.uniform(0.05, 0.6, 3)),
            "floor": _rgb(rng.uniform(0.25, 0.8, 3)),
            "wall": _rgb(rng.uniform(0.35, 0.95, 3)),
            "trousers": bool(rng.random() < 0.35),
            "long_top": bool(rng.random() < 0.25),
            "light": u["light"],
            "ambient": u["ambient"],
        }
        task_name = f"{task}_{side}" if side else task
        specs.append(
            ClipSpec(
                f"{task_name}_{view[:4]}_{int(fps)}fps_{split}"
                f"{'' if envelope == 'wide' else envelope[0]}{k:03d}",
                task,
                view,
                fps,
                orientation,
                body,
                camera,
                faults,
                stance_side=side,
                duration_s={"walk": 3.6, "jog": 3.2, "stand": 2.5}.get(task, 5.0),
                cadence_spm=float(
                    rng.uniform(95, 120) if task == "walk" else rng.uniform(150, 190)
                ),
                n_reps=int(rng.integers(2, 4)),
                look=look,
                seed=int(rng.integers(0, 2**31 - 1)),
                split=split,
                depth_deg=float(rng.uniform(40.0, 75.0)),
                rep_s=float(rng.uniform(1.2, 2.2)),
                arms="hips" if rng.random() < 0.5 else "out",
                truth_view="level_frontal",
                frame_size=CORPUS_FRAME_SIZE[orientation],
            )
        )
    return specs


def with_frame_scale(specs: list[ClipSpec], scale: int) -> list[ClipSpec]:
    """The same clips rendered ``scale`` times wider and taller (``corpus --frame-scale``).

    Parameters
    ----------
    specs
        Clips as drawn.
    scale
        Whole-number factor on each clip's frame size.

    Returns
    -------
    list of ClipSpec
        Every draw unchanged; the field of view is the camera's, so the picture shows the
        same scene with more pixels.

    Notes
    -----
    The corpora are rendered at 360x640 (:data:`screener_synth.clips.CORPUS_FRAME_SIZE`),
    below the 720x1280 at which the screener analyses a phone's 1080p video; this renders
    the same clips at that size (``scale=2``) to measure what the smaller frames cost.
    """
    if scale < 1:
        raise ValueError(f"frame scale must be a whole number >= 1, got {scale}")
    return [
        dataclasses.replace(s, frame_size=(s.size()[0] * scale, s.size()[1] * scale)) for s in specs
    ]


#: Lighting of the rooms the corpus does not render (``corpus --lighting``): a dim room,
#: where the phone's gain raises the sensor's noise, and a bright window behind the
#: subject, exposed for by the phone so that the subject is in shade. Each draw spans
#: from the corpus' studio (light 0.55-1.4, ambient 0.2-0.5) to clearly worse, so that
#: where the measurements start to fail can be read off.
LIGHTING_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "dim": {
        "light": (0.01, 0.35),
        "ambient": (0.005, 0.1),
        "sensor_noise": (1.5, 8.0),
        "backlight": (0.0, 0.0),
    },
    "backlit": {
        "light": (0.02, 0.35),
        "ambient": (0.01, 0.12),
        "sensor_noise": (0.0, 4.0),
        "backlight": (0.6, 1.0),
    },
}


def with_lighting(specs: list[ClipSpec], lighting: str, seed: int) -> list[ClipSpec]:
    """The clips of ``specs`` in another room's light (:data:`LIGHTING_RANGES`).

    Parameters
    ----------
    specs
        Clips as :func:`corpus_specs` draws them.
    lighting
        ``"room"`` (the specs unchanged), ``"dim"`` or ``"backlit"``.
    seed
        Seed of the lighting draws, made on their own so that every other factor of a
        clip is the one the corpus draws for it.
    """
    if lighting == "room":
        return specs
    if lighting not in LIGHTING_RANGES:
        raise ValueError(f"unknown lighting {lighting!r}: expected room, dim or backlit")
    rng = np.random.default_rng([seed, 7, sorted(LIGHTING_RANGES).index(lighting)])
    out = []
    for spec in specs:
        drawn = {key: float(rng.uniform(*b)) for key, b in LIGHTING_RANGES[lighting].items()}
        out.append(dataclasses.replace(spec, look={**spec.look, **drawn}))
    return out


#: How long a squat of ``corpus --protocol guide`` stands on both feet before the foot
#: is lifted (seconds): about the capture guide's 2 s.
GUIDE_STAND_S = (1.5, 2.5)


def with_protocol(specs: list[ClipSpec], protocol: str, seed: int) -> list[ClipSpec]:
    """The clips of ``specs`` filmed as the capture guide asks.

    Parameters
    ----------
    specs
        Clips as :func:`corpus_specs` draws them.
    protocol
        ``"corpus"`` (the specs unchanged: squats start on one leg) or ``"guide"``: each
        single-leg squat opens standing still on both feet for :data:`GUIDE_STAND_S`
        seconds, then lifts the other foot (``screener/models/capture.toml``).
    seed
        Seed of the standing times, drawn on their own so that every other factor of a
        clip is the one the corpus draws for it.
    """
    if protocol == "corpus":
        return specs
    if protocol != "guide":
        raise ValueError(f"unknown protocol {protocol!r}: expected corpus or guide")
    rng = np.random.default_rng([seed, 0x6D1DE])
    out = []
    for spec in specs:
        stand = float(rng.uniform(*GUIDE_STAND_S))
        out.append(dataclasses.replace(spec, stand_s=stand) if spec.task == "sls" else spec)
    return out


def with_other_leg(specs: list[ClipSpec]) -> list[ClipSpec]:
    """Each single-leg squat of ``specs`` on its other leg (``corpus --other-leg``).

    Parameters
    ----------
    specs
        Clips as drawn.

    Returns
    -------
    list of ClipSpec
        The squats with their stance side swapped and their name with it
        (``sls_left_...`` becomes ``sls_right_...``); the body, camera, look, depth, timing
        and the faults drawn for each side are the draws' own, so the clip is the same
        patient filmed by the same phone squatting on the other leg. Other tasks unchanged.

    Notes
    -----
    With the clips of the same draws as rendered without it, a pair per squat: what a
    visit compares when it sets a patient's two squats side by side
    (:mod:`screener.asymmetry`).
    """
    out = []
    for spec in specs:
        if spec.task != "sls" or spec.stance_side not in ("left", "right"):
            out.append(spec)
            continue
        other = "right" if spec.stance_side == "left" else "left"
        name = spec.name.replace(f"sls_{spec.stance_side}_", f"sls_{other}_", 1)
        out.append(dataclasses.replace(spec, stance_side=other, name=name))
    return out


def _random_faults(rng: np.random.Generator) -> kin.SideFaults:
    """Each fault drawn on its own: half the time near normal, else up to its maximum."""
    values = {}
    for name, top in CORPUS_FAULT_MAX.items():
        normal = getattr(NORMAL_FAULTS, name)
        values[name] = float(rng.uniform(0.0, top)) if rng.random() < 0.5 else normal
    return kin.SideFaults(**values)
