"""``blender -b -P render_scenes/...``: what the scripts and Blender print names the
outputs, never their hidden temporary files (``.NAME.xxxxxxxx.EXT``). The bpy-module lane
is tests/blender/test_script_output_names.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from blender_run import REPO, run_blender

pytestmark = pytest.mark.slow

SCURVE = str(REPO / "render_scenes" / "scurve.py")
FACES = str(REPO / "render_scenes" / "face_planes.py")
TINY = ["--resolution", "64", "36", "--samples", "1"]
HIDDEN = re.compile(r"(^|[/\s'\"])\.[^/\s'\"]+\.(png|blend|mp4)\b")


def run(blender: str, script: str, *argv: str) -> str:
    # From the checkout (the provisioned root's wrapper binds the caller's git top level).
    r = run_blender(blender, "-b", "--factory-startup", "-P", script, "--", *argv)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = r.stdout + r.stderr
    hidden = [line for line in out.splitlines() if HIDDEN.search(line)]
    assert not hidden, hidden
    return out


def test_outputs_are_named_not_their_temporary_files(blender: str, work_dir: Path) -> None:
    d = work_dir / "names"
    d.mkdir()
    out = run(blender, SCURVE, "--out", str(d / "one.png"), "--save-blend", str(d / "one.blend"),
              *TINY)
    assert 'Saved "one.blend"' in out or 'Saved copy as "one.blend"' in out, out[-2000:]
    run(blender, FACES, "--blend", str(d / "one.blend"), "--face-planes", "2", "--save",
        str(d / "o.blend"), "--render", str(d / "o.png"))
    run(blender, SCURVE, "--out", str(d / "an"), "--animate", "s_amplitude=0:0.9", "--frames",
        "2", *TINY)
    assert sorted(p.name for p in d.iterdir()) == ["an", "o.blend", "o.png", "one.blend",
                                                   "one.png"]
