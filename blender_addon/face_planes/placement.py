"""Where the face planes go: the mirror's shape and frame, and the camera, as numbers.

Placement itself is pure numpy in :mod:`scurve_geom.placement.layout` (fixed arrangements, or
aimed at the scene camera so it sees every face in the mirror); this module reads what
it needs from the scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mathutils import Vector

from scurve_geom import MirrorParams
from scurve_geom.placement.layout import PlacedPlanes, aimed_layout, face_plane_layout
from scurve_geom.placement.rays import PinholeCamera

from .. import mirror_object, stage
from ..common import is_editable_mirror

__all__ = ["frame_camera_of", "placement"]


def _mirror_params(mirror: Any) -> MirrorParams:
    if is_editable_mirror(mirror):
        # Its shape now: a procedural mirror's inputs as changed, keyframed or driven.
        return mirror_object.object_params(mirror)
    # A mirror mesh made elsewhere: place around a wall of its bounding size, in its own
    # coordinates like the parameters (``dimensions`` would include its scale).
    box = np.array([tuple(c) for c in mirror.bound_box])
    size = box.max(axis=0) - box.min(axis=0)
    return MirrorParams(radius=max(float(size[2]) / 2, 0.01),
                        half_length=max(float(size[0]) / 2, 0.01))


def frame_camera_of(camera: Any, mirror: Any, scene: Any) -> PinholeCamera:
    """``camera`` as a :class:`PinholeCamera` in ``mirror``'s own coordinates, where its
    parameters apply (its frame, :func:`.mirror_object.object_frame`, divided by its
    scale).

    The field of view comes from the camera's frame at the scene's resolution, so it
    matches a render (sensor fit included; lens shift is ignored).

    Raises
    ------
    ValueError
        For a mirror scaled unevenly: reflections off it are not those of its
        parameters' surface.
    """
    placed = mirror_object.object_frame(mirror)
    scale = placed.uniform_scale(mirror.name)
    loc, rot, _scale = (placed.to_world.inverted() @ camera.matrix_world).decompose()
    loc /= scale
    corners = np.array([tuple(v) for v in camera.data.view_frame(scene=scene)])
    depth = float(np.abs(corners[:, 2]).max())
    tan_half = (float(np.abs(corners[:, 0]).max()) / depth,
                float(np.abs(corners[:, 1]).max()) / depth)
    return PinholeCamera(np.array(loc), np.array(rot.to_matrix()), tan_half)


def _obstacles(scene: Any, mirror: Any) -> np.ndarray:
    """Bounding spheres ``(x, y, z, r)`` of the stage's rendered props in the mirror's own
    coordinates."""
    to_local = mirror.matrix_world.inverted()
    out = []
    for role, obj in stage.stage_objects(scene).items():
        if role not in stage.PROP_ROLES or obj.hide_render:
            continue
        corners = np.array([tuple(to_local @ obj.matrix_world @ Vector(c))
                            for c in obj.bound_box])
        centre = corners.mean(axis=0)
        out.append([*centre, float(np.linalg.norm(corners - centre, axis=1).max())])
    return np.array(out).reshape(-1, 4)


def placement(context: Any, mirror: Any, count: int, layout: str = "arc", *,
              camera: Any = None, distance: float | None = None,
              size: float | None = None) -> PlacedPlanes:
    """Where :func:`.datablocks.add_face_planes` puts ``count`` pictures, in ``mirror``'s
    own coordinates (its object space, where its parameters apply).

    Arguments as there. Raises ValueError for a camera layout without a camera or around
    an unevenly scaled mirror.
    """
    params = _mirror_params(mirror)
    if layout != "camera":
        return face_plane_layout(params, count, layout, distance=distance, size=size).placed()
    scene = context.scene
    camera = camera if camera is not None else scene.camera
    if camera is None or getattr(camera, "type", None) != "CAMERA":
        raise ValueError("layout 'camera' needs a scene camera: set one (or Set Up Mirror "
                         "Stage), or choose another layout")
    view = frame_camera_of(camera, mirror, scene)
    # A picture's size there follows from how large the camera should see it.
    return aimed_layout(params, view, count, distance=distance,
                        obstacles=_obstacles(scene, mirror))
