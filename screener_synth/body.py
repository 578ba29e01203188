"""The anny body posed from a :class:`~screener_synth.kinematics.Motion`.

anny's default ("local-ref") pose parameterisation: each bone's delta is a rotation in
world-aligned axes about the bone's head, composed down the chain. To give a bone the
world rotation ``G`` (relative to the neutral pose) its delta is ``G_parent⁻¹ G``.
Bones that are not set inherit their parent's rotation.

Joint centres: hip = head of ``upperleg01``, knee = ``lowerleg01``, ankle = ``foot``,
shoulder = ``upperarm01`` (translation part of the posed bone poses).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from screener_synth.feet import clear_floor, plant_toes, slerp
from screener_synth.geometry import FloatArray, hip_rotation, rot_x, rot_y, rot_z
from screener_synth.kinematics import SIDES, Motion

LOGGER = logging.getLogger(__name__)

_SUFFIX = {"left": "L", "right": "R"}
JOINT_BONES = {
    "hip": "upperleg01",
    "knee": "lowerleg01",
    "ankle": "foot",
    "shoulder": "upperarm01",
}
_BATCH = 24


@lru_cache(maxsize=1)
def load_model() -> Any:
    """The anny model (LBS skinning), built once per process (first call builds a cache)."""
    import anny

    LOGGER.info("loading anny model (the first run builds a ~790 MB cache)")
    return anny.Anny(skinning_method="lbs")


@lru_cache(maxsize=1)
def coco_regressor() -> Any:
    """anny's COCO surface keypoint regressor."""
    import anny

    return anny.KeypointsRegressor.coco(load_model())


@dataclass
class PosedBody:
    """A posed body sequence in world coordinates (floor at z = 0).

    Attributes
    ----------
    vertices
        ``(n, V, 3)`` float32 mesh vertices.
    joints
        ``"{side}_{joint}"`` -> ``(n, 3)`` joint centres (hip, knee, ankle, shoulder).
    surface
        COCO label -> ``(n, 3)`` surface keypoints from anny's regressor.
    pelvis_rotation
        ``(n, 3, 3)`` world rotation of the pelvis from the neutral pose (as posed).
    femur_rotation
        Side -> ``(n, 3, 3)`` world rotation of the femur from the neutral pose (as posed).
    femur_frame
        Side -> ``(3, 3)`` the femur's anatomical frame in the neutral pose (columns:
        medio-lateral +X, antero-posterior, long axis knee -> hip).
    foot_lowest_z
        Side -> ``(n,)`` height above the floor (m) of the lowest vertex of that foot
        (foot and toe bones): where the rendered foot meets the floor.
    """

    vertices: np.ndarray
    joints: dict[str, FloatArray]
    surface: dict[str, FloatArray]
    pelvis_rotation: FloatArray
    femur_rotation: dict[str, FloatArray]
    femur_frame: dict[str, FloatArray]
    foot_lowest_z: dict[str, FloatArray]


def _delta(rotation: FloatArray) -> torch.Tensor:
    m = np.zeros((rotation.shape[0], 4, 4))
    m[:, :3, :3] = rotation
    m[:, 3, 3] = 1.0
    return torch.from_numpy(m)


def _angle_between(u: FloatArray, v: FloatArray) -> float:
    c = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


