"""What the render scripts print names the outputs, never their hidden temporary files.

Outputs are written to ``.NAME.xxxxxxxx.EXT`` and renamed when whole; Blender's own lines
("Saved: '...'" after a render, ``Info: Saved copy as "..."`` after a save) used to show
those names. Under the bpy module here; ``blender -b -P`` in tests/real/test_script_output_names.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("bpy")

pytestmark = [pytest.mark.blender, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCURVE = str(REPO / "render_scenes" / "scurve.py")
FACES = str(REPO / "render_scenes" / "face_planes.py")
TINY = ["--resolution", "64", "36", "--samples", "1"]
#: A hidden file name with one of the outputs' extensions, as the temporary files have.
HIDDEN = re.compile(r"(^|[/\s'\"])\.[^/\s'\"]+\.(png|blend|mp4)\b")


def check_names(output: str, outputs: list[Path]) -> None:
    hidden = [line for line in output.splitlines() if HIDDEN.search(line)]
    assert not hidden, hidden
    for path in outputs:
        assert path.exists() and f".{path.name}." not in output


def run(script: str, *argv: str, cwd: Path) -> str:
    r = subprocess.run([sys.executable, script, *argv], cwd=cwd, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout + r.stderr


def test_still_blend_face_planes_and_turntable_name_their_outputs(tmp_path: Path) -> None:
    out = run(SCURVE, "--out", "one.png", "--save-blend", "one.blend", *TINY, cwd=tmp_path)
    check_names(out, [tmp_path / "one.png", tmp_path / "one.blend"])
    assert 'Saved copy as "one.blend"' in out or 'Saved "one.blend"' in out, out[-2000:]
    out = run(FACES, "--blend", "one.blend", "--face-planes", "2", "--save", "o.blend",
              "--render", "o.png", cwd=tmp_path)
    check_names(out, [tmp_path / "o.png", tmp_path / "o.blend"])
    out = run(SCURVE, "--out", "tt", "--turntable", "2", "--video", "--save-blend", "tt.blend",
              *TINY, cwd=tmp_path)
    check_names(out, [tmp_path / "tt" / "frame_0001.png", tmp_path / "tt" / "turntable.mp4",
                      tmp_path / "tt.blend"])
    out = run(SCURVE, "--out", "an", "--animate", "s_amplitude=0:0.9", "--frames", "2", *TINY,
              cwd=tmp_path)
    check_names(out, [tmp_path / "an" / "frame_0002.png"])
