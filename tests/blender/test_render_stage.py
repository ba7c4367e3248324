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

from screen import H, W, dilate, hull_mask, render, screen_points, vertex_mask  # noqa: E402

from blender_addon import stage  # noqa: E402

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SAMPLES = 8
#: A pixel counts as "strongly" red (green, blue) when that channel exceeds both
#: others by this much (display values 0..1). The desaturated sky peaks near 0.08.
DOMINANCE = 0.15


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
