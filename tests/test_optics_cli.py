"""``python -m scurve_geom.optics``: the report, the picture, the day sweep, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scurve_geom.optics.cli import main

pytest.importorskip("embreex")

REPO = Path(__file__).resolve().parents[1]
FAST = ["--rays", "20000", "--cell", "0.2", "--facet", "0.05"]


def run_optics(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "scurve_geom.optics", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300, env=env)


def test_report_and_map(tmp_path):
    pytest.importorskip("matplotlib")
    out = run_optics("--preset", "kapoor", "--sun-elevation", "40", "--sun-azimuth", "200",
                     "--radius", "1.3", "--json", "r.json", "--out", "m.png", *FAST, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "r.json"]
    umask = os.umask(0)
    os.umask(umask)
    for name in ("m.png", "r.json"):  # as a plain open() makes them, not mkstemp's 0600
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["params"]["radius"] == 1.3
    assert r["peak_concentration"] > 1.0  # the concave half focuses
    x0, x1, y0, y1 = r["extent_m"]
    assert x0 < r["peak_xy"][0] < x1 and y0 < r["peak_xy"][1] < y1
    assert 0 < r["intercepted_area_m2"] < 2 * 9.75 * 2.2
    assert 0 < r["fraction_to_ground"] <= r["reflectance"]
    from PIL import Image

    with Image.open(tmp_path / "m.png") as im:
        assert im.size[0] > 400 and im.size[1] > 200


def test_day_sweep(tmp_path, monkeypatch):
    pytest.importorskip("pvlib")
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    assert main(["--preset", "kapoor", "--latitude", "60.24", "--longitude", "10.39",
                 "--date", "2026-06-21", "--timezone", "Europe/Oslo", "--json", "day.json",
                 "--out", "day.png", "--rays", "3000", "--cell", "0.25",
                 "--facet", "0.1"]) == 0
    r = json.loads((tmp_path / "day.json").read_text())
    hours = r["hours"]
    assert len(hours) == 24
    elev = np.array([h["sun_elevation_deg"] for h in hours])
    # Midsummer at 60° N: up about 19 hours, highest near 13:00 local (CEST, 10.4° E).
    assert 17 <= (elev > 0).sum() <= 21
    assert 12 <= int(elev.argmax()) <= 14
    assert elev.max() == pytest.approx(90 - 60.24 + 23.44, abs=0.6)
    assert r["peak_time"] is not None and r["peak_concentration"] > 1.0
    assert (tmp_path / "day.png").stat().st_size > 0


@pytest.mark.parametrize("args", [
    ["--sun-elevation", "40", "--json", "r.json"],                       # azimuth missing
    ["--sun-elevation", "95", "--sun-azimuth", "0", "--json", "r.json"],
    ["--sun-elevation", "-5", "--sun-azimuth", "0", "--json", "r.json"],
    ["--sun-elevation", "40", "--sun-azimuth", "nan", "--json", "r.json"],
    ["--sun-elevation", "40", "--sun-azimuth", "0"],                     # nothing to write
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.txt"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "/dev/null/r.json"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json", "--reflectance", "2"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json", "--rays", "0"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json", "--cell", "0"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json",
     "--extent", "1", "0", "0", "1"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json", "--arch-angle", "400"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json", "--preset", "nope"],
    ["--sun-elevation", "40", "--sun-azimuth", "0", "--latitude", "10", "--json", "r.json"],
    ["--latitude", "60", "--longitude", "10", "--json", "r.json"],       # no date
    ["--latitude", "60", "--longitude", "10", "--date", "2026-13-45", "--json", "r.json"],
    ["--latitude", "60", "--longitude", "10", "--date", "2026-06-21", "--timezone", "Mars/Base",
     "--json", "r.json"],
    ["--latitude", "60", "--longitude", "10", "--date", "2026-06-21", "--time", "23:20",
     "--timezone", "UTC", "--json", "r.json"],                           # sun below horizon
    ["--bogus"],
    [],
])
def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path, monkeypatch, capsys, args):
    if "--latitude" in args and "--date" in args:
        pytest.importorskip("pvlib")
    # In process (a subprocess each would cost seconds of imports); the status itself
    # is checked through a real process below.
    monkeypatch.chdir(tmp_path)
    assert main(["--rays", "1000", *args]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("scurve_geom.optics: error: ")
    assert list(tmp_path.iterdir()) == []


def test_bad_input_status_from_a_real_process(tmp_path):
    out = run_optics("--sun-elevation", "95", "--sun-azimuth", "0", "--json", "r.json",
                     cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_angle_flags_are_refused_in_degrees(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["--sun-elevation", "40", "--sun-azimuth", "0", "--json", "r.json",
          "--arch-angle", "400"])
    err = capsys.readouterr().err
    assert "--arch-angle 400 is out of range" in err and "180 degrees" in err
