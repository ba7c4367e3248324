"""Drive a real Blender window as a person would: an X display (Xvfb), mouse and keys
(xdotool), screenshots (ImageMagick ``import``) and reading the screen (Tesseract OCR).

Where the buttons are is computed, never guessed: the region rectangles come from
``gui_agent.py`` (running inside that Blender and reporting its state), the buttons'
positions inside a region from reading its text on a screenshot.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.left + self.width // 2, self.top + self.height // 2


@dataclass(frozen=True)
class Rect:
    """A screen rectangle, pixels, origin at the top left (X's convention)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2


class Tools:
    """Where X tools run: inside the provisioned Debian root (``bin/run``), or on the host."""

    def __init__(self, blender: str) -> None:
        runner = Path(blender).with_name("run")
        self.prefix = [str(runner)] if runner.is_file() else []

    def run(self, *cmd: str, env: dict[str, str] | None = None, timeout: float = 60,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *cmd], capture_output=True, text=True,
                              timeout=timeout, env=env, check=check)

    def popen(self, *cmd: str, env: dict[str, str] | None = None,
              stdout: Any = subprocess.DEVNULL, in_root: bool = True) -> subprocess.Popen[bytes]:
        """Start ``cmd`` in its own process group (``in_root=False``: a wrapper that
        enters the root itself, like the ``blender`` command)."""
        prefix = self.prefix if in_root else []
        return subprocess.Popen([*prefix, *cmd], env=env, stdout=stdout,
                                stderr=subprocess.STDOUT, start_new_session=True)


class Display:
    """An Xvfb screen for one test, and the input and screen tools bound to it."""

    def __init__(self, tools: Tools, size: tuple[int, int] = (1600, 1000)) -> None:
        self.tools = tools
        self.size = size
        number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                      and not Path(f"/tmp/.X{n}-lock").exists())
        self.name = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.name}
        self.proc = tools.popen("Xvfb", self.name, "-screen", "0",
                                f"{size[0]}x{size[1]}x24", "-nolisten", "tcp")
        deadline = time.monotonic() + 30
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb {self.name} did not start")
            time.sleep(0.1)

    def close(self) -> None:
        _stop(self.proc)

    # -- input ---------------------------------------------------------------------------
    def xdo(self, *args: str) -> None:
        self.tools.run("xdotool", *args, env=self.env)

    def move(self, x: int, y: int) -> None:
        self.xdo("mousemove", "--sync", str(x), str(y))
        time.sleep(0.15)  # Blender reads motion on its next event loop turn

    def click(self, x: int, y: int, button: int = 1, repeat: int = 1) -> None:
        self.move(x, y)
        self.xdo("click", "--repeat", str(repeat), "--delay", "80", str(button))

    def key(self, *keys: str) -> None:
        for k in keys:
            self.xdo("key", "--delay", "60", k)
            time.sleep(0.1)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", "60", text)

    def with_key_held(self, modifier: str, action: Callable[[], None]) -> None:
        self.xdo("keydown", modifier)
        try:
            action()
        finally:
            self.xdo("keyup", modifier)

    # -- output --------------------------------------------------------------------------
    def screenshot(self, path: Path) -> np.ndarray:
        """The whole screen as uint8 (H, W, 3); also written to ``path``."""
        self.tools.run("import", "-window", "root", str(path), env=self.env)
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))

    def read(self, shot: Path, rect: Rect, scale: int = 3) -> list[Word]:
        """Words inside ``rect`` of the screenshot ``shot``, in screen coordinates.

        The crop is enlarged ``scale`` times first: Blender's 11-pixel UI font is too
        small for Tesseract as it is.
        """
        crop = shot.with_name(f"{shot.stem}-ocr-{rect.x}-{rect.y}.png")
        with Image.open(shot) as im:
            part = im.convert("L").crop((rect.x, rect.y, rect.x + rect.w, rect.y + rect.h))
            part = part.resize((rect.w * scale, rect.h * scale), Image.Resampling.LANCZOS)
            part.save(crop)
        out = self.tools.run("tesseract", str(crop), "stdout", "--psm", "11", "tsv",
                             timeout=120).stdout
        words = []
        for line in out.splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) < 12 or not cols[11].strip():
                continue
            left, top, width, height = (int(c) for c in cols[6:10])
            words.append(Word(cols[11].strip(), rect.x + left // scale, rect.y + top // scale,
                              max(1, width // scale), max(1, height // scale)))
        return words


def find_phrase(words: Sequence[Word], phrase: str) -> Word | None:
    """The first run of words on one line that reads ``phrase`` (case-insensitive).

    Returns one box spanning the run. Tesseract splits and joins words differently
    from how they were drawn, so the run is matched on its letters alone.
    """
    target = "".join(ch for ch in phrase.lower() if ch.isalnum())
    lines: dict[int, list[Word]] = {}
    for w in sorted(words, key=lambda w: (w.top, w.left)):
        key = next((k for k in lines if abs(k - w.top) <= 4), w.top)
        lines.setdefault(key, []).append(w)
    for line in lines.values():
        line.sort(key=lambda w: w.left)
        for i in range(len(line)):
            text = ""
            for j in range(i, len(line)):
                text += "".join(ch for ch in line[j].text.lower() if ch.isalnum())
                if text == target or (len(target) > 6 and text.startswith(target)):
                    first, last = line[i], line[j]
                    top = min(w.top for w in line[i:j + 1])
                    bottom = max(w.top + w.height for w in line[i:j + 1])
                    return Word(phrase, first.left, top, last.left + last.width - first.left,
                                bottom - top)
                if not target.startswith(text):
                    break
    return None


class Agent:
    """Reads the state file that ``gui_agent.py`` writes from inside Blender."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log

    def read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def wait(self, predicate: Callable[[dict[str, Any]], bool], what: str,
             timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = self.read()
            if state and predicate(state):
                return state
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise AssertionError(f"timed out waiting for: {what}\nlast state objects: "
                             f"{[o['name'] for o in state.get('objects', [])]}\n"
                             f"Blender output tail:\n{tail}")

    def responsive(self, timeout: float = 900) -> dict[str, Any]:
        """Wait until Blender reports again after now: its main loop is free.

        EEVEE's first Material Preview compiles shaders on the CPU (software GL) and
        holds the main loop for minutes; input sent meanwhile waits in the queue.
        """
        since = time.time()
        return self.wait(lambda s: s.get("time", 0) > since + 0.3, "Blender to respond",
                         timeout=timeout)

    @staticmethod
    def view3d(state: dict[str, Any]) -> dict[str, Any]:
        areas = [a for a in state["windows"][0]["areas"] if a["type"] == "VIEW_3D"]
        return max(areas, key=lambda a: a["rect"][2] * a["rect"][3])

    def region(self, state: dict[str, Any], kind: str) -> Rect:
        """A region of the largest 3D Viewport in screen coordinates (top-left origin)."""
        win_h = state["windows"][0]["size"][1]
        x, y, w, h = self.view3d(state)["regions"][kind]
        return Rect(x, win_h - (y + h), w, h)


def _stop(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, 15)
        proc.wait(grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait(grace)


stop = _stop