class AnnyBody:
    """One anny body (phenotype) that poses motions.

    Parameters
    ----------
    phenotype
        anny phenotype values (0-1): ``gender`` (0 male, 1 female), ``age``, ``muscle``,
        ``weight``, ``height``, ``proportions``.
    """

    def __init__(self, phenotype: dict[str, float]) -> None:
        self.model = load_model()
        self.labels = list(self.model.bone_labels)
        self.parents = list(self.model.bone_parents)
        self.phenotype = dict(phenotype)
        with torch.no_grad():
            out = self.model(phenotype_kwargs=self._phen(1))
        self.neutral_poses = out["bone_poses"][0].numpy()
        vertices = out["vertices"][0].numpy()
        self.faces = self.model.get_triangular_faces().numpy()
        j = self._joints_from(out["bone_poses"].numpy())
        self.neutral_hip_z = float(j["left_hip"][0, 2])
        self.ankle_height = float(j["left_ankle"][0, 2] - vertices[:, 2].min())
        self.stature = float(vertices[:, 2].max() - vertices[:, 2].min())
        self.femur_frame = {s: self._femur_frame(j, s) for s in SIDES}
        self.neutral_knee = {
            s: 180.0
            - _angle_between(
                j[f"{s}_hip"][0] - j[f"{s}_knee"][0], j[f"{s}_ankle"][0] - j[f"{s}_knee"][0]
            )
            for s in SIDES
        }
        self.neutral_arm_abduction = {s: self._arm_abduction(s) for s in SIDES}
        self.neutral_elbow = {s: self._elbow(s) for s in SIDES}
        weights = self.model.vertex_bone_weights.numpy()
        indices = self.model.vertex_bone_indices.numpy()
        self.dominant_bone = indices[np.arange(len(indices)), weights.argmax(axis=1)]
        self.neutral_vertices = vertices

    # ---------------------------------------------------------------- neutral pose
    def _phen(self, n: int) -> dict[str, torch.Tensor]:
        return {
            k: torch.full((n,), float(v), dtype=torch.float64) for k, v in self.phenotype.items()
        }

    def _idx(self, bone: str) -> int:
        return self.labels.index(bone)

    def _head(self, bone: str) -> FloatArray:
        return self.neutral_poses[self._idx(bone), :3, 3]

    def _joints_from(self, bone_poses: np.ndarray) -> dict[str, FloatArray]:
        return {
            f"{s}_{name}": bone_poses[:, self._idx(f"{bone}.{_SUFFIX[s]}"), :3, 3]
            for s in SIDES
            for name, bone in JOINT_BONES.items()
        }

    @staticmethod
    def _femur_frame(j: dict[str, FloatArray], side: str) -> FloatArray:
        z = j[f"{side}_hip"][0] - j[f"{side}_knee"][0]
        z /= np.linalg.norm(z)
        x = np.array([1.0, 0.0, 0.0]) - z[0] * z
        x /= np.linalg.norm(x)
        return np.stack([x, np.cross(z, x), z], axis=1)

    def _arm_abduction(self, side: str) -> float:
        s = _SUFFIX[side]
        v = self._head(f"lowerarm01.{s}") - self._head(f"upperarm01.{s}")
        return float(np.degrees(np.arctan2(abs(v[0]), -v[2])))

    def _elbow(self, side: str) -> float:
        s = _SUFFIX[side]
        shoulder, elbow, wrist = (
            self._head(f"{b}.{s}") for b in ("upperarm01", "lowerarm01", "wrist")
        )
        return 180.0 - _angle_between(shoulder - elbow, wrist - elbow)

    # ---------------------------------------------------------------- posing
    def world_rotations(self, motion: Motion) -> dict[str, FloatArray]:
        """World rotations (from the neutral pose) of the driven bones, per frame."""
        a = motion.angles
        heading = rot_z(a["pelvis_yaw"])  # the whole body turns with the pelvis
        pelvis = heading @ rot_y(a["pelvis_obliquity"]) @ rot_x(a["pelvis_tilt"])
        trunk = heading @ rot_y(a["trunk_lean"]) @ rot_x(a["trunk_flexion"])
        g: dict[str, FloatArray] = {"root": pelvis, "spine05": trunk}
        g["neck01"] = heading @ rot_y(a["trunk_lean"] * 0.3) @ rot_x(a["trunk_flexion"] * 0.35)
        flat = heading
        for side in SIDES:
            s, sign = _SUFFIX[side], (1.0 if side == "left" else -1.0)
            f0 = self.femur_frame[side]
            hip = hip_rotation(
                a[f"{side}_hip_flexion"], a[f"{side}_hip_adduction"], a[f"{side}_hip_ir"], side
            )
            femur = pelvis @ hip @ f0.T
            knee = rot_x(a[f"{side}_knee_flexion"] - self.neutral_knee[side]) @ rot_y(
                -sign * a[f"{side}_knee_abduction"]
            )
            shank = femur @ f0 @ knee @ f0.T
            swing_foot = shank @ rot_x(a[f"{side}_ankle_plantar"])
            foot = slerp(swing_foot, flat, a[f"{side}_foot_plant"])
            down = self.neutral_arm_abduction[side] - a[f"{side}_shoulder_abduction"]
            upper = trunk @ rot_x(-a[f"{side}_shoulder_flexion"]) @ rot_y(sign * down)
            lower = upper @ rot_x(-(a[f"{side}_elbow_flexion"] - self.neutral_elbow[side]))
            g.update(
                {
                    f"upperleg01.{s}": femur,
                    f"lowerleg01.{s}": shank,
                    f"foot.{s}": foot,
                    f"upperarm01.{s}": upper,
                    f"lowerarm01.{s}": lower,
                }
            )
        return g

    def _deltas(self, g: dict[str, FloatArray], n: int) -> dict[str, torch.Tensor]:
        """Delta per driven bone: ``G_parent⁻¹ G`` with inherited parent rotations."""
        eye = np.broadcast_to(np.eye(3), (n, 3, 3))
        accumulated: list[FloatArray] = []
        deltas = {}
        for i, label in enumerate(self.labels):
            parent = accumulated[self.parents[i]] if i > 0 else eye
            own = g.get(label)
            if own is None:
                accumulated.append(parent)
                continue
            accumulated.append(own)
            deltas[label] = _delta(np.einsum("nji,njk->nik", parent, own))
        return deltas

    def _run(
        self, deltas: dict[str, torch.Tensor], n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vertices, bone poses and COCO keypoints for ``n`` frames (root at the origin)."""
        verts, poses, surface = [], [], []
        regressor = coco_regressor()
        with torch.no_grad():
            for start in range(0, n, _BATCH):
                sl = slice(start, min(n, start + _BATCH))
                batch = {k: v[sl] for k, v in deltas.items()}
                out = self.model(batch, phenotype_kwargs=self._phen(sl.stop - sl.start))
                verts.append(out["vertices"].numpy().astype(np.float32))
                poses.append(out["bone_poses"].numpy())
                surface.append(regressor(out).numpy())
        return np.concatenate(verts), np.concatenate(poses), np.concatenate(surface)

    def pose(self, motion: Motion) -> PosedBody:
        """Pose the body for every frame and place it on the floor (no foot skating).

        The anchoring foot is held fixed (:func:`solve_root_translation`); in a walk, from
        heel-off (:attr:`Motion.toe_pivot`) to toe-off, the stance foot rolls onto toes
        that stay planted, its leg turned about the hip to reach them
        (:func:`~screener_synth.feet.plant_toes`) with the knee flexed by
        :attr:`Motion.pivot_knee_deg` after the root is placed; a foot in
        the air is pitched toward flat where its planned orientation would put it through
        the floor (:func:`clear_floor`). Both need a second posing pass.

        Returns
        -------
        PosedBody
        """
        n = motion.n_frames
        g = self.world_rotations(motion)
        _, bone_poses, _ = self._run(self._deltas(g, n), n)
        joints = self._joints_from(bone_poses)
        shift = solve_root_translation(motion, joints, self.ankle_height)
        if motion.pivot_knee_deg:
            # the terminal-stance knee flexes after the root is placed: the leg shortens
            # and its foot pitches on planted toes (below), the pelvis keeping its path
            a = dict(motion.angles)
            for side, extra in motion.pivot_knee_deg.items():
                a[f"{side}_knee_flexion"] = a[f"{side}_knee_flexion"] + extra
            g = self.world_rotations(replace(motion, angles=a))
            _, bone_poses, _ = self._run(self._deltas(g, n), n)
            joints = self._joints_from(bone_poses)
        for i, side in enumerate(SIDES):
            free = motion.anchor != i
            s = _SUFFIX[side]
            bone = f"foot.{s}"
            if motion.task == "walk":
                # from heel-off (or, without one, in double support) the stance foot
                # rolls onto its planted toes
                pivot = motion.toe_pivot.get(side, motion.in_stance[side] & free)
                leg, g[bone] = plant_toes(
                    joints[f"{side}_hip"] + shift,
                    joints[f"{side}_ankle"] + shift,
                    g[bone],
                    self._foot_points(side),
                    pivot,
                    motion.time_s,
                )
                for part in (f"upperleg01.{s}", f"lowerleg01.{s}"):
                    g[part] = leg @ g[part]
                hip = joints[f"{side}_hip"] + shift
                ankle = hip + np.einsum("nij,nj->ni", leg, joints[f"{side}_ankle"] + shift - hip)
                ankle_z = ankle[:, 2]
            else:
                ankle_z = joints[f"{side}_ankle"][:, 2] + shift[:, 2]
            g[bone] = clear_floor(g[bone], ankle_z, self._foot_points(side), free)
        vertices, bone_poses, kp = self._run(self._deltas(g, n), n)
        joints = {k: v + shift for k, v in self._joints_from(bone_poses).items()}
        vertices += shift[:, None, :].astype(np.float32)
        kp += shift[:, None, :]
        regressor = coco_regressor()
        return PosedBody(
            vertices=vertices,
            joints=joints,
            surface={label: kp[:, i] for i, label in enumerate(regressor.labels)},
            pelvis_rotation=self._rotation_from_neutral(bone_poses, "root"),
            femur_rotation={
                s: self._rotation_from_neutral(bone_poses, f"upperleg01.{_SUFFIX[s]}")
                for s in SIDES
            },
            femur_frame=self.femur_frame,
            foot_lowest_z={
                s: vertices[:, self._foot_mask(s), 2].min(axis=1).astype(float) for s in SIDES
            },
        )

    def _foot_mask(self, side: str) -> np.ndarray:
        """``(V,)`` True for the vertices of one foot (foot and toe bones)."""
        names = np.asarray(self.labels)[self.dominant_bone]
        s = _SUFFIX[side]
        return np.array(
            [n == f"foot.{s}" or (n.startswith("toe") and n.endswith(s)) for n in names]
        )

    def _foot_points(self, side: str) -> FloatArray:
        """Neutral-pose vertices of one foot (foot and toe bones), relative to the ankle."""
        return self.neutral_vertices[self._foot_mask(side)] - self._head(f"foot.{_SUFFIX[side]}")

    def _rotation_from_neutral(self, bone_poses: np.ndarray, bone: str) -> FloatArray:
        i = self._idx(bone)
        return np.einsum("nij,kj->nik", bone_poses[:, i, :3, :3], self.neutral_poses[i, :3, :3])


def _fill_flight(shift: FloatArray, anchored: np.ndarray, times: FloatArray) -> FloatArray:
    """Interpolate the root over flight frames, with a ballistic rise, in place."""
    idx = np.flatnonzero(anchored)
    if idx.size == 0:
        raise ValueError("no frame has a foot on the floor")
    k = 0
    n = shift.shape[0]
    while k < n:
        if anchored[k]:
            k += 1
            continue
        j = k
        while j < n and not anchored[j]:
            j += 1
        before, after = k - 1, j
        if before < 0:
            shift[k:j] = shift[after]
        elif after >= n:
            shift[k:j] = shift[before]
        else:
            span = times[after] - times[before]
            u = (times[k:j] - times[before]) / span
            shift[k:j] = shift[before] + u[:, None] * (shift[after] - shift[before])
            shift[k:j, 2] += 0.5 * 9.81 * (u * (1 - u)) * span**2
        k = j
    return shift


def solve_root_translation(
    motion: Motion, joints: dict[str, FloatArray], ankle_height: float, blend_s: float = 0.12
) -> FloatArray:
    """Root translation per frame that keeps the anchoring foot fixed on the floor.

    Parameters
    ----------
    motion
        Gives the anchoring foot per frame and whether feet land in place.
    joints
        Joint centres of the body posed with a zero root translation.
    ankle_height
        Ankle-centre height above the sole when the foot is flat.
    blend_s
        A new contact's height mismatch is spread over this time (the foot sinks or
        rises by that mismatch at most, typically under 2 cm).

    Returns
    -------
    ndarray
        ``(n, 3)`` translation to add to every point of each frame.
    """
    n = motion.n_frames
    ankles = np.stack([joints["left_ankle"], joints["right_ankle"]])  # (2, n, 3)
    shift = np.zeros((n, 3))
    anchored = motion.anchor >= 0
    fixed: FloatArray | None = None
    home: dict[int, FloatArray] = {}
    correction = np.zeros(n)
    for i in range(n):
        a = int(motion.anchor[i])
        if a < 0:
            continue
        new_contact = i == 0 or motion.anchor[i - 1] != a
        if new_contact:
            if motion.in_place:
                if a not in home:
                    home[a] = np.array([ankles[a, i, 0], ankles[a, i, 1], ankle_height])
                fixed = home[a]
            else:
                previous = shift[i - 1] if i > 0 else np.zeros(3)
                fixed = ankles[a, i] + previous
                mismatch = fixed[2] - ankle_height
                fixed = np.array([fixed[0], fixed[1], ankle_height])
                if i > 0:
                    ramp = np.clip((motion.time_s - motion.time_s[i]) / blend_s, 0.0, 1.0)
                    correction += np.where(
                        motion.time_s >= motion.time_s[i], mismatch * (1 - ramp), 0.0
                    )
        assert fixed is not None
        shift[i] = fixed - ankles[a, i]
    shift[:, 2] += correction
    return _fill_flight(shift, anchored, motion.time_s)
