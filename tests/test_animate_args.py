"""scurve.py --animate: parsing, per-frame values and refusals, without Blender."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from render_scenes import animate, scurve
from render_scenes.common import UsageError
from scurve_geom import preset
from scurve_geom.plan import max_bend_offset


def parse(tmp_path: Path, *argv: str):
    return scurve.parse_args(["--out", str(tmp_path / "frames"), *argv])


def test_animation_values_run_linearly_from_a_to_b(tmp_path):
    args = parse(tmp_path, "--preset", "kapoor", "--animate", "s_amplitude=0:0.9",
                 "--animate", "arch-angle=100:180", "--frames", "5")
    assert args.procedural and args.frames == 5
    values = [animate.frame_params(args.params, args.animate, k, 5) for k in range(1, 6)]
    assert [p.s_amplitude for p in values] == pytest.approx([0, 0.225, 0.45, 0.675, 0.9])
    assert values[0].arch_angle == pytest.approx(math.radians(100))
    assert values[-1].arch_angle == pytest.approx(math.pi)
    # Everything else is the preset's.
    assert values[2].replace(s_amplitude=0.9, arch_angle=preset("kapoor").arch_angle) == \
        preset("kapoor")


def test_frame_range_is_a_share_of_the_frames(tmp_path):
    args = parse(tmp_path, "--animate", "radius=1:2", "--frames", "48", "--frame-range", "13",
                 "24")
    assert list(animate.frame_numbers(args)) == list(range(13, 25))
    assert animate.frame_params(args.params, args.animate, 13, 48).radius == \
        pytest.approx(1 + 12 / 47)
    assert list(animate.frame_numbers(parse(tmp_path, "--animate", "radius=1:2",
                                            "--frames", "3"))) == [1, 2, 3]


def test_integer_parameters_step(tmp_path):
    args = parse(tmp_path, "--preset", "kapoor", "--animate", "length_segments=2:6",
                 "--frames", "3")
    got = [animate.frame_params(args.params, args.animate, k, 3).length_segments
           for k in (1, 2, 3)]
    assert got == [2, 4, 6]


def test_stage_is_fitted_around_the_larger_end(tmp_path):
    args = parse(tmp_path, "--animate", "radius=2:1")
    assert animate.staging_params(args).radius == 2.0
    args = parse(tmp_path, "--animate", "radius=1:2")
    assert animate.staging_params(args).radius == 2.0


@pytest.mark.parametrize(("argv", "message"), [
    (["--animate", "colour=0:1"], "cannot be animated"),
    (["--animate", "radius=1"], "PARAM=A:B"),
    (["--animate", "radius=a:b"], "not two numbers"),
    (["--animate", "radius=1:nan"], "finite"),
    (["--animate", "radius=1:2", "--animate", "radius=2:3"], "twice"),
    (["--animate", "radius=1:2", "--frames", "1"], "at least 2 frames"),
    (["--animate", "radius=1:2", "--turntable", "4"], "cannot be combined"),
    # The bend limit shrinks with the half length: a frame in the middle is refused.
    (["--preset", "kapoor", "--animate", "half_length=4.875:0.5"], "at frame"),
    (["--animate", f"s_amplitude=0:{max_bend_offset(3.0) * 1.01}"], "s_amplitude="),
    (["--animate", "circle_vertices=32:40", "--frames", "4"], "circle_vertices=35"),
    (["--animate", "radius=1:2", "--frames", "4", "--frame-range", "3", "5"], "within 1..4"),
    (["--animate", "radius=1:2", "--frame-range", "3", "2"], "first <= last"),
    (["--animate", "radius=1:2", "--frame-range", "1", "2", "--video"], "every frame"),
    (["--frame-range", "1", "2"], "needs --animate"),
])
def test_bad_animations_are_refused(tmp_path, argv, message):
    with pytest.raises(UsageError, match=message):
        parse(tmp_path, *argv)


def test_video_needs_frames_and_animation_allows_it(tmp_path):
    assert parse(tmp_path, "--animate", "radius=1:2", "--video").video
    with pytest.raises(UsageError, match="--video needs"):
        scurve.parse_args(["--out", str(tmp_path / "a.png"), "--video"])


def test_cli_refusal_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "frames"
    proc = subprocess.run([sys.executable, str(Path(scurve.__file__)), "--out", str(out),
                           "--animate", "radius=1:-1"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "radius=" in proc.stderr
    assert not out.exists()
