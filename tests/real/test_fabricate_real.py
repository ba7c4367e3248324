"""Panelize and Export Cutting Patterns in a real ``blender``, from the installed extension.

The extension does not bundle libigl (see README, "Panels and cutting patterns"): in a
Blender whose Python lacks it, the operators must say how to install it and change
nothing; with the wheels for that Blender's Python on its path, they must work. The
second half is the measurement behind the README's claim for Debian's Blender 4.3.2
(Python 3.13, numpy 2.2): libigl's own wheels, fetched from PyPI by pip for that Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from blender_run import REPO, run_blender, tracebacks
from test_gui import extension_zip

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json, sys
extra, out, folder = sys.argv[sys.argv.index("--") + 1:]
if extra != "-":
    sys.path.insert(0, extra)
import bpy
result = {"python": list(sys.version_info[:2])}
bpy.ops.wm.read_homefile(use_empty=True)
bpy.ops.mesh.scurve_mirror_add(preset="kapoor")
before = len(bpy.data.objects)
for name, call in (("panelize", lambda: bpy.ops.object.scurve_panelize()),
                   ("export", lambda: bpy.ops.object.scurve_export_patterns(directory=folder))):
    try:
        result[name] = sorted(call())
    except RuntimeError as exc:
        result[name] = str(exc)
result["objects_added"] = len(bpy.data.objects) - before
with open(out, "w") as f:
    json.dump(result, f)
"""


@pytest.fixture(scope="module")
def installed(blender: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    user = tmp_path_factory.mktemp("fab-user")
    env = {**os.environ,
           "BLENDER_USER_CONFIG": str(user / "config"),
           "BLENDER_USER_SCRIPTS": str(user / "scripts"),
           "BLENDER_USER_EXTENSIONS": str(user / "extensions"),
           "BLENDER_USER_DATAFILES": str(user / "datafiles")}
    r = run_blender(blender, "--command", "extension", "install-file", "-r", "user_default",
                    "-e", str(extension_zip()), env=env, timeout=300)
    assert r.returncode == 0 and "Installed" in r.stdout, r.stdout + r.stderr
    return env


def install_wheels(blender: str, env: dict[str, str], target: Path) -> Path:
    """pip-install the fabrication wheels for this Blender's Python into ``target``: what
    a user of a Blender without them does (numpy and pillow come with Blender)."""
    probe = run_blender(blender, "-b", "--python-expr",
                        "import sys; print('PYVER', '%d.%d' % sys.version_info[:2])",
                        env=env, timeout=120)
    version = next(ln.split()[1] for ln in probe.stdout.splitlines() if ln.startswith("PYVER"))
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), "--python-version", version, "--only-binary=:all:",
         "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
         "--platform", "manylinux_2_17_x86_64",
         "libigl", "scipy", "ezdxf", "matplotlib", "contourpy", "kiwisolver", "fonttools",
         "pyparsing", "cycler", "python-dateutil", "six", "packaging", "typing_extensions"],
        capture_output=True, text=True, timeout=900, cwd=REPO)
    assert pip.returncode == 0, pip.stderr[-2000:]
    return target


def _run(blender: str, env: dict[str, str], folder: Path, extra: str) -> dict:
    script = folder / "fab.py"
    script.write_text(SCRIPT)
    out = folder / "result.json"
    patterns = folder / "patterns"
    patterns.mkdir()
    r = run_blender(blender, "-b", "--python", str(script), "--", extra, str(out),
                    str(patterns), env=env, timeout=600)
    assert out.is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    assert not tracebacks(r.stdout + r.stderr), r.stdout[-3000:]
    return json.loads(out.read_text())


def test_without_libigl_the_operators_say_how_to_get_it(blender: str, installed: dict,
                                                        work_dir: Path) -> None:
    folder = work_dir / "fab-missing"
    folder.mkdir()
    result = _run(blender, installed, folder, "-")
    if isinstance(result["panelize"], list):
        pytest.skip("this Blender's Python has libigl already")
    assert "needs libigl" in result["panelize"] and "-m pip install libigl" in \
        result["panelize"]
    assert "needs libigl" in result["export"]
    assert result["objects_added"] == 0
    assert list((folder / "patterns").iterdir()) == []


def test_with_the_wheels_for_its_python_panelize_and_export_work(
        blender: str, installed: dict, work_dir: Path) -> None:
    folder = work_dir / "fab-wheels"
    folder.mkdir()
    wheels = install_wheels(blender, installed, folder / "site")
    result = _run(blender, installed, folder, str(wheels))
    assert result["panelize"] == ["FINISHED"], result
    assert result["export"] == ["FINISHED"], result
    assert result["objects_added"] == 2          # the panel overlay and its seams
    (out,) = (folder / "patterns").iterdir()
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["panels"] == 12
    assert len(list((out / "patterns").glob("*.dxf"))) == 12
