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
def session(blender: str, work_dir: Path,
            request: pytest.FixtureRequest) -> Iterator[tuple[str, Path, dict[str, str]]]:
    # One folder (and user folders) per test: each installs the extension afresh.
    folder = work_dir / ("gui" if request.node.name.startswith("test_gui_add_edit") else
                         request.node.name.removeprefix("test_").replace("_", "-"))
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


# -- issue 21: the node-group asset in Add Modifier ------------------------------------------

PREPARE_ASSET_FILE = """
import bpy
bpy.ops.wm.read_homefile(use_empty=True)
bpy.ops.mesh.primitive_plane_add()
bpy.context.active_object.name = "Target"
bpy.ops.wm.save_as_mainfile(filepath={path!r})
"""

EVALUATE = """
import bpy, json, sys
obj = bpy.data.objects["Target"]
ob = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
mesh = ob.to_mesh()
out = {{"vertices": [list(v.co) for v in mesh.vertices],
        "faces": [list(p.vertices) for p in mesh.polygons],
        "modifiers": [[m.type, m.node_group.name, m.node_group.library is None]
                      for m in obj.modifiers],
        "addons": sorted(a.module for a in bpy.context.preferences.addons)}}
with open({path!r}, "w") as fh:
    json.dump(out, fh)
"""


def _properties_region(state: dict[str, Any], kind: str) -> Rect:
    """A region of the Properties editor, screen coordinates (top-left origin)."""
    win_h = state["windows"][0]["size"][1]
    areas = [a for a in state["windows"][0]["areas"] if a["type"] == "PROPERTIES"]
    area = max(areas, key=lambda a: a["rect"][2] * a["rect"][3])
    x, y, w, h = area["regions"][kind]
    return Rect(x, win_h - (y + h), w, h)


def _read_light_text(display: Display, shot: Path, rect: Rect, scale: int = 3) -> list[Word]:
    """Words of light text in ``rect`` of ``shot``: enlarged, then thresholded to black on
    white, since Tesseract misses white labels on Blender's mid-grey buttons and menus."""
    ink = shot.with_name(f"{shot.stem}-ink-{rect.x}-{rect.y}.png")
    with Image.open(shot) as im:
        part = im.convert("L").crop((rect.x, rect.y, rect.x + rect.w, rect.y + rect.h))
        part = part.resize((rect.w * scale, rect.h * scale), Image.Resampling.LANCZOS)
        part.point(lambda v: 0 if v > 150 else 255).save(ink)
    words = display.read(ink, Rect(0, 0, rect.w * scale, rect.h * scale), scale=1)
    return [Word(w.text, rect.x + w.left // scale, rect.y + w.top // scale,
                 max(1, w.width // scale), max(1, w.height // scale)) for w in words]


def _around(word: Word, size: tuple[int, int], dx: int = 560) -> Rect:
    """The screen's full height within ``dx`` pixels left and right of ``word``."""
    x0, x1 = max(0, word.left - dx), min(size[0], word.left + word.width + dx)
    return Rect(x0, 0, x1 - x0, size[1])


def _target(state: dict[str, Any]) -> dict[str, Any]:
    return next(o for o in state["objects"] if o["name"] == "Target")


def _evaluate(blender: str, blend: Path, env: dict[str, str], out: Path) -> dict[str, Any]:
    import json

    r = run_blender(blender, "-b", str(blend), "--python-expr",
                    EVALUATE.format(path=str(out)), env=env, timeout=300)
    assert r.returncode == 0 and out.is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(out.read_text())


def test_gui_add_modifier_offers_the_mirror_asset(session) -> None:
    """Properties > Modifiers > Add Modifier > Generate > S-Curve Mirror, clicked, on a
    plane; the result equals scurve_geom's mesh, also in a Blender without the extension."""
    from scurve_geom import MirrorParams, build_mesh

    blender, blend, env = session
    folder = blend.parent
    target = folder / "asset.blend"
    r = run_blender(blender, "-b", "--python-expr", PREPARE_ASSET_FILE.format(path=str(target)),
                    env=env, timeout=300)
    assert r.returncode == 0 and target.is_file(), r.stdout + r.stderr
    display = Display(Tools(blender))
    win: Window | None = None
    logs = []
    try:
        win = Window(blender, display, folder, target, env, "asset")
        assert ADDON in win.state["addons"]
        state = win.agent.wait(lambda s: any(o["name"] == "Target" for o in s["objects"]),
                               "the plane is there")
        props = _properties_region(state, "WINDOW")
        # The Modifiers tab: Ctrl+Tab over the Properties editor steps through its tabs.
        button = None
        for _ in range(14):
            words = _read_light_text(display, win.shot("properties-tab"), props)
            button = find_phrase(words, "Add Modifier")
            if button is not None:
                break
            win.display.move(props.x + props.w // 2, props.y + 12)
            win.display.key("ctrl+Tab")
            time.sleep(0.8)
        assert button is not None, "no Add Modifier button on any Properties tab"
        win.display.click(*button.centre)
        time.sleep(1.5)
        # Menus open beside what opened them; read that neighbourhood (a whole screen of
        # viewport grid lines confuses Tesseract).
        near = _around(button, display.size)
        generate = find_phrase(_read_light_text(display, win.shot("add-modifier-menu"), near),
                               "Generate")
        assert generate is not None, "Add Modifier's menu shows no Generate"
        win.display.move(*generate.centre)
        time.sleep(0.6)
        win.display.click(*generate.centre)
        time.sleep(1.5)
        item = find_phrase(_read_light_text(display, win.shot("generate-menu"),
                                            _around(generate, display.size)),
                           "S-Curve Mirror")
        assert item is not None, "Add Modifier > Generate has no S-Curve Mirror"
        win.display.move(*item.centre)
        time.sleep(0.4)
        win.display.click(*item.centre)
        state = win.agent.wait(lambda s: _target(s)["modifiers"] == ["NODES"],
                               "the S-Curve Mirror modifier is on the plane")
        win.shot("asset-added")
        win.keys_over_view("ctrl+s")
        win.agent.wait(lambda s: not s["is_dirty"], "Ctrl+S saves the file")
        logs.append(win.quit())
        win = None
    finally:
        if win is not None:
            stop(win.proc)
            logs.append(win.log.read_text(errors="replace"))
        display.close()
    found = [tb for log in logs for tb in tracebacks(log)]
    assert not found, "\n\n".join(found)

    want = build_mesh(MirrorParams(subdivision_levels=0))
    tolerance = 8 * float(np.finfo(np.float32).eps) * float(np.abs(want.vertices).max())
    bare_env = {**env, **{k: str(folder / "bare-user" / k.split("_")[-1].lower())
                          for k in ("BLENDER_USER_CONFIG", "BLENDER_USER_SCRIPTS",
                                    "BLENDER_USER_EXTENSIONS", "BLENDER_USER_DATAFILES")}}
    for name, run_env in (("with-extension", env), ("without-extension", bare_env)):
        got = _evaluate(blender, target, run_env, folder / f"evaluated-{name}.json")
        assert (ADDON in got["addons"]) == (name == "with-extension")
        # Appended: the group is in the file, not linked from the extension's folder.
        assert got["modifiers"] == [["NODES", "S-Curve Mirror", True]], name
        vertices = np.asarray(got["vertices"])
        assert vertices.shape == want.vertices.shape, name
        assert np.abs(vertices - want.vertices).max() <= tolerance, name
        np.testing.assert_array_equal(np.asarray(got["faces"]), want.faces)
