"""Ctrl-C and SIGTERM during a render of ``render_scenes/scurve.py`` under the bpy module.

Cycles catches the ``KeyboardInterrupt`` a Ctrl-C raises in its Python and renders on;
the script must instead stop within seconds, exit 130 (SIGINT) or 143 (SIGTERM), say
"interrupted" in one line, and leave only whole frames -- no hidden temporary file.
``blender -b -P`` is tested the same way in tests/real/test_script_signals.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("bpy")

pytestmark = [pytest.mark.blender, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "render_scenes" / "scurve.py"
#: A turntable whose frames take a few seconds each on 2 cores (many samples, tiny image).
TURNTABLE = ["--turntable", "30", "--resolution", "64", "36", "--samples", "512"]

PNG_END = b"IEND\xaeB`\x82"


def interrupt_turntable(cmd: list[str], out: Path, signum: int) -> tuple[int, str, float]:
    """Start ``cmd``, wait for its first whole frame, send ``signum`` mid-frame; the exit
    status, stderr and the seconds it took to stop."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 300
        while not (out / "frame_0001.png").exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no frame within 300 s"
            time.sleep(0.2)
        time.sleep(0.5)  # into the second frame's render
        sent = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        return proc.returncode, err, time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_only_whole_frames(out: Path) -> None:
    names = sorted(os.listdir(out))
    assert names, "no frame"
    assert all(n.startswith("frame_") and n.endswith(".png") for n in names), names
    assert len(names) < 30, "rendered on after the signal"
    for n in names:
        assert (out / n).read_bytes().endswith(PNG_END), f"{n} is not a whole PNG"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_a_bpy_render(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "tt"
    cmd = [sys.executable, str(SCRIPT), *TURNTABLE, "--out", str(out)]
    status, err, took = interrupt_turntable(cmd, out, signum)
    assert status == 128 + signum, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == "scurve.py: interrupted"
    assert took < 15, f"took {took:.1f} s to stop"
    check_only_whole_frames(out)
