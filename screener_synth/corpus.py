"""Render a training / validation / final hold-out corpus and keep what training needs.

For each clip of :func:`screener_synth.sets.corpus_specs` this renders the video into a
scratch folder (never committed), runs the screener's pose stage on it (MediaPipe, the
same settings as an analysis) and writes, into the corpus folder:

- ``NAME.keypoints.npz``: MediaPipe's landmarks (image pixels, world metres, visibility,
  detection; float32), readable with :meth:`screener.keypoints.PoseSequence.load`;
- ``NAME.truth.json`` and ``NAME.truth.csv.gz``: the clip's truth.

Training and its figures then run from the corpus folder alone, without re-rendering.
A clip already in the corpus is skipped, so an interrupted run resumes.

Usage::

    python -m screener_synth corpus --split train --n 120 --out corpus [--shard 0/2]
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from screener_synth.clips import ClipSpec, render_clip

LOGGER = logging.getLogger(__name__)


def keypoints_path(folder: Path, name: str) -> Path:
    """Where a clip's landmarks are stored in the corpus."""
    return folder / f"{name}.keypoints.npz"


def save_keypoints_compact(sequence: object, path: Path) -> None:
    """Write a :class:`~screener.keypoints.PoseSequence` as float32 (``load`` reads it)."""
    from screener.keypoints import PoseSequence

    assert isinstance(sequence, PoseSequence)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        time_s=sequence.time_s,
        image_xy_px=sequence.image_xy_px.astype(np.float32),
        world_xyz_m=sequence.world_xyz_m.astype(np.float32),
        visibility=sequence.visibility.astype(np.float32),
        detected=sequence.detected,
        image_size_px=np.asarray(sequence.image_size_px),
        source=np.asarray(json.dumps(sequence.source, default=str)),
    )
    tmp.replace(path)


def build_clip(spec: ClipSpec, corpus: Path, scratch: Path, keep_video: bool = True) -> Path:
    """Render one clip, run MediaPipe on it and store landmarks and truth in ``corpus``."""
    from screener.config import PoseConfig
    from screener.pose import estimate_pose

    t0 = time.time()
    corpus.mkdir(parents=True, exist_ok=True)
    video = render_clip(spec, scratch)
    sequence = estimate_pose(video, PoseConfig(), None)
    save_keypoints_compact(sequence, keypoints_path(corpus, spec.name))
    truth_json = scratch / f"{spec.name}.truth.json"
    truth = json.loads(truth_json.read_text())
    truth["keypoints"] = keypoints_path(corpus, spec.name).name
    truth["pose"] = sequence.source.get("pose", {})
    (corpus / truth_json.name).write_text(json.dumps(truth, indent=1) + "\n")
    with (scratch / f"{spec.name}.truth.csv").open("rb") as src:
        import gzip

        with gzip.open(corpus / f"{spec.name}.truth.csv.gz", "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
    if not keep_video:
        video.unlink()
    LOGGER.info("%s: corpus entry in %.0f s", spec.name, time.time() - t0)
    return keypoints_path(corpus, spec.name)


def build_corpus(
    specs: list[ClipSpec], corpus: Path, scratch: Path, shard: tuple[int, int] = (0, 1)
) -> list[Path]:
    """Build every clip of ``specs`` in this shard that the corpus does not hold yet."""
    index, count = shard
    done = []
    for k, spec in enumerate(specs):
        if k % count != index or keypoints_path(corpus, spec.name).exists():
            continue
        try:
            done.append(build_clip(spec, corpus, scratch))
        except Exception as exc:  # noqa: BLE001 - one bad render must not stop a corpus
            LOGGER.error("%s: not built (%s: %s)", spec.name, type(exc).__name__, exc)
    return done


class SpecMismatchError(ValueError):
    """A corpus clip's truth does not belong to the spec drawn for its name."""


def add_floor_contacts(spec: ClipSpec, corpus: Path) -> int:
    """Add the rendered foot's floor contact to the stance events of a corpus clip's truth.

    The body is posed again from ``spec`` (no rendering, no MediaPipe): the same
    deterministic posing as the render, so the mesh is the one the video showed.

    Parameters
    ----------
    spec
        The clip's spec, as :func:`screener_synth.sets.corpus_specs` draws it.
    corpus
        The corpus folder holding ``NAME.truth.json``.

    Returns
    -------
    int
        Stance events whose floor contact was seen (the others get None).

    Raises
    ------
    SpecMismatchError
        When the truth's body or task differs from the spec's (wrong split, seed or n),
        or the clip was rendered by another version of the generator (its motion differs).
    """
    from screener_synth import __version__
    from screener_synth.clips import build_motion
    from screener_synth.contact import FLOOR_CONTACT_TOL_M, floor_contact_fields

    path = corpus / f"{spec.name}.truth.json"
    truth = json.loads(path.read_text())
    rendered_by = truth.get("generator", {}).get("version")
    if rendered_by != __version__:
        raise SpecMismatchError(
            f"{path}: rendered by screener_synth {rendered_by}, and this is {__version__}, "
            "whose walk and jog move differently; add its floor contacts from a checkout of "
            f"version {rendered_by} (docs/accuracy.md, Reproduce)"
        )
    same_body = all(
        abs(float(truth["body"][key]) - float(value)) < 1e-9
        for key, value in spec.phenotype.items()
    )
    if truth["task"] != spec.task or not same_body:
        raise SpecMismatchError(
            f"{path}: its body or task differs from the spec drawn for {spec.name}; "
            "check --split, --n, --seed and --envelope against the corpus' table in "
            "docs/accuracy.md"
        )
    from screener_synth.body import AnnyBody  # torch: only once the clip is known to fit

    motion = build_motion(spec)
    posed = AnnyBody(spec.phenotype).pose(motion)
    seen = 0
    for event in truth["events"]:
        if event["kind"] != "stance":
            continue
        fields = floor_contact_fields(
            posed.foot_lowest_z[event["side"]], motion.time_s, event["t_start_s"], event["t_end_s"]
        )
        event.update(fields)
        seen += fields["t_floor_on_s"] is not None
    truth["floor_contact"] = {
        "tol_m": FLOOR_CONTACT_TOL_M,
        "source": "posed mesh: lowest vertex of the foot and toe bones within tol_m of the "
        "floor (screener_synth.contact.floor_contact_s), added to an existing corpus by "
        "`python -m screener_synth floor-contacts`",
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(truth, indent=1) + "\n")
    tmp.replace(path)
    return seen
