"""render_scenes/face_planes.py on a real .blend: planes added, images packed, file saved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

bpy = pytest.importorskip("bpy")

from blender_addon import face_planes  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "render_scenes" / "face_planes.py"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_bridge_adds_packed_face_planes_to_a_saved_file(addon: Any, tmp_path: Path) -> None:
    assert bpy.ops.mesh.scurve_mirror_add(preset="blog-part2") == {"FINISHED"}
    src = tmp_path / "mirror.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(src))
    # The default layout aims at the scene camera; this file has none.
    out = run("--blend", str(src), "--face-planes", "4", "--save",
              str(tmp_path / "faces.blend"), cwd=tmp_path)
    assert out.returncode == 2
    assert "needs a scene camera" in out.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "faces.blend").exists()
    out = run("--blend", str(src), "--face-planes", "4", "--face-mode", "uniform",
              "--face-boundary", "5", "--face-layout", "arc", "--save",
              str(tmp_path / "faces.blend"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "placed 4 face planes" in out.stderr

    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "faces.blend"))
    planes = face_planes.face_plane_objects(bpy.context.scene)
    assert len(planes) == 4
    images = [i for i in bpy.data.images if i.get(face_planes.ROLE_KEY) == "image"]
    assert len(images) == 4 and all(i.packed_file is not None for i in images)


def test_bridge_reports_a_file_without_a_mirror(factory_scene: Any, tmp_path: Path) -> None:
    src = tmp_path / "empty.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(src))
    out = run("--blend", str(src), "--save", str(tmp_path / "o.blend"), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].endswith("holds no S-curve mirror")
    assert not (tmp_path / "o.blend").exists()


def test_bridge_names_a_corrupt_picture(addon: Any, tmp_path: Path) -> None:
    assert bpy.ops.mesh.scurve_mirror_add(preset="blog-part2") == {"FINISHED"}
    src = tmp_path / "mirror.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(src))
    faces = tmp_path / "faces"
    faces.mkdir()
    (faces / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = run("--blend", str(src), "--faces", str(faces), "--face-planes", "2",
              "--save", str(tmp_path / "o.blend"), cwd=tmp_path)
    assert out.returncode == 2
    assert "bad.png" in out.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "o.blend").exists()
