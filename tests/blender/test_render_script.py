"""render_scenes/scurve.py end to end: a tiny render through each entry point.

``python render_scenes/scurve.py`` runs with this environment's interpreter (the bpy
module); ``blender -b -P`` is tested with a real Blender executable in tests/real.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender_addon import stage  # noqa: E402
from render_scenes import scurve  # noqa: E402

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SCRIPT = Path(scurve.__file__).resolve()
TINY = ["--resolution", "64", "36", "--samples", "4"]


def read_png(path: Path) -> np.ndarray:
    """RGB in 0..1, (H, W, 3), through Blender's own image loader."""
    img = bpy.data.images.load(str(path))
    try:
        w, h = img.size
        px = np.empty(w * h * img.channels, dtype=np.float32)
        img.pixels.foreach_get(px)
        return px.reshape(h, w, img.channels)[..., :3]
    finally:
        bpy.data.images.remove(img)


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


def check_png(path: Path) -> np.ndarray:
    assert path.is_file()
    rgb = read_png(path)
    assert rgb.shape == (36, 64, 3)
    # Not blank: sky, ground, metal and props make a varied picture.
    assert rgb.std() > 0.05 and len(np.unique(rgb.reshape(-1, 3), axis=0)) > 100
    return rgb


def test_views_match_the_stage() -> None:
    camera = next(a for a in scurve.make_parser()._actions if "--camera" in a.option_strings)
    assert tuple(camera.choices) == stage.VIEWS


def test_python_entry_point(tmp_path: Path) -> None:
    out = tmp_path / "tiny.png"
    r = run([sys.executable, str(SCRIPT), "--out", str(out), *TINY, "--camera", "concave"],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    check_png(out)
    assert "frame 1/1" in r.stderr and "left" in r.stderr
    # Only the PNG: no temporary file left next to it.
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.png"]


def test_turntable_frames_video_and_blend(tmp_path: Path) -> None:
    out = tmp_path / "orbit"
    blend = tmp_path / "scene.blend"
    r = run([sys.executable, str(SCRIPT), "--out", str(out), "--resolution", "64", "36",
             "--samples", "2", "--turntable", "3", "--video", "--save-blend", str(blend)],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame_0001.png", "frame_0002.png", "frame_0003.png", "turntable.mp4"]
    first, second = (check_png(out / n) for n in names[:2])
    assert np.abs(first - second).mean() > 0.01  # the camera moved
    assert [ln for ln in r.stderr.splitlines() if "frame 3/3" in ln]
    head = (out / "turntable.mp4").read_bytes()[:12]
    assert head[4:8] == b"ftyp"  # an MP4 container
    # The saved scene opens and holds the mirror and the whole stage.
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    try:
        assert "S-Curve Mirror" in bpy.data.objects
        assert set(stage.stage_objects(bpy.context.scene)) >= {"sun", "ground", *stage.PROP_ROLES}
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)


def test_eevee(tmp_path: Path) -> None:
    # EEVEE's id differs between versions (BLENDER_EEVEE_NEXT in 4.2-4.5); --engine eevee
    # must find it. Software OpenGL makes this slow (shader compilation), hence tiny.
    out = tmp_path / "eevee.png"
    r = run([sys.executable, str(SCRIPT), "--out", str(out), "--resolution", "64", "36",
             "--samples", "2", "--engine", "eevee"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    check_png(out)


def test_gpu_without_gpu_is_a_clear_error(tmp_path: Path) -> None:
    r = run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "x.png"), *TINY,
             "--device", "gpu"], cwd=tmp_path)
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert errors == ["scurve.py: error: device=gpu but no GPU is configured in "
                      "Preferences > System"]
    assert list(tmp_path.iterdir()) == []


def test_face_planes_in_the_render_and_the_saved_file(tmp_path: Path) -> None:
    out, blend = tmp_path / "faces.png", tmp_path / "faces.blend"
    r = run([sys.executable, str(SCRIPT), "--out", str(out), *TINY, "--face-planes", "3",
             "--face-mode", "uniform", "--face-boundary", "8", "--save-blend", str(blend)],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "3 face planes" in r.stderr
    check_png(out)
    from blender_addon import face_planes

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    try:
        assert len(face_planes.face_plane_objects(bpy.context.scene)) == 3
        assert all(i.packed_file is not None for i in bpy.data.images
                   if i.get(face_planes.ROLE_KEY) == "image")
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)


def test_bad_decoder_is_one_line_and_nothing_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, weights=np.zeros(3))
    out = tmp_path / "x.png"
    r = run([sys.executable, str(SCRIPT), "--out", str(out), *TINY, "--face-planes", "2",
             "--decoder", str(bad)], cwd=tmp_path)
    assert r.returncode == 2
    assert "bad.npz" in r.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npz"]
