"""scurve.py --animate end to end: frames of a parameter sweep, and a .blend that plays it.

A tiny render (48×27, 1 sample) in a child process, then the saved .blend opened here
without the add-on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from render_scenes import animate, scurve  # noqa: E402
from scurve_geom import MirrorParams, build_mesh  # noqa: E402

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def read_png(path: Path) -> np.ndarray:
    img = bpy.data.images.load(str(path))
    try:
        px = np.empty(img.size[0] * img.size[1] * img.channels, dtype=np.float32)
        img.pixels.foreach_get(px)
        return px.reshape(img.size[1], img.size[0], img.channels)[..., :3]
    finally:
        bpy.data.images.remove(img)


def evaluated_vertices(obj) -> np.ndarray:
    depsgraph = bpy.context.evaluated_depsgraph_get()
    ob = obj.evaluated_get(depsgraph)
    mesh = ob.to_mesh()
    try:
        co = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
        mesh.vertices.foreach_get("co", co)
        return co.reshape(-1, 3)
    finally:
        ob.to_mesh_clear()


def test_animate_renders_the_sweep_and_saves_a_playable_blend(tmp_path: Path) -> None:
    frames, blend = tmp_path / "frames", tmp_path / "sweep.blend"
    proc = subprocess.run(
        [sys.executable, str(Path(scurve.__file__).resolve()), "--out", str(frames),
         "--preset", "kapoor", "--animate", "s_amplitude=0:0.9", "--frames", "3",
         "--resolution", "48", "27", "--samples", "1", "--save-blend", str(blend)],
        capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "frame 3/3" in proc.stderr  # progress, one line per frame
    paths = [animate.frame_path(frames, k) for k in (1, 2, 3)]
    assert all(p.is_file() for p in paths)
    first, last = read_png(paths[0]), read_png(paths[2])
    assert np.abs(first - last).mean() > 0.01  # the wall bends between them

    # The saved file plays the sweep with plain Blender: no add-on registered here.
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    try:
        scene = bpy.context.scene
        assert (scene.frame_start, scene.frame_end) == (1, 3)
        obj = bpy.data.objects["S-Curve Mirror"]
        for k, bend in ((1, 0.0), (2, 0.45), (3, 0.9)):
            scene.frame_set(k)
            want = build_mesh(MirrorParams(**{**scurve.PRESETS["kapoor"], "s_amplitude": bend}))
            got = evaluated_vertices(obj)
            # The stage's render levels are 0 for the fine kapoor grid: the grid itself.
            np.testing.assert_allclose(got, want.vertices, rtol=0, atol=1e-5)
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)
