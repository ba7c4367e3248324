"""Planes seen only in reflections, aimed at the camera: a small Cycles render.

With ``visibility="reflected"`` the camera does not see the planes where they stand
(pixels over them match a render without them, where ordinary planes would show their
dark backs), yet the mirror shows them: its pixels change against the planes hidden,
well beyond what noise changes, and carry the faces' warm skin tones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from screen import H, W, hull_mask, render, screen_points, vertex_mask  # noqa: E402
from test_face_planes_render import CHANGE, warm  # noqa: E402

from blender_addon import face_planes, stage  # noqa: E402

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SAMPLES = 8


def test_reflected_planes_are_invisible_to_the_camera_but_in_the_mirror(
        addon: Any, tmp_path: Path) -> None:
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = W, H
    scene.render.resolution_percentage = 100
    assert bpy.ops.mesh.scurve_mirror_add(preset="smooth") == {"FINISHED"}
    mirror = bpy.context.active_object
    stage.setup_stage(bpy.context, mirror, view="front", samples=SAMPLES, props=False)
    faces = list(face_planes.decode_faces(3, seed=3))
    planes = face_planes.add_face_planes(bpy.context, mirror, faces, layout="camera",
                                         visibility="reflected")
    for p in planes:
        assert not p.visible_camera and not p.visible_shadow and p.visible_glossy
    scene.cycles.seed = 1
    reflected = render(scene, tmp_path / "reflected.png")
    for p in planes:
        p.hide_render = True
    hidden = render(scene, tmp_path / "hidden.png")
    scene.cycles.seed = 2
    hidden_again = render(scene, tmp_path / "hidden2.png")
    scene.cycles.seed = 1
    # Without the mirror nothing reflects: what remains of the planes is what the
    # camera sees of them directly.
    mirror.hide_render = True
    bare = render(scene, tmp_path / "bare.png")
    for p in planes:
        p.hide_render = False
    bare_reflected = render(scene, tmp_path / "bare_reflected.png")
    for p in planes:
        face_planes.set_visibility(p, "visible")
    bare_visible = render(scene, tmp_path / "bare_visible.png")

    def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(a - b).max(axis=2) > CHANGE

    cam = scene.camera
    over_planes = np.zeros((H, W), dtype=bool)
    for p in planes:
        over_planes |= hull_mask(screen_points(scene, cam, p))
    mirror_region = vertex_mask(screen_points(scene, cam, mirror))
    noise = changed(hidden_again, hidden)
    # Where the planes stand in the picture ordinary planes show their dark backs;
    # reflected-only ones leave the picture as it is without them.
    n = int(over_planes.sum())
    by_visible = int((changed(bare_visible, bare) & over_planes).sum())
    by_reflected = int((changed(bare_reflected, bare) & over_planes).sum())
    print(f"over the planes: {n} px, changed by visible planes {by_visible}, by "
          f"reflected ones {by_reflected}, by noise {int((noise & over_planes).sum())}")
    assert n >= 20
    assert by_visible >= 0.6 * n
    assert by_reflected <= 0.02 * n + 2
    # In the mirror: the faces, by reflection.
    in_mirror = changed(reflected, hidden) & mirror_region
    faces_seen = int((in_mirror & warm(reflected)).sum())
    print(f"mirror pixels changed by the planes {int(in_mirror.sum())}, by noise "
          f"{int((noise & mirror_region).sum())}, warm among them {faces_seen}")
    assert in_mirror.sum() >= 3 * (noise & mirror_region).sum() + 10
    assert faces_seen >= 10
