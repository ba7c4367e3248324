"""A small Cycles render: the mirror shows the face planes, by reflection.

Inside the mirror's screen region, with the planes' own screen quads cut out, pixels
change when the planes are shown versus hidden, and the changed pixels carry the faces'
warm skin tones. Two renders of the hidden scene with different noise seeds measure how
much changes by noise alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from screen import H, W, dilate, hull_mask, render, screen_points, vertex_mask  # noqa: E402

from blender_addon import face_planes, stage  # noqa: E402

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SAMPLES = 8
#: A reflected pixel changes by more than this (display values) when the planes go.
CHANGE = 0.12


def warm(rgb: np.ndarray) -> np.ndarray:
    """Skin-like pixels: red over green over blue, clearly tinted."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > g) & (g > b) & (r - b > 0.1)


def test_mirror_shows_the_faces_by_reflection(addon: Any, tmp_path: Path) -> None:
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = W, H
    scene.render.resolution_percentage = 100
    assert bpy.ops.mesh.scurve_mirror_add(preset="smooth") == {"FINISHED"}
    mirror = bpy.context.active_object
    stage.setup_stage(bpy.context, mirror, view="front", samples=SAMPLES, props=False)
    faces = face_planes.decode_faces(6, seed=3)
    planes = face_planes.add_face_planes(bpy.context, mirror, list(faces))
    scene.cycles.seed = 1
    shown = render(scene, tmp_path / "shown.png")
    for p in planes:
        p.hide_render = True
    hidden = render(scene, tmp_path / "hidden.png")
    scene.cycles.seed = 2
    hidden_again = render(scene, tmp_path / "hidden2.png")

    cam = scene.camera
    region = vertex_mask(screen_points(scene, cam, mirror))
    for p in planes:
        region &= ~dilate(hull_mask(screen_points(scene, cam, p)))
    assert region.sum() > 0.2 * W * H

    def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (np.abs(a - b).max(axis=2) > CHANGE) & region

    by_planes = changed(shown, hidden)
    by_noise = changed(hidden_again, hidden)
    faces_seen = int((by_planes & warm(shown)).sum())
    print(f"changed by the planes {int(by_planes.sum())}, by noise {int(by_noise.sum())}, "
          f"warm among them {faces_seen}")
    assert by_planes.sum() >= 3 * by_noise.sum() + 10
    assert faces_seen >= 10
