"""``blender -b -P render_scenes/...`` in a real Blender executable.

What a user or a CI job types: the default scene, face planes, a short turntable with
video, face planes added to a saved .blend; exit statuses (2 for usage errors, non-zero
for any other failure, which Blender itself would report as 0), and never a partial
file. Renders are tiny (96x54) and checked by their pixels: the mirror's region through
the scene camera changes when the mirror is hidden, the rest does not.

Every test runs twice: with an empty user folder, and with the extension installed and
enabled in it as the README says (tests/real/user_folders.py); the scripts run the
checkout's code either way and leave every file of the user folder as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import user_folders
from blender_run import REPO, run_blender, tracebacks
from PIL import Image, ImageDraw
from user_folders import assert_runs_the_checkout

pytestmark = pytest.mark.slow

SCURVE = str(REPO / "render_scenes" / "scurve.py")
FACES = str(REPO / "render_scenes" / "face_planes.py")
PROBE = str(Path(__file__).with_name("probe_scene.py"))
TINY = ["--resolution", "96", "54", "--samples", "2"]

# Each test in both user folders: these override conftest's blender and work_dir.
blender = user_folders.blender
work_dir = user_folders.work_dir
user_files_untouched = user_folders.user_files_untouched


def png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0


def hull_mask(uv: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixels inside the convex hull of camera-view points (u right, v up, 0..1)."""
    w, h = size
    pts = sorted({(float(u) * w, (1.0 - float(v)) * h) for u, v in uv})

    def half(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in points:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    hull = half(pts)[:-1] + half(pts[::-1])[:-1]
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).polygon(hull, fill=1)
    return np.asarray(img, dtype=bool)


