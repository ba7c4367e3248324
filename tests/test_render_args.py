"""render_scenes/scurve.py: argument parsing and error paths, without Blender.

The parser imports only ``scurve_geom``, so these run in the plain environment. The
error-path tests run the script as a subprocess to check the exit status and that
stderr is one line and nothing was written.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from render_scenes import common, scurve, stage_args
from scurve_geom import PRESETS, preset
from scurve_geom.stage_params import DEFAULT_SUN_COLOR, RED_SUN_COLOR, StageParams

SCRIPT = Path(scurve.__file__)


def parse(*argv: str):
    return scurve.parse_args(list(argv))


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    a = parse()
    assert a.out == Path("out/scurve.png")
    assert a.preset == "smooth" and a.params == preset("smooth")
    assert tuple(a.resolution) == scurve.DEFAULT_RESOLUTION
    assert a.samples == scurve.DEFAULT_SAMPLES
    assert (a.engine, a.device, a.camera, a.sun_color) == ("cycles", "auto", "front",
                                                            DEFAULT_SUN_COLOR)
    assert a.turntable is None and not a.video and a.save_blend is None and a.props
    # The stage's defaults are the dataclass's: the operator's too.
    assert a.stage == StageParams()


def test_geometry_flags_override_the_preset(tmp_path: Path) -> None:
    out = str(tmp_path / "x.png")
    a = parse("--out", out, "--preset", "kapoor", "--radius", "1.2", "--arch-angle", "90",
              "--no-weld-seam", "--length-segments", "12", "--boundary-smooth",
              "PRESERVE_CORNERS")
    assert a.params == preset("kapoor", radius=1.2, arch_angle=math.radians(90),
                              weld_seam=False, length_segments=12,
                              boundary_smooth="PRESERVE_CORNERS")


def test_every_parameter_has_a_flag() -> None:
    flags = {o for act in scurve.make_parser()._actions for o in act.option_strings}
    for field in scurve.MirrorParams.describe():
        assert "--" + field["name"].replace("_", "-") in flags


def test_every_stage_setting_has_a_flag() -> None:
    flags = {o for act in scurve.make_parser()._actions for o in act.option_strings}
    for field in StageParams.describe():
        assert stage_args.flag(field) in flags


def test_coarse_presets_get_the_seeds_subdivision(tmp_path: Path) -> None:
    out = str(tmp_path / "x.png")
    # The seed's one strip per half renders faceted without its Subdivision Surface.
    assert parse("--out", out, "--preset", "blog-part2").params.subdivision_levels == \
        scurve.COARSE_LEVELS
    # An explicit value wins, including 0 (to see the facets on purpose).
    assert parse("--out", out, "--preset", "blog-part2", "--subdivision-levels", "0") \
        .params.subdivision_levels == 0
    # Fine grids need none.
    assert parse("--out", out, "--preset", "smooth").params.subdivision_levels == 0


def test_options(tmp_path: Path) -> None:
    a = parse("--out", str(tmp_path / "f"), "--resolution", "64", "36", "--samples", "4",
              "--engine", "eevee", "--device", "cpu", "--seed", "7", "--camera", "low",
              "--sun-color", "red", "--turntable", "12", "--video", "--no-props",
              "--save-blend", str(tmp_path / "s.blend"))
    assert tuple(a.resolution) == (64, 36) and a.samples == 4 and a.seed == 7
    assert (a.engine, a.device, a.camera, a.sun_color) == ("eevee", "cpu", "low", RED_SUN_COLOR)
    assert a.turntable == 12 and a.video and not a.props
    assert a.stage == StageParams(samples=4, device="cpu", view="low", sun_color=RED_SUN_COLOR,
                                  props=False)
    a = parse("--out", str(tmp_path / "x.png"), "--sun-elevation", "12.5", "--sun-azimuth",
              "-30", "--sun-strength", "6")
    assert (a.sun_elevation, a.sun_azimuth, a.sun_strength) == (12.5, -30.0, 6.0)
    assert a.stage == StageParams(sun_elevation=math.radians(12.5),
                                  sun_azimuth=math.radians(-30.0), sun_strength=6.0)
    assert parse("--out", str(tmp_path / "x.png"), "--sun-color", "1,0.5,0.25").sun_color \
        == (1.0, 0.5, 0.25)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "nope"], "preset 'nope' is unknown"),
        (["--radius", "-1"], "radius=-1.0 is out of range"),
        (["--circle-vertices", "33"], "must be even"),
        (["--camera", "side"], "invalid choice: 'side'"),
        (["--engine", "luxcore"], "invalid choice"),
        (["--resolution", "64"], "expected 2 arguments"),
        (["--resolution", "8", "8"], "resolution 8x8 is out of range"),
        (["--samples", "0"], "not a positive integer"),
        (["--sun-color", "2,0,0"], "not a sun colour"),
        (["--sun-color", "purple"], "not a sun colour"),
        (["--video"], "--video needs --turntable"),
        (["--sun-elevation", "95"], "--sun-elevation 95 is out of range: allowed -90 to 90"),
        (["--sun-strength", "-1"], "--sun-strength -1.0 is out of range: allowed 0 to 1000"),
        (["--sun-azimuth", "nan"], "--sun-azimuth nan is not a number of degrees"),
        (["--mirror-roughness", "2"], "--mirror-roughness 2.0 is out of range: allowed 0 to 1"),
        (["--turntable", "1"], "at least 2 frames"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_arguments(tmp_path: Path, argv: list[str], message: str) -> None:
    out = ["--out", str(tmp_path / "x.png")] if "--turntable" not in argv else []
    with pytest.raises(scurve.UsageError, match=re.escape(message)):
        parse(*out, *argv)


def test_unwritable_outputs(tmp_path: Path) -> None:
    # A missing folder is made when the picture is written (the default out/scurve.png in a
    # fresh clone); one under a file cannot be.
    parse("--out", str(tmp_path / "missing" / "x.png"))
    assert not (tmp_path / "missing").exists()  # nothing made before the work
    (tmp_path / "file").write_text("")
    with pytest.raises(scurve.UsageError, match="is a file, not a folder"):
        parse("--out", str(tmp_path / "file" / "sub" / "x.png"))
    with pytest.raises(scurve.UsageError, match=r"must end in \.png"):
        parse("--out", str(tmp_path / "x.jpg"))
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(scurve.UsageError, match="it is a folder"):
        parse("--out", str(tmp_path / "dir.png"))
    (tmp_path / "file").write_text("")
    with pytest.raises(scurve.UsageError, match="it is a file"):
        parse("--out", str(tmp_path / "file"), "--turntable", "4")
    with pytest.raises(scurve.UsageError, match=r"must end in \.blend"):
        parse("--out", str(tmp_path / "x.png"), "--save-blend", str(tmp_path / "x.txt"))
    # A folder no file can be created in. /proc refuses even root, unlike chmod.
    if Path("/proc").is_dir():
        with pytest.raises(scurve.UsageError, match="cannot write"):
            parse("--out", "/proc/scurve.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png", "file"]


def test_blender_style_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["blender", "-b", "-P", "scurve.py", "--", "--samples", "3"])
    assert common.script_argv() == ["--samples", "3"]
    monkeypatch.setattr(sys, "argv", ["blender", "-b", "-P", "scurve.py"])
    assert common.script_argv() == []
    monkeypatch.setattr(sys, "argv", ["scurve.py", "--samples", "3"])
    assert common.script_argv() == ["--samples", "3"]


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, str(SCRIPT), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "argv",
    [
        ["--preset", "no-such-preset"],
        ["--out", "/proc/nowhere/x.png"],
        ["--out", "x.png", "--radius", "1e9"],
        ["--out", "x.png", "--bogus"],
    ],
)
def test_script_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, argv: list[str]) -> None:
    # Runs from an empty folder, so "nothing written" is: the folder stays empty.
    r = _run(*argv, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scurve.py: error: "), r.stderr
    assert r.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_presets_listed_in_help() -> None:
    text = scurve.make_parser().format_help()
    assert all(name in text for name in PRESETS)
    assert "--turntable" in text and "--sun-color" in text


def test_without_bpy_the_script_says_what_it_needs(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("bpy") is not None:
        pytest.skip("bpy is importable here: the script would render (tests/blender covers it)")
    r = _run("--out", "x.png", cwd=tmp_path)
    assert r.returncode == 2
    assert "needs Blender" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
