"""Panelize clicked in a real Blender window: the Fabrication sub-panel of the S-Curve tab.

The installed extension, libigl's wheels for that Blender's Python put on its path by a
user startup script (what a user of a Blender without them does), then mouse clicks:
open the sidebar's S-Curve tab, Add S-Curve Mirror, open Fabrication, press Panelize;
the panel overlay appears and the sub-panel lists the panels with their classes.
``SCURVE_GUI_SHOTS=DIR`` also writes the README's screenshot of it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from blender_run import run_blender, tracebacks
from test_fabricate_real import install_wheels
from test_gui import ADDON, Window, _crop, extension_zip, mirrors
from xdriver import Agent, Display, Rect, Tools, find_phrase, stop

pytestmark = pytest.mark.slow

SHOTS = os.environ.get("SCURVE_GUI_SHOTS")


def overlays(state: dict[str, Any]) -> list[str]:
    return [o["name"] for o in state["objects"] if o["name"].endswith(" Panels")]


def test_gui_panelize(blender: str, work_dir: Path) -> None:
    folder = work_dir / "fab-gui"
    folder.mkdir()
    user = folder / "user"
    env = {**os.environ,
           "BLENDER_USER_CONFIG": str(user / "config"),
           "BLENDER_USER_SCRIPTS": str(user / "scripts"),
           "BLENDER_USER_EXTENSIONS": str(user / "extensions"),
           "BLENDER_USER_DATAFILES": str(user / "datafiles")}
    r = run_blender(blender, "--command", "extension", "install-file", "-r", "user_default",
                    "-e", str(extension_zip()), env=env, timeout=300)
    assert r.returncode == 0 and "Installed" in r.stdout, r.stdout + r.stderr
    wheels = install_wheels(blender, env, folder / "site")
    startup = user / "scripts" / "startup"
    startup.mkdir(parents=True)
    (startup / "fabrication_wheels.py").write_text(
        f"import sys\nsys.path.insert(0, {str(wheels)!r})\n")
    blend = folder / "scene.blend"
    r = run_blender(blender, "-b", "--python-expr",
                    "import bpy; bpy.ops.wm.read_homefile(use_empty=True); "
                    f"bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})",
                    env=env, timeout=300)
    assert r.returncode == 0 and blend.is_file(), r.stdout + r.stderr

    display = Display(Tools(blender))
    win: Window | None = None
    logs = []
    try:
        win = Window(blender, display, folder, blend, env, "fab")
        assert ADDON in win.state["addons"]
        win.keys_over_view("n")
        win.agent.wait(lambda s: Agent.view3d(s)["sidebar"], "the sidebar opens")
        ui = win.region("UI")
        win.display.move(ui.x + ui.w - 8, ui.y + ui.h - 40)
        for _ in range(12):
            if Agent.view3d(win.agent.read()).get("category") == "S-Curve":
                break
            win.display.with_key_held("ctrl", lambda: win.display.xdo("click", "5"))
            time.sleep(0.6)
        assert Agent.view3d(win.agent.read())["category"] == "S-Curve"
        win.press("Add S-Curve Mirror", ui, lambda s: len(mirrors(s)) == 1, "a mirror is added")

        # The Fabrication sub-panel starts closed, below the others: scroll to its header.
        header = None
        mirror_panel = False
        for attempt in range(8):
            win.calm()
            words = win.display.read(win.shot(f"find-fabrication-{attempt}"), ui)
            # Blender may not have redrawn since the add (it decodes the face previews): the
            # mirror's own sub-panel then appears above Face Planes and pushes Fabrication
            # down, after it was found. Look for it only once that sub-panel is drawn.
            mirror_panel = mirror_panel or find_phrase(words, "Edit S-Curve") is not None
            if not mirror_panel and attempt < 4:
                time.sleep(2.0)
                continue
            header = find_phrase(words, "Fabrication")
            if header is not None:
                break
            win.display.move(ui.x + ui.w // 2, ui.y + ui.h // 2)
            for _ in range(6):
                win.display.xdo("click", "5")
        assert header is not None, "no Fabrication sub-panel in the S-Curve tab"
        win.display.click(*header.centre)
        time.sleep(1.0)
        # Its contents open below the window's edge: scroll the sidebar to the end.
        win.display.move(ui.x + ui.w // 2, ui.y + ui.h // 2)
        for _ in range(20):
            win.display.xdo("click", "5")
        time.sleep(0.5)
        state = win.press("Panelize", ui, lambda s: len(overlays(s)) == 1,
                          "the panel overlay appears", timeout=300)
        assert overlays(state) == [f"{mirrors(state)[0]['name']} Panels"]
        win.display.move(ui.x + ui.w // 2, ui.y + ui.h // 2)
        for _ in range(20):
            win.display.xdo("click", "5")
        win.calm()
        shot = win.shot("panelized")
        words = win.display.read(shot, ui)
        assert find_phrase(words, "rollable") is not None, f"no panel list (see {shot})"
        logs.append(win.quit())
        win = None
        if SHOTS:
            out = Path(SHOTS)
            out.mkdir(parents=True, exist_ok=True)
            _crop(shot, Rect(0, 0, display.size[0], display.size[1]),
                  out / "gui_panelize.png")
    finally:
        if win is not None:
            stop(win.proc)
            logs.append(win.log.read_text(errors="replace"))
        display.close()
    found = [tb for log in logs for tb in tracebacks(log)]
    assert not found, "\n\n".join(found)
