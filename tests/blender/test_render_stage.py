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


def screen_mask(scene: Any, camera: Any, obj: Any) -> np.ndarray:
    """Pixels (H, W) hit by the projection of ``obj``'s evaluated vertices."""
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
    mask = np.zeros((H, W), dtype=bool)
    for p in world:
        q = world_to_camera_view(scene, camera, Vector(p))
        x, y = int(q.x * W), int((1.0 - q.y) * H)
        if q.z > 0 and 0 <= x < W and 0 <= y < H:
            mask[y, x] = True
    return mask


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


@pytest.mark.parametrize("view", ["front", "concave"])
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
    mirror_px = screen_mask(scene, cam, mirror)
    props_px = np.zeros_like(mirror_px)
    for role in stage.PROP_ROLES:
        props_px |= screen_mask(scene, cam, objs[role])
    region = mirror_px & ~dilate(props_px)
    assert region.sum() > 0.2 * W * H  # the wall fills a good part of the frame

    counts = {}
    for channel, name in enumerate(("red", "green", "blue")):
        seen = int((dominant(with_props, channel) & region).sum())
        baseline = int((dominant(without, channel) & region).sum())
        counts[name] = (seen, baseline)
    print(view, counts)
    for name, (seen, baseline) in counts.items():
        assert seen >= 3, (name, counts)
        assert baseline <= 1, (name, counts)