def probe(blender: str, blend: Path, out: Path, hidden: Path | None = None) -> dict:
    args = ["-b", str(blend), "-P", PROBE, "--", str(out)]
    if hidden is not None:
        args.append(str(hidden))
    r = run_blender(blender, *args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(out.read_text())


def assert_shows_mirror(blender: str, image: Path, blend: Path, tmp: Path) -> dict:
    """The mirror's screen region differs from the mirror-hidden render; the rest agrees.

    Returns the probe's report of the saved scene."""
    hidden = tmp / f"{image.stem}-hidden.png"
    info = probe(blender, blend, tmp / f"{image.stem}-probe.json", hidden)
    a, b = png(image), png(hidden)
    mask = hull_mask(np.array(info["mirror_uv"]), tuple(info["resolution"]))
    assert a.shape == b.shape == (*mask.shape, 3)
    assert 0.05 < mask.mean() < 0.9, "the mirror should fill part of the frame"
    diff = np.abs(a - b).mean(axis=2)
    inside, outside = diff[mask].mean(), diff[~mask].mean()
    # Hiding the mirror reveals sky and ground where it stood; outside its outline only
    # its shadow and reflected light change.
    assert inside > 0.08 and inside > 3 * outside, (inside, outside)
    return info


def test_default_scene_renders_and_shows_the_mirror(blender: str, work_dir: Path) -> None:
    out, blend = work_dir / "default.png", work_dir / "default.blend"
    r = run_blender(blender, "-b", "-P", SCURVE, "--", "--out", str(out), *TINY,
                    "--save-blend", str(blend))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not tracebacks(r.stdout + r.stderr)
    assert out.is_file() and blend.is_file()
    info = assert_shows_mirror(blender, out, blend, work_dir)
    # A build without OpenImageDenoise (Debian's) renders undenoised at 4x the samples
    # and says so; one with it denoises at the samples asked for.
    cycles = info["cycles"]
    if cycles["use_denoising"]:
        assert cycles["samples"] == 2 and "no OpenImageDenoise" not in r.stdout
    else:
        assert cycles["samples"] == 8
        assert "no OpenImageDenoise: rendering without a denoiser at 8 samples" in r.stdout


def test_face_planes_render(blender: str, work_dir: Path) -> None:
    out, blend = work_dir / "faces.png", work_dir / "faces.blend"
    r = run_blender(blender, "-b", "-P", SCURVE, "--", "--out", str(out), *TINY,
                    "--face-planes", "3", "--save-blend", str(blend))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not tracebacks(r.stdout + r.stderr)
    assert_runs_the_checkout(r.stderr, "scurve.py", blender)
    info = probe(blender, blend, work_dir / "faces-probe.json")
    assert sum(o["role"] == "plane" for o in info["objects"]) == 3
    assert len(info["images"]) == 3 and all(i["packed"] for i in info["images"])
    assert_shows_mirror(blender, out, blend, work_dir)


def test_turntable_with_video(blender: str, work_dir: Path) -> None:
    folder = work_dir / "turntable"
    r = run_blender(blender, "-b", "-P", SCURVE, "--", "--out", str(folder),
                    "--resolution", "64", "36", "--samples", "1", "--turntable", "3",
                    "--video")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    frames = sorted(folder.glob("frame_*.png"))
    assert [f.name for f in frames] == [f"frame_{k:04d}.png" for k in (1, 2, 3)]
    # The camera orbits: consecutive frames differ.
    assert np.abs(png(frames[0]) - png(frames[1])).mean() > 0.02
    video = folder / "turntable.mp4"
    assert video.is_file() and video.stat().st_size > 1000
    assert video.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    assert not list(folder.glob(".*"))  # no temporary leftovers


def test_face_planes_script_on_a_saved_blend(blender: str, work_dir: Path) -> None:
    scene = work_dir / "for-faces.blend"
    r = run_blender(blender, "-b", "-P", SCURVE, "--", "--out", str(work_dir / "x.png"),
                    *TINY, "--save-blend", str(scene))
    assert r.returncode == 0, r.stderr[-3000:]
    saved = work_dir / "with-faces.blend"
    r = run_blender(blender, "-b", str(scene), "-P", FACES, "--", "--face-planes", "4",
                    "--save", str(saved))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not tracebacks(r.stdout + r.stderr)
    assert_runs_the_checkout(r.stderr, "face_planes.py", blender)
    info = probe(blender, saved, work_dir / "with-faces.json")
    assert sum(o["role"] == "plane" for o in info["objects"]) == 4
    assert all(i["packed"] for i in info["images"])


@pytest.mark.parametrize("args, message", [
    (["--samples", "0"], "samples"),
    (["--resolution", "0", "10"], "resolution"),
    (["--preset", "nope"], "preset"),
    (["--radius", "-1"], "radius"),
    (["--out", "/proc/nonexistent-folder/x.png"], "cannot write"),
])
def test_usage_errors_exit_2(blender: str, work_dir: Path, args: list[str],
                             message: str) -> None:
    out = work_dir / "never.png"
    argv = ["--out", str(out), *args] if "--out" not in args else args
    r = run_blender(blender, "-b", "-P", SCURVE, "--", *argv, timeout=120)
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("scurve.py: error:")]
    assert len(errors) == 1 and message in errors[0], r.stderr[-2000:]
    assert not tracebacks(r.stdout + r.stderr)
    assert not out.exists()


def test_face_planes_script_refuses_a_file_without_a_mirror(blender: str,
                                                            work_dir: Path) -> None:
    empty = work_dir / "empty.blend"
    r = run_blender(blender, "-b", "--factory-startup", "--python-expr",
                    f"import bpy; bpy.ops.wm.save_as_mainfile(filepath={str(empty)!r})")
    assert r.returncode == 0 and empty.is_file()
    saved = work_dir / "never.blend"
    r = run_blender(blender, "-b", str(empty), "-P", FACES, "--", "--face-planes", "2",
                    "--save", str(saved))
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert "mirror" in r.stderr and not saved.exists()
    assert not tracebacks(r.stdout + r.stderr)


def test_unexpected_failure_exits_non_zero(blender: str, work_dir: Path) -> None:
    """A failure that is no usage error (here: the add-on's registration raising, as
    a broken install would) still ends the process with a non-zero status, the
    traceback printed, and no file written."""
    script = work_dir / "broken_run.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "import blender_addon\n"
        "def broken():\n"
        "    raise RuntimeError('simulated broken install')\n"
        "blender_addon.register = broken\n"
        f"sys.argv[sys.argv.index('--') + 1:] = ['--out', {str(work_dir / 'broken.png')!r}]\n"
        "from render_scenes import scurve\n"
        "sys.exit(scurve.main())\n"
    )
    r = run_blender(blender, "-b", "-P", str(script), "--", timeout=120)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert "simulated broken install" in r.stderr
    assert not (work_dir / "broken.png").exists()
