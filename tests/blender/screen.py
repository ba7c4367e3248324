"""Where objects land in a small render, and the render's pixels: for render tests.

Everything is in pixels of a W×H image, x right and y down, top row first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy
import numpy as np
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector

W, H = 96, 54


def world_vertices(obj: Any) -> np.ndarray:
    """Evaluated (modifiers applied) vertex positions of ``obj`` in world space, (n, 3) m."""
    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    me = ev.to_mesh()
    try:
        co = np.empty(len(me.vertices) * 3)
        me.vertices.foreach_get("co", co)
    finally:
        ev.to_mesh_clear()
    mw = np.array(obj.matrix_world)
    return co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]


def screen_points(scene: Any, camera: Any, obj: Any) -> np.ndarray:
    """Pixel coordinates (x right, y down) of ``obj``'s evaluated vertices, (n, 2)."""
    out = []
    for p in world_vertices(obj):
        q = world_to_camera_view(scene, camera, Vector(p))
        if q.z > 0:
            out.append((q.x * W, (1.0 - q.y) * H))
    return np.array(out)


def vertex_mask(points: np.ndarray) -> np.ndarray:
    """Pixels (H, W) containing a projected vertex: the region of a dense mesh."""
    mask = np.zeros((H, W), dtype=bool)
    ij = np.floor(points).astype(int)
    ok = (ij[:, 0] >= 0) & (ij[:, 0] < W) & (ij[:, 1] >= 0) & (ij[:, 1] < H)
    mask[ij[ok, 1], ij[ok, 0]] = True
    return mask


def hull_mask(points: np.ndarray) -> np.ndarray:
    """Pixels (H, W) whose centre lies in the convex hull of ``points``.

    The props are convex, so their screen region is the hull of their projected
    vertices; a cylinder's long sides have no vertices inside them to mark.
    """
    pts = sorted(map(tuple, points))

    def half(seq: list) -> list:
        chain: list = []
        for p in seq:
            while len(chain) >= 2 and np.cross(np.subtract(chain[-1], chain[-2]),
                                               np.subtract(p, chain[-2])) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    hull = np.array(half(pts)[:-1] + half(pts[::-1])[:-1])  # counter-clockwise
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    inside = np.ones((H, W), dtype=bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0), strict=True):
        inside &= (b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0]) >= 0
    return inside


def dilate(mask: np.ndarray, k: int = 1) -> np.ndarray:
    out = mask.copy()
    padded = np.pad(mask, k)
    for dy in range(2 * k + 1):
        for dx in range(2 * k + 1):
            out |= padded[dy:dy + H, dx:dx + W]
    return out


def render(scene: Any, path: Path) -> np.ndarray:
    """Render to ``path`` (PNG) and return display RGB in 0..1, top row first, (H, W, 3)."""
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    try:
        px = np.empty(W * H * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    return px.reshape(H, W, 4)[::-1, :, :3]
