"""Shared fixtures for tests that run inside real Blender (the ``bpy`` module).

Run one Blender version per process, always under ``timeout``::

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender -q

Known trap: a Python-defined class still registered when the interpreter exits makes
bpy 4.2 segfault and bpy 4.5 hang forever. So the dev add-on is registered per test and
unregistered after it, and as a last resort the process leaves through ``os._exit``
once pytest has printed its summary. Without bpy (the main ``.venv``) every test here
is marked ``blender`` and skipped by its module's ``importorskip``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import bpy
except ImportError:  # the main .venv: test modules skip themselves
    bpy = None

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything under tests/blender needs Blender, whoever wrote the test module.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.blender)


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))
    if bpy is None:
        return
    # Whatever a test left registered goes now, while Blender can still run Python.
    import blender_addon

    if hasattr(bpy.types, "MESH_OT_scurve_mirror_add"):
        blender_addon.unregister()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # After the summary is printed: skip Blender's own atexit teardown, which is where
    # 4.2 crashes and 4.5 hangs if anything (ours or another module's) stayed registered.
    if bpy is None or not _exit_status or os.environ.get("SCURVE_NO_HARD_EXIT"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status[0])


@pytest.fixture
def factory_scene() -> Iterator[Any]:
    """An empty factory-settings scene before the test, and again after it."""
    assert bpy is not None
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield bpy.context.scene
    bpy.ops.wm.read_factory_settings(use_empty=True)


@pytest.fixture
def addon(factory_scene: Any) -> Iterator[Any]:
    """The add-on from the source tree, registered for one test (package ``blender_addon``)."""
    import blender_addon

    blender_addon.register()
    try:
        yield blender_addon
    finally:
        blender_addon.unregister()


_KINDS = ("objects", "meshes", "materials", "collections", "lights", "cameras", "worlds",
          "images", "node_groups", "textures")


def _data_counts() -> dict[str, int]:
    assert bpy is not None
    return {k: len(getattr(bpy.data, k)) for k in _KINDS}


@pytest.fixture
def data_counts() -> Any:
    """A function returning how many objects, meshes, materials, … the file holds."""
    return _data_counts
