"""The real-Blender lane: a ``blender`` executable, not the ``bpy`` module.

``BLENDER=/path/to/blender`` picks one; otherwise ``tools/real_blender.sh --check``
finds the one it provisioned. Without either the tests skip with that reason; ``make
test-real`` provisions first, so CI always runs them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _find_blender() -> str | None:
    if os.environ.get("BLENDER"):
        return os.environ["BLENDER"]
    proc = subprocess.run(["bash", str(REPO / "tools" / "real_blender.sh"), "--check"],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if proc.returncode == 0 and lines else None


@pytest.fixture(scope="session")
def blender() -> str:
    """The blender command (a path; may be the provisioned root's wrapper)."""
    path = _find_blender()
    if path is None:
        pytest.skip("no real Blender: set BLENDER=/path/to/blender or run tools/real_blender.sh")
    return path


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the provisioned root sees at the same path (it binds /tmp)."""
    return tmp_path_factory.mktemp("real")
