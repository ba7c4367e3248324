"""render_scenes/face_planes.py and the shared face flags: parsing and error paths, no Blender."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from render_scenes import face_planes

SCRIPT = Path(face_planes.__file__)
REPO = SCRIPT.parents[1]


def test_defaults_and_flags(tmp_path: Path) -> None:
    blend = tmp_path / "in.blend"
    blend.write_bytes(b"BLENDER")
    a = face_planes.parse_args(["--blend", str(blend), "--save", str(tmp_path / "o.blend")])
    assert (a.face_planes, a.face_mode, a.face_layout, a.face_seed) == (6, "normal", "camera", 0)
    assert a.face_visibility == "reflected"
    assert a.faces is None and a.decoder is None
    a = face_planes.parse_args(["--save", str(tmp_path / "o.blend"), "--face-planes", "3",
                                "--face-mode", "uniform", "--face-boundary", "10",
                                "--faces", str(tmp_path), "--face-layout", "ring",
                                "--face-visibility", "visible"])
    assert (a.face_layout, a.face_visibility) == ("ring", "visible")
    assert (a.face_planes, a.face_mode, a.face_boundary, a.faces) == (3, "uniform", 10.0,
                                                                       tmp_path)


@pytest.mark.parametrize("args", [
    ["--save", "o.blend", "--face-planes", "65"],
    ["--save", "o.blend", "--face-planes", "-1"],
    ["--save", "o.blend", "--face-planes", "0"],
    ["--save", "o.blend", "--faces", "no/such/dir"],
    ["--save", "o.blend", "--decoder", "missing.npz"],
    ["--save", "o.blend", "--faces", ".", "--decoder", "x.npz"],
    ["--save", "o.blend", "--face-mode", "sideways"],
    ["--save", "o.blend", "--face-boundary", "0"],
    ["--save", "o.blend", "--face-visibility", "hidden"],
    ["--save", "o.blend", "--face-layout", "spiral"],
    ["--save", "o.blend", "--face-mode", "interpolate", "--face-planes", "1"],
    ["--save", "o.png"],
    ["--render", "o.jpg"],
    ["--save", "/dev/null/o.blend"],
    ["--blend", "absent.blend", "--save", "o.blend"],
    [],
])
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("face_planes.py: error: "), out.stderr
    assert "needs Blender" not in lines[0]
    assert list(tmp_path.iterdir()) == []
