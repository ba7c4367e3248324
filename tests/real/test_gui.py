"""The extension as a person uses it: installed from the zip the documented way, then a
Blender window under Xvfb driven by real mouse clicks and key presses (xdotool).

Button positions are computed: regions from ``gui_agent.py`` (Blender's own report of
its screen), buttons inside them by reading the screenshot (Tesseract). The agent only
reports; nothing here calls ``bpy.ops``. Any Python traceback in Blender's output fails
the test, since panel ``draw()`` errors show nowhere else.

``SCURVE_GUI_SHOTS=DIR`` also writes the README's screenshots into DIR, including the
staged viewport in Material Preview (slow on a software GL: EEVEE compiles its shaders
on the CPU, minutes on 2 cores, so the regular run leaves that step out).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from blender_run import REPO, run_blender, tracebacks
from PIL import Image
from xdriver import Agent, Display, Rect, Tools, Word, find_phrase, stop

pytestmark = pytest.mark.slow

SHOTS = os.environ.get("SCURVE_GUI_SHOTS")
AGENT = str(Path(__file__).with_name("gui_agent.py"))
ADDON = "bl_ext.user_default.scurve_mirror"


def mirrors(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in state["objects"] if o["mirror"]]


def planes(state: dict[str, Any]) -> int:
    return sum(o["role"] == "plane" for o in state["objects"])


def staged(state: dict[str, Any]) -> bool:
    return "S-Curve Stage" in state["collections"]


def extension_zip() -> Path:
    """Build the zip with Blender's own tool, as ``make extension`` does."""
    bpy_python = REPO / ".venv-bpy45" / "bin" / "python"
    r = subprocess.run([str(bpy_python), str(REPO / "tools" / "build_extension.py")],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return Path(r.stdout.strip().splitlines()[-1])


class Window:
    """One GUI Blender on its own display, with its agent and its output log."""

    def __init__(self, blender: str, display: Display, folder: Path, blend: Path,
                 env: dict[str, str], tag: str) -> None:
        self.display = display
        self.folder = folder
        self.log = folder / f"blender-{tag}.log"
        self.agent = Agent(folder / f"state-{tag}.json", self.log)
        self.shots = 0
        with open(self.log, "w") as out:
            self.proc = display.tools.popen(
                blender, "-p", "0", "0", str(display.size[0]), str(display.size[1]),
                str(blend), "--python", AGENT, "--", str(self.agent.path),
                env={**env, "DISPLAY": display.name}, stdout=out, in_root=False)
        self.state = self.agent.wait(lambda s: bool(s.get("windows")), "Blender's window",
                                     timeout=180)

    # -- looking -------------------------------------------------------------------------
    def region(self, kind: str) -> Rect:
        return self.agent.region(self.agent.read(), kind)

    def calm(self) -> None:
        """Park the mouse over empty viewport, so no hover highlight or tooltip hides text."""
        view = self.region("WINDOW")
        self.display.move(view.x + view.w // 3, view.y + int(view.h * 0.8))

    def shot(self, name: str) -> Path:
        """A screenshot once the screen has stopped changing (the GL is software)."""
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{name}.png"
        previous = None
        for _ in range(30):
            pixels = self.display.screenshot(path)
            if previous is not None and np.array_equal(pixels, previous):
                break
            previous = pixels
            time.sleep(0.7)
        return path

    def find(self, phrase: str, area: Rect, name: str) -> Word:
        self.calm()
        path = self.shot(name)
        word = find_phrase(self.display.read(path, area), phrase)
        assert word is not None, f"{phrase!r} not on screen (see {path})"
        return word

    # -- doing ---------------------------------------------------------------------------
    def press(self, phrase: str, area: Rect, until: Callable[[dict[str, Any]], bool],
              what: str, timeout: float = 120) -> dict[str, Any]:
        """Click the button reading ``phrase`` and wait for its effect.

        A click that lands while Blender is still busy redrawing can be lost (the
        button was not yet under the pointer in Blender's eyes); then, as a person
        would, click once more.
        """
        word = self.find(phrase, area, phrase.lower().replace(" ", "-"))
        for attempt in range(2):
            self.display.click(*word.centre)
            try:
                return self.agent.wait(until, what, timeout=timeout if attempt else 20)
            except AssertionError:
                if attempt:
                    raise
        raise AssertionError(what)

    def keys_over_view(self, *keys: str) -> None:
        view = self.region("WINDOW")
        self.display.move(view.x + view.w // 3, view.y + view.h // 2)
        self.display.key(*keys)

    def edit_field(self, label: Word, value: str) -> None:
        """Type ``value`` into the number field right of ``label`` (property-split rows)."""
        self.display.click(label.left + label.width + 80, label.centre[1], repeat=2)
        time.sleep(0.4)
        self.display.key("ctrl+a")
        self.display.type(value)
        self.display.key("Return")

    def quit(self) -> str:
        self.keys_over_view("ctrl+q")
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            stop(self.proc)
        return self.log.read_text(errors="replace")


@pytest.fixture()
def session(blender: str, work_dir: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    folder = work_dir / "gui"
    folder.mkdir(exist_ok=True)
    user = folder / "user"
    env = {**os.environ,
           "BLENDER_USER_CONFIG": str(user / "config"),
           "BLENDER_USER_SCRIPTS": str(user / "scripts"),
           "BLENDER_USER_EXTENSIONS": str(user / "extensions"),
           "BLENDER_USER_DATAFILES": str(user / "datafiles")}
    zip_path = extension_zip()
    # The documented install, into this test's own user folders.
    r = run_blender(blender, "--command", "extension", "install-file", "-r", "user_default",
                    "-e", str(zip_path), env=env, timeout=300)
    assert r.returncode == 0 and "Installed" in r.stdout, r.stdout + r.stderr
    blend = folder / "scene.blend"
    r = run_blender(blender, "-b", "--python-expr",
                    "import bpy; bpy.ops.wm.read_homefile(use_empty=True); "
                    f"bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})",
                    env=env, timeout=300)
    assert r.returncode == 0 and blend.is_file(), r.stdout + r.stderr
    yield blender, blend, env


def test_gui_add_edit_stage_faces_undo_save(session) -> None:
    blender, blend, env = session
    folder = blend.parent
    display = Display(Tools(blender))
    win: Window | None = None
    logs = []
    try:
        win = Window(blender, display, folder, blend, env, "first")
        assert ADDON in win.state["addons"]

        # The sidebar (N over the viewport), then its S-Curve tab (Ctrl+wheel over the tabs).
        win.keys_over_view("n")
        state = win.agent.wait(lambda s: Agent.view3d(s)["sidebar"], "the sidebar opens")
        ui = win.region("UI")
        win.display.move(ui.x + ui.w - 8, ui.y + ui.h - 40)
        for _ in range(12):
            if Agent.view3d(win.agent.read()).get("category") == "S-Curve":
                break
            win.display.with_key_held("ctrl", lambda: win.display.xdo("click", "5"))
            time.sleep(0.6)
        assert Agent.view3d(win.agent.read())["category"] == "S-Curve"

        # Add S-Curve Mirror, by its button.
        state = win.press("Add S-Curve Mirror", ui, lambda s: len(mirrors(s)) == 1,
                          "a mirror is added")
        added = mirrors(state)[0]
        assert added["vertices"] > 0

        # The sidebar shows the stored parameters with whole labels.
        words = win.display.read(win.shot("sidebar-mirror"), ui)
        for label in ("Subdivision Levels", "Boundary Smooth", "Length Segments"):
            assert find_phrase(words, label), f"sidebar label {label!r} cut or missing"

        # The redo panel: open it, change the radius; the mirror rebuilds, still one.
        hud = win.region("HUD")
        if hud.h < 60:  # collapsed: click its header
            win.display.click(*hud.centre)
            win.agent.wait(lambda s: Agent.view3d(s)["regions"]["HUD"][3] > 60,
                           "the redo panel expands")
            hud = win.region("HUD")
        radius = win.find("Radius", hud, "redo-panel")
        win.edit_field(radius, "1.3")
        state = win.agent.wait(
            lambda s: len(mirrors(s)) == 1 and abs(mirrors(s)[0]["mirror"]["radius"] - 1.3) < 1e-5,
            "the redo panel rebuilds the mirror at radius 1.3")
        assert mirrors(state)[0]["name"] == added["name"]
        redo_shot = win.shot("redo-panel-changed")

        # Edit S-Curve: its dialog, S Amplitude 0.5, Return for OK.
        word = win.find("Edit S-Curve", ui, "edit")
        win.display.click(*word.centre)
        time.sleep(1.5)
        box = Rect(max(0, word.centre[0] - 700), max(0, word.centre[1] - 300), 900, 700)
        amplitude = win.find("S Amplitude", box, "edit-dialog")
        win.edit_field(amplitude, "0.5")
        time.sleep(0.5)
        win.display.key("Return")
        state = win.agent.wait(
            lambda s: len(mirrors(s)) == 1
            and abs(mirrors(s)[0]["mirror"]["s_amplitude"] - 0.5) < 1e-5,
            "Edit S-Curve bends the mirror")
        assert abs(mirrors(state)[0]["mirror"]["radius"] - 1.3) < 1e-5

        # Set Up Mirror Stage.
        state = win.press("Set Up Mirror Stage", ui, staged, "the stage is built")
        assert state["engine"] == "CYCLES"

        # Face Planes: Re-roll changes seed and thumbnails, then Add Face Planes.
        seed_label = win.find("Seed", ui, "faces-panel")
        strip = Rect(ui.x, seed_label.top + 40, ui.w - 30, 130)
        before = np.asarray(Image.open(win.shot("thumbs-before")).convert("RGB"))
        win.display.click(ui.x + ui.w - 50, seed_label.centre[1])  # the icon right of Seed
        seed = state["face_seed"]
        state = win.agent.wait(lambda s: s["face_seed"] != seed, "Re-roll draws a new seed")
        win.calm()
        after = np.asarray(Image.open(win.shot("thumbs-after")).convert("RGB"))
        crop = np.s_[strip.y:strip.y + strip.h, strip.x:strip.x + strip.w]
        assert np.abs(after[crop].astype(int) - before[crop].astype(int)).mean() > 3, \
            "the thumbnails did not change on Re-roll"
        state = win.press("Add Face Planes", ui, lambda s: planes(s) == 6,
                          "six face planes are placed")
        sidebar_shot = win.shot("sidebar-faces")

        # Undo and redo across all of it, with the keys.
        steps = [
            ("Add Face Planes", lambda s: planes(s) == 0 and staged(s)),
            ("Re-roll", lambda s: s["face_seed"] == seed),
            ("Set Up Mirror Stage", lambda s: not staged(s) and len(mirrors(s)) == 1),
            ("Edit S-Curve", lambda s: len(mirrors(s)) == 1
             and abs(mirrors(s)[0]["mirror"]["s_amplitude"]) < 1e-9),
            ("Add S-Curve Mirror", lambda s: not mirrors(s)),
        ]
        for name, check in steps:
            win.keys_over_view("ctrl+z")
            win.agent.wait(check, f"Ctrl+Z undoes {name}")
        win.keys_over_view("ctrl+shift+z")
        state = win.agent.wait(lambda s: len(mirrors(s)) == 1, "Ctrl+Shift+Z re-adds the mirror")
        assert abs(mirrors(state)[0]["mirror"]["radius"] - 1.3) < 1e-5  # with the redo change
        for _ in range(4):
            win.keys_over_view("ctrl+shift+z")
        state = win.agent.wait(lambda s: planes(s) == 6 and staged(s), "redo brings all back")

        if SHOTS:
            # Material Preview through the front camera (pie menu Z, item 2; Numpad 0).
            win.keys_over_view("z")
            time.sleep(1.0)
            win.display.key("2")
            win.agent.wait(lambda s: Agent.view3d(s)["shading"] == "MATERIAL",
                           "Material Preview", timeout=900)
            win.agent.responsive()
            win.keys_over_view("KP_0")
            win.agent.responsive()
            time.sleep(10)  # EEVEE's progressive samples
            staged_shot = win.shot("material-preview")

        # Save with Ctrl+S, quit with Ctrl+Q.
        win.keys_over_view("ctrl+s")
        win.agent.wait(lambda s: not s["is_dirty"], "Ctrl+S saves the file")
        logs.append(win.quit())
        win = None

        # Reopen: everything is there and the panels draw.
        win = Window(blender, display, folder, blend, env, "reopened")
        state = win.agent.wait(lambda s: len(mirrors(s)) == 1 and planes(s) == 6 and staged(s),
                               "the reopened file has mirror, stage and faces")
        m = mirrors(state)[0]["mirror"]
        assert abs(m["radius"] - 1.3) < 1e-5 and abs(m["s_amplitude"] - 0.5) < 1e-5
        ui = win.region("UI")
        win.find("Add S-Curve Mirror", ui, "reopened-sidebar")
        logs.append(win.quit())
        win = None

        if SHOTS:
            out = Path(SHOTS)
            out.mkdir(parents=True, exist_ok=True)
            _crop(sidebar_shot, ui, out / "gui_sidebar.png")
            hud_rect = Rect(0, max(0, hud.y - 40), min(display.size[0], hud.x + hud.w + 420),
                            hud.h + 60)
            _crop(redo_shot, hud_rect, out / "gui_redo_panel.png")
            _crop(staged_shot, Rect(0, 0, display.size[0], display.size[1]),
                  out / "gui_material_preview.png")
    finally:
        if win is not None:
            stop(win.proc)
            logs.append(win.log.read_text(errors="replace"))
        display.close()
    found = [tb for log in logs for tb in tracebacks(log)]
    assert not found, "\n\n".join(found)


def _crop(path: Path, rect: Rect, out: Path) -> None:
    with Image.open(path) as im:
        im.crop((rect.x, rect.y, rect.x + rect.w, rect.y + rect.h)).save(out, optimize=True)
