"""The pyrender scene: a clothed-looking body, a floor, a back wall, lights and the camera.

Software OpenGL (OSMesa): ``PYOPENGL_PLATFORM=osmesa`` must be set before pyrender is
imported; :func:`make_renderer` sets it when it is not set.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from screener_synth.geometry import PinholeCamera

LOGGER = logging.getLogger(__name__)

#: Clothing by dominant skinning bone (prefix match, first match wins).
_GARMENTS = (
    ("shoe", ("foot.", "toe")),
    ("shorts", ("pelvis.", "upperleg01.", "root")),
    ("shirt", ("spine", "clavicle", "shoulder01", "upperarm01")),
    ("eye", ("eye.",)),
)


@dataclass(frozen=True)
class Look:
    """Colours (RGB 0-1) of one subject and scene.

    Parameters
    ----------
    skin, shirt, shorts, shoe, hair
        Body colours.
    floor, wall
        Base colours of the floor tiles and the wall.
    trousers
        Long trousers (the shorts' colour down to the ankles) instead of shorts.
    long_top
        A long, loose-looking top: the shirt's colour down over the hips to mid-thigh.
    light
        Scale of the key and fill lights (1 = the studio of the samples).
    ambient
        Ambient light level (0-1).
    backlight
        Glow (0-1) of the wall behind the subject, as of a bright window behind them: the
        wall's emissive factor. 0 = a lit wall only.
    sensor_noise
        Standard deviation (8-bit levels) of the Gaussian noise added to every pixel of
        every frame before encoding, as a phone's raised gain in a dim room adds.
    """

    skin: tuple[float, float, float] = (0.80, 0.60, 0.48)
    shirt: tuple[float, float, float] = (0.15, 0.35, 0.70)
    shorts: tuple[float, float, float] = (0.12, 0.12, 0.14)
    shoe: tuple[float, float, float] = (0.92, 0.92, 0.90)
    hair: tuple[float, float, float] = (0.18, 0.12, 0.08)
    floor: tuple[float, float, float] = (0.55, 0.50, 0.45)
    wall: tuple[float, float, float] = (0.78, 0.78, 0.74)
    trousers: bool = False
    long_top: bool = False
    light: float = 1.0
    ambient: float = 0.35
    backlight: float = 0.0
    sensor_noise: float = 0.0


def vertex_colours(
    labels: list[str],
    dominant_bone: np.ndarray,
    neutral_vertices: np.ndarray,
    hip_z: float,
    look: Look,
) -> np.ndarray:
    """RGBA uint8 per vertex: skin, with shirt, shorts, shoes and hair painted by bone.

    Parameters
    ----------
    labels
        Bone labels of the model.
    dominant_bone
        ``(V,)`` index of each vertex's most weighted bone.
    neutral_vertices
        ``(V, 3)`` neutral-pose vertices (the hair is the top and back of the head).
    hip_z
        Height of the hip joint centres in the neutral pose: the shorts' waistband is
        a little above it.
    look
        Colours.
    """
    rgb = np.tile(np.asarray(look.skin), (len(dominant_bone), 1))
    names = np.asarray(labels)[dominant_bone]
    for garment, prefixes in _GARMENTS:
        mask = np.array([n.startswith(prefixes) for n in names])
        colour = (0.05, 0.05, 0.05) if garment == "eye" else getattr(look, garment)
        rgb[mask] = colour
    shirt = np.array([n.startswith(_GARMENTS[2][1]) for n in names])
    rgb[shirt & (neutral_vertices[:, 2] < hip_z + 0.08)] = look.shorts
    if look.trousers:
        rgb[np.array([n.startswith("lowerleg") for n in names])] = look.shorts
    if look.long_top:
        torso = np.array([n.startswith(("pelvis.", "upperleg01.", "root", "spine")) for n in names])
        rgb[torso & (neutral_vertices[:, 2] > hip_z - 0.12)] = look.shirt
    head = names == "head"
    z = neutral_vertices[:, 2]
    y = neutral_vertices[:, 1]
    top = z.max()
    hair = head & ((z > top - 0.09) | ((y > -0.02) & (z > top - 0.2)))
    rgb[hair] = look.hair
    shade = 1.0 + 0.04 * np.sin(neutral_vertices[:, 0] * 40) * np.sin(neutral_vertices[:, 2] * 35)
    rgb = np.clip(rgb * shade[:, None], 0, 1)
    rgba = np.concatenate([rgb, np.ones((len(rgb), 1))], axis=1)
    return (rgba * 255).astype(np.uint8)


def _tiled_plane(
    corner: np.ndarray,
    du: np.ndarray,
    dv: np.ndarray,
    nu: int,
    nv: int,
    base: tuple[float, float, float],
    rng: np.random.Generator,
) -> Any:
    """A plane of ``nu x nv`` quads with slightly varied face colours (mild texture)."""
    import trimesh

    verts: list[Any] = []
    faces: list[Any] = []
    colours: list[Any] = []
    for i in range(nu):
        for j in range(nv):
            p = corner + i * du + j * dv
            k = len(verts)
            verts += [p, p + du, p + du + dv, p + dv]
            faces += [[k, k + 1, k + 2], [k, k + 2, k + 3]]
            tone = np.clip(
                np.asarray(base) * (0.92 + 0.1 * rng.random()) + (0.03 if (i + j) % 2 else 0.0),
                0,
                1,
            )
            colours += [tone, tone]
    rgba = np.concatenate([np.asarray(colours), np.ones((len(colours), 1))], axis=1)
    return trimesh.Trimesh(
        np.asarray(verts),
        np.asarray(faces),
        face_colors=(rgba * 255).astype(np.uint8),
        process=False,
    )


class SceneRenderer:
    """Renders posed vertices of one body in a fixed room with a fixed camera.

    Parameters
    ----------
    faces
        ``(F, 3)`` triangle indices of the body mesh.
    colours
        ``(V, 4)`` uint8 vertex colours.
    camera
        The upright render camera.
    room_centre
        ``(x, y)``: the room's centre line (x) and where the back wall stands (y), beyond
        the subject as seen from the camera.
    look
        Scene colours.
    seed
        Texture variation.
    """

    def __init__(
        self,
        faces: np.ndarray,
        colours: np.ndarray,
        camera: PinholeCamera,
        room_centre: tuple[float, float],
        look: Look,
        seed: int,
    ) -> None:
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
        import pyrender

        self._pyrender = pyrender
        self.faces = faces
        self.colours = colours
        self.camera = camera
        rng = np.random.default_rng(seed)
        scene = pyrender.Scene(bg_color=[0.6, 0.65, 0.7, 1.0], ambient_light=[look.ambient] * 3)
        cam_pos = np.asarray(camera.position)
        cx, cy = room_centre
        away = np.sign(cy - cam_pos[1]) or 1.0
        floor = _tiled_plane(
            np.array([cx - 4.0, min(cam_pos[1], cy) - 4.0, 0.0]),
            np.array([0.5, 0, 0]),
            np.array([0, 0.5, 0]),
            16,
            int((abs(cy - cam_pos[1]) + 8.0) / 0.5),
            look.floor,
            rng,
        )
        wall_y = cy
        wall = _tiled_plane(
            np.array([cx - 5.0, wall_y, 0.0]),
            np.array([1.0, 0, 0]),
            np.array([0, 0, 0.75]),
            10,
            5,
            look.wall,
            rng,
        )
        if away < 0:
            wall.invert()
        scene.add(pyrender.Mesh.from_trimesh(floor, smooth=False))
        glow = None
        if look.backlight > 0:
            glow = pyrender.MetallicRoughnessMaterial(
                baseColorFactor=[1.0, 1.0, 1.0, 1.0],
                emissiveFactor=[look.backlight] * 3,
                metallicFactor=0.0,
                roughnessFactor=1.0,
            )
        scene.add(pyrender.Mesh.from_trimesh(wall, material=glow, smooth=False))
        cam = pyrender.PerspectiveCamera(
            yfov=np.radians(camera.yfov_deg), aspectRatio=camera.width / camera.height
        )
        scene.add(cam, pose=camera.pose())
        key = pyrender.DirectionalLight(color=np.ones(3), intensity=2.6 * look.light)
        scene.add(
            key,
            pose=PinholeCamera(
                (cam_pos[0] + 1.5, cam_pos[1], cam_pos[2] + 2.5), (cx, cy, 0.8), 50, 2, 2
            ).pose(),
        )
        fill = pyrender.PointLight(color=np.ones(3), intensity=6.0 * look.light)
        scene.add(
            fill,
            pose=PinholeCamera((cam_pos[0] - 1.5, cam_pos[1], 2.2), (cx, cy, 1.0), 50, 2, 2).pose(),
        )
        self.scene = scene
        self.renderer = pyrender.OffscreenRenderer(camera.width, camera.height)
        self._body_node = None

    def render(self, vertices: np.ndarray) -> np.ndarray:
        """RGB uint8 frame ``(height, width, 3)`` of the body posed with ``vertices``."""
        import trimesh

        mesh = trimesh.Trimesh(vertices, self.faces, vertex_colors=self.colours, process=False)
        node = self._pyrender.Mesh.from_trimesh(mesh, smooth=True)
        if self._body_node is not None:
            self.scene.remove_node(self._body_node)
        self._body_node = self.scene.add(node)
        colour, _ = self.renderer.render(self.scene)
        return np.ascontiguousarray(colour[..., :3])

    def close(self) -> None:
        """Release the OpenGL context."""
        self.renderer.delete()
