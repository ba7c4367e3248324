"""Helpers for the extension-repository tests (issue 21), shared by the bpy-module lane
(``tests/blender/test_extension_repository.py``) and the real-binary lane
(``tests/real/test_repository.py``).

A release is made the way a maintainer makes one: the version line of
``blender_manifest.toml`` bumped in a copy of the source tree, then that tree's own
``tools/build_repository.py`` run into the repository folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHILD = REPO / "tests" / "extension_child.py"
#: What a release needs of the source tree (tools/build_extension.py reads these).
SOURCE = ("blender_addon", "scurve_geom", "latent_faces", "tools", "pyproject.toml",
          "README.md", "blender_manifest.toml")


def current_version() -> str:
    import tomllib

    return tomllib.loads((REPO / "blender_manifest.toml").read_text())["version"]


def next_version(version: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def release_tree(dest: Path, version: str) -> Path:
    """A copy of the source tree whose manifest says ``version``."""
    dest.mkdir(parents=True)
    for name in SOURCE:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    manifest = dest / "blender_manifest.toml"
    text, n = re.subn(r'(?m)^version = "[^"]*"$', f'version = "{version}"',
                      manifest.read_text())
    assert n == 1, "blender_manifest.toml has no single version line"
    manifest.write_text(text)
    return dest


def publish(bpy_python: str, tree: Path, repo_dir: Path,
            blender: str | None = None) -> dict[str, Any]:
    """``tools/build_repository.py --repo-dir`` of ``tree`` (``--blender`` when given:
    the index by that binary's ``server-generate``); the index it wrote."""
    cmd = [bpy_python, str(tree / "tools" / "build_repository.py"), "--repo-dir", str(repo_dir)]
    if blender:
        cmd += ["--blender", blender]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tree)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((repo_dir / "index.json").read_text())


def user_env(user: Path) -> dict[str, str]:
    """A Blender environment with its own user folders (nothing of the real user's)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(BLENDER_USER_CONFIG=str(user / "config"),
               BLENDER_USER_SCRIPTS=str(user / "scripts"),
               BLENDER_USER_EXTENSIONS=str(user / "extensions"),
               BLENDER_USER_DATAFILES=str(user / "datafiles"))
    return env


def result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The child's ``RESULT`` line; fails with its output when there is none or it failed."""
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stdout[-4000:] + proc.stderr[-4000:]
    got = json.loads(lines[-1].removeprefix("RESULT "))
    assert "error" not in got and proc.returncode == 0, (
        got.get("error", "") + proc.stdout[-3000:] + proc.stderr[-3000:])
    return got


def image(path: str) -> Any:
    """A PNG as a float array in [0, 1]."""
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
