"""The mirror's frame in Blender, and cameras aimed within it.

The frame is the mirror object's location and rotation
(:func:`.mirror_object.object_frame`: scale taken out, so sizes are metres); the wall's
extent in it comes from the *evaluated* mesh, modifiers (the Subdivision Surface, a
Geometry Nodes mirror) included. The placement math itself is pure numpy in
:mod:`scurve_geom.placement.framing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from mathutils import Matrix, Vector

from scurve_geom.placement import framing

from .. import mirror_object


@dataclass(frozen=True)
class MirrorFrame:
    """The mirror's placement: an orthonormal frame and its extent in that frame.

    ``to_world`` maps frame coordinates (metres, seam on the z axis, wall on z = 0,
    front toward −y) to world coordinates; ``box`` holds surface points in the frame.
    """

    to_world: Matrix
    box: framing.Box

    def world(self, p: Sequence[float] | np.ndarray) -> Vector:
        return self.to_world @ Vector([float(v) for v in p])

    def world_dir(self, d: Sequence[float]) -> Vector:
        return (self.to_world.to_3x3() @ Vector(d)).normalized()


def _surface_points(mirror: Any, depsgraph: Any | None) -> np.ndarray:
    """Points on the mirror's evaluated surface in object space, metres, (n, 3).

    The evaluated mesh includes the modifiers. A coarse mesh (the seed's one strip per
    half) has too few vertices to say where the wall is between them, so points along
    its edges are added: the rows are straight there.
    """
    obj, mesh = mirror, mirror.data
    if depsgraph is not None:
        obj = mirror.evaluated_get(depsgraph)
        mesh = obj.to_mesh()
    try:
        n, ne = len(mesh.vertices), len(mesh.edges)
        flat = np.empty(n * 3, dtype=np.float64)
        mesh.vertices.foreach_get("co", flat)
        co = flat.reshape(n, 3)
        if 0 < ne and n < 20_000:
            flat_edges = np.empty(ne * 2, dtype=np.int64)
            mesh.edges.foreach_get("vertices", flat_edges)
            ev = flat_edges.reshape(ne, 2)
            t = np.linspace(0.0, 1.0, 17)[1:-1, None, None]
            along = co[ev[:, 0]] * (1 - t) + co[ev[:, 1]] * t
            co = np.vstack([co, along.reshape(-1, 3)])
    finally:
        if depsgraph is not None:
            obj.to_mesh_clear()
    return co


def mirror_frame(mirror: Any, depsgraph: Any | None = None) -> MirrorFrame:
    """The frame of ``mirror`` (a mesh object); ``depsgraph`` to measure it evaluated.

    Raises
    ------
    ValueError
        For a mirror with fewer than 3 points, non-finite or degenerate geometry.
    """
    co = _surface_points(mirror, depsgraph)
    if len(co) < 3:
        raise ValueError(f"mirror {mirror.name!r} has {len(co)} vertices: nothing to stage "
                         "around")
    if not np.isfinite(co).all():
        raise ValueError(f"mirror {mirror.name!r} has non-finite vertex coordinates")
    mw = np.array(mirror.matrix_world, dtype=np.float64)
    world = co @ mw[:3, :3].T + mw[:3, 3]
    to_world = mirror_object.object_frame(mirror).to_world
    inv = np.array(to_world.inverted(), dtype=np.float64)
    local = world @ inv[:3, :3].T + inv[:3, 3]
    ext = local.max(axis=0) - local.min(axis=0)
    if ext[0] <= 1e-6 or ext[2] <= 1e-6:
        raise ValueError(f"mirror {mirror.name!r} is degenerate (extent {ext.round(6).tolist()} m)")
    return MirrorFrame(to_world, framing.Box(local))


def depsgraph_of(scene: Any) -> Any | None:
    """The depsgraph of the scene's first view layer (headless callers may have no
    context view layer), or ``None``."""
    layer = scene.view_layers[0] if scene.view_layers else None
    return layer.depsgraph if layer is not None else None


def aim(obj: Any, location: Vector, direction: Vector) -> None:
    """Place ``obj`` at ``location`` with its −Z axis (cameras, lights) along ``direction``."""
    obj.location = location
    obj.rotation_mode = "QUATERNION"
    obj.rotation_quaternion = direction.to_track_quat("-Z", "Y")


def place_camera(scene: Any, camera: Any, frame: MirrorFrame, view: str) -> None:
    """Aim ``camera`` from the named ``view`` and fit the mirror (and props) in its frame,
    at the scene's current resolution."""
    cam = camera.data
    cam.lens = 40.0
    cam.sensor_fit = "AUTO"
    res = (scene.render.resolution_x, scene.render.resolution_y)
    cam_pos, target, dist = framing.camera_position(frame.box, view, cam.sensor_width,
                                                    cam.lens, res)
    loc = frame.world(cam_pos)
    aim(camera, loc, frame.world(target) - loc)
    cam.clip_start = 0.05
    cam.clip_end = max(1000.0, 20 * dist)

