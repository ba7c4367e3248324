"""The command line: presets, overrides, checks, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scurve_geom import preset
from scurve_geom.cli import main, make_parser, params_from_args

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None):
    # The package may not be installed: the checkout itself is the import path.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "scurve_geom", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, env=env)


def test_help_and_list_presets():
    out = run_cli("--help")
    assert out.returncode == 0
    for flag in ("--radius", "--half-length", "--circle-vertices", "--length-segments",
                 "--arch-angle", "--match-heights", "--no-weld-seam", "--s-amplitude",
                 "--subdivision-levels", "--boundary-smooth", "--check", "--list-presets"):
        assert flag in out.stdout
    listed = run_cli("--list-presets")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "blog-part2", "blog-unmatched", "kapoor", "smooth"]


def test_flags_override_the_preset():
    args = make_parser().parse_args(["--preset", "kapoor", "--radius", "1.2",
                                     "--arch-angle", "90", "--no-weld-seam"])
    p = params_from_args(args)
    assert p == preset("kapoor", radius=1.2, arch_angle=np.pi / 2, weld_seam=False)


def test_check_prints_the_report(capsys):
    assert main(["--preset", "blog-part2", "--check"]) == 0
    out = capsys.readouterr().out
    assert "boundary loops" in out and "OK" in out


@pytest.mark.parametrize("args", [
    ["--radius", "-1", "--check"],
    ["--radius", "abc", "--check"],
    ["--preset", "nope", "--check"],
    ["--circle-vertices", "33", "--check"],
    ["--bogus"],
    ["--out", "mirror.xyz"],
    ["--out", "/dev/null/mirror.obj"],
    ["--circle-vertices", "8192", "--length-segments", "8192", "--out", "m.obj"],
    ["--thickness", "-0.1", "--out", "m.obj"],
    [],
])
def test_bad_arguments_exit_2_with_one_line_and_no_file(tmp_path, args):
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("scurve_geom: error: ")
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["400", "2", "-30", "nan"])
def test_angle_flags_are_refused_in_their_own_unit(tmp_path, value):
    out = run_cli("--preset", "kapoor", "--arch-angle", value, "--check", cwd=tmp_path)
    assert out.returncode == 2
    line = out.stderr.strip()
    assert line.startswith(f"scurve_geom: error: --arch-angle {value}")
    if value != "nan":
        # The flag takes degrees, so the limits are quoted in degrees (0.1 rad .. pi).
        assert "allowed 5.72958 to 180 degrees" in line


def test_a_closed_pipe_ends_quietly(tmp_path):
    # `python -m scurve_geom --list-presets | head -1`, without a shell: the reader
    # closes its end after one line.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "scurve_geom", "--list-presets"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes: its first write or flush hits EPIPE
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert err == ""
    assert proc.returncode == 141
