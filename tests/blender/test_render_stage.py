"""A 96×54 Cycles render of the staged scene: the mirror shows the props reflected.

The mirror's screen region comes from projecting its evaluated vertices through the
camera; the props' own screen regions (dilated by a pixel) are cut out of it, so what
stays red, green or blue there can only be reflected light. A second render with the
props hidden shows the colour goes with them (not the sky, ground or lights).

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_render_stage.py -q
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from bpy_extras.object_utils import world_to_camera_view  # noqa: E402
from mathutils import Vector  # noqa: E402

from blender_addon import stage  # noqa: E402

pytestmark = [pytest.mark.blender, pytest.mark.slow]

W, H = 96, 54
SAMPLES = 8
#: A pixel counts as "strongly" red (green, blue) when that channel exceeds both
#: others by this much (display values 0..1). The desaturated sky peaks near 0.08.
DOMINANCE = 0.15


def screen_points(scene: Any, camera: Any, obj: Any) -> np.ndarray:
    """Pixel coordinates (x right, y down) of ``obj``'s evaluated vertices, (n, 2)."""
    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    me = ev.to_mesh()
    try:
        co = np.empty(len(me.vertices) * 3)
        me.vertices.foreach_get("co", co)
    finally:
        ev.to_mesh_clear()
    mw = np.array(obj.matrix_world)
    world = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
    out = []
    for p in world:
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


def dominant(rgb: np.ndarray, channel: int) -> np.ndarray:
    others = np.delete(rgb, channel, axis=2).max(axis=2)
    return rgb[..., channel] - others > DOMINANCE


# The concave view: there the props' reflections are large enough at 96×54 (from the
# front, the green cone's reflection is only a pixel or two wide).
@pytest.mark.parametrize("view", ["concave"])
def test_mirror_reflects_the_coloured_props(addon: Any, tmp_path: Path, view: str) -> None:
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = W, H
    scene.render.resolution_percentage = 100
    assert bpy.ops.mesh.scurve_mirror_add(preset="smooth") == {"FINISHED"}
    mirror = bpy.context.active_object
    objs = stage.setup_stage(bpy.context, mirror, view=view, samples=SAMPLES)
    scene.cycles.seed = 1
    with_props = render(scene, tmp_path / "with.png")
    stage.setup_stage(bpy.context, mirror, view=view, samples=SAMPLES, props=False)
    without = render(scene, tmp_path / "without.png")

    # Not a blank or flat image: sky, ground and metal differ.
    assert with_props.std() > 0.05
    cam = scene.camera
    mirror_px = vertex_mask(screen_points(scene, cam, mirror))
    props_px = np.zeros_like(mirror_px)
    for role in stage.PROP_ROLES:
        props_px |= hull_mask(screen_points(scene, cam, objs[role]))
    region = mirror_px & ~dilate(props_px)
    assert region.sum() > 0.2 * W * H  # the wall fills a good part of the frame

    counts = {}
    for channel, name in enumerate(("red", "green", "blue")):
        seen = dominant(with_props, channel) & region
        baseline = dominant(without, channel) & region
        # Pixels that are strongly this colour only while the props are there.
        caused = seen & ~baseline
        counts[name] = (int(seen.sum()), int(baseline.sum()), int(caused.sum()))
    print(view, "(with props, without, only with):", counts)
    for name, (seen, baseline, caused) in counts.items():
        assert caused >= 3, (name, counts)
        # The sky can tint a pixel or two blue on its own (5.0's multiple-scattering sky
        # is more saturated); the props must dominate what is seen.
        assert baseline <= max(2, seen // 4), (name, counts)
