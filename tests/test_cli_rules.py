"""The rules every command line keeps, one table of cases per CLI, run as real processes.

Bad input: exit status 2, one line on stderr naming what is wrong (and the allowed range
for numbers), no traceback, nothing written in the output folder (no hidden temporary
files either). Signals: Ctrl-C (SIGINT) and SIGTERM end a running command within seconds
with status 130/143 and one line "interrupted", leaving only whole files. A reader that
stops early ends it quietly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scurve_geom.cli_common import atomic
from scurve_geom.cli_common.usage import UsageError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "latent_faces" / "weights" / "vae_synthetic.npz"


def _env(extra_path: Path | None = None) -> dict[str, str]:
    paths = [str(REPO)] + ([str(extra_path)] if extra_path else [])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def run(module: str, argv: list[str], cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *argv], capture_output=True,
                          text=True, cwd=cwd, timeout=300, env=env or _env())


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    """A folder of bad inputs: a truncated decoder, a foreign .npz, a text file, a
    truncated checkpoint; outputs go to a separate, empty folder (the test's cwd)."""
    d = tmp_path / "inputs"
    d.mkdir()
    (d / "truncated.npz").write_bytes(SHIPPED.read_bytes()[:4000])
    (d / "foreign.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (d / "notes.txt").write_text("hello\n")
    (d / "model.blend").write_text("not a blend file\n")
    (d / "truncated.pt").write_bytes(b"PK\x03\x04" + bytes(100))
    (d / "run").mkdir()
    (d / "run" / "checkpoint.pt").write_bytes(b"\x80\x04 garbage")
    return d


def check_refused(r: subprocess.CompletedProcess[str], message: str, out: Path) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert message in lines[0], lines[0]
    assert sorted(p.name for p in out.iterdir()) == [], "files left behind"


GEOM = [
    (["--out", "m.xyz"], "unknown extension '.xyz'"),
    (["--out", "/dev/null/m.obj"], "'/dev/null' is a file, not a folder"),
    (["--out", "/proc/m.obj"], "cannot write '/proc/m.obj'"),
    (["--radius", "nan", "--out", "m.obj"], "radius"),
    (["--radius", "1e300", "--out", "m.obj"], "out of range"),
    (["--arch-angle", "inf", "--out", "m.obj"], "not finite"),
    (["--thickness", "-1", "--out", "m.obj"], "--thickness -1 is out of range: allowed 0 to 1"),
    (["--thickness", "1e300", "--out", "m.obj"], "allowed 0 to 1 metres"),
    (["--circle-vertices", "-4", "--out", "m.obj"], "circle_vertices"),
    (["--preset", "nope", "--check"], "nope"),
    ([], "nothing to do"),
]


@pytest.mark.parametrize(("argv", "message"), GEOM)
def test_scurve_geom_refuses(tmp_path: Path, argv: list[str], message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    check_refused(run("scurve_geom", argv, out), message, out)


SUN = ["--sun-elevation", "40", "--sun-azimuth", "200", "--rays", "2000"]
OPTICS = [
    ([*SUN, "--json", "r.json", "--out", "/proc/m.png"], "cannot write '/proc/m.png'"),
    ([*SUN, "--json", "/proc/r.json", "--out", "m.png"], "cannot write '/proc/r.json'"),
    ([*SUN, "--json", "r.txt"], "unknown extension"),
    (["--sun-elevation", "nan", "--sun-azimuth", "200", "--json", "r.json"],
     "--sun-elevation nan is out of range: allowed 0 to 90 degrees"),
    (["--sun-elevation", "40", "--sun-azimuth", "1e9", "--json", "r.json"],
     "allowed -360 to 720 degrees"),
    ([*SUN[:4], "--rays", "100000000000", "--json", "r.json"], "allowed 1 to 1000000000"),
    ([*SUN, "--seed", "-1", "--json", "r.json"], "--seed -1 is out of range: allowed 0"),
    ([*SUN, "--reflectance", "1.5", "--json", "r.json"], "allowed 0 to 1"),
    (["--latitude", "95", "--longitude", "10", "--date", "2026-06-21", "--json", "r.json"],
     "--latitude 95 is out of range: allowed -90 to 90 degrees"),
    (["--latitude", "60", "--longitude", "10", "--date", "2026-06-21", "--time", "25:61",
      "--json", "r.json"], "--time '25:61' is not a clock time: allowed 00:00 to 23:59"),
    (["--latitude", "60", "--longitude", "10", "--date", "2026-02-30", "--time", "12:00",
      "--json", "r.json"], "--date '2026-02-30' is not a date: give YYYY-MM-DD"),
    (["--latitude", "60", "--longitude", "10", "--date", "2026-03-29", "--time", "02:30",
      "--timezone", "Europe/Oslo", "--json", "r.json"],
     "--time 02:30 does not exist on 2026-03-29 in Europe/Oslo: the clocks go forward from "
     "UTC+01:00 to UTC+02:00"),
    (["--latitude", "60", "--longitude", "10", "--date", "2026-06-21", "--timezone",
      "Europe/Olso", "--json", "r.json"], "--timezone 'Europe/Olso' is not a known IANA"),
]


@pytest.mark.parametrize(("argv", "message"), OPTICS)
def test_optics_refuses(tmp_path: Path, argv: list[str], message: str) -> None:
    if "--date" in argv and "--time" in argv and "25:61" not in argv:
        pytest.importorskip("pvlib")
    out = tmp_path / "out"
    out.mkdir()
    check_refused(run("scurve_geom.optics", argv, out), message, out)


LATENT = [
    (["decode", "--out", "s.png", "--decoder", "{in}/truncated.npz"],
     "truncated.npz: not a readable .npz decoder"),
    (["decode", "--out", "s.png", "--decoder", "{in}/foreign.npz"], "not a readable .npz"),
    (["decode", "--out", "s.png", "--decoder", "{in}/notes.txt"], "not a readable .npz"),
    (["decode", "--out", "/proc/s.png"], "cannot write '/proc/s.png'"),
    (["decode", "--out", "s.png", "--seed", "-1"],
     "argument --seed: -1 is out of range: allowed 0 to 4294967295"),
    (["decode", "--out", "s.png", "--count", "100000"], "allowed 1 to 4096"),
    (["decode", "--out", "s.png", "--boundary", "nan"], "argument --boundary: nan"),
    (["decode", "--out", "s.png", "--boundary", "inf"], "out of range"),
    (["faces", "--out", "s.png", "--count", "5000"], "argument --count: 5000"),
    (["faces", "--out", "s.png", "--seed", "-5"], "argument --seed: -5"),
    (["faces", "--out", "s.png", "--start", "-1"], "argument --start: -1"),
    (["faces", "--out", "/proc/s.png"], "cannot write"),
    (["faces", "--out", "s.jpg"], "use .png"),
    (["train", "--out", "/proc/run"], "--out: cannot write '/proc/run'"),
    (["train", "--out", "run", "--seed", "-1"], "argument --seed: -1"),
    (["train", "--out", "run", "--epochs", "1e9"], "argument --epochs"),
    (["train", "--out", "run", "--lr", "nan"], "argument --lr: nan is out of range"),
    (["train", "--out", "run", "--dropout", "1"], "allowed 0 to 0.95"),
    (["train", "--out", "run", "--disc-layers", "6"], "allowed 1 to 5"),
    (["train", "--out", "run", "--batch-size", "100000"], "allowed 1 to 4096"),
    (["export", "{in}/truncated.pt", "--out", "d.npz"], "not a readable training checkpoint"),
    (["export", "{in}/truncated.pt", "--out", "d.txt"], "use .npz"),
    (["evaluate", "{in}/run", "--out", "ev"], "not a readable training checkpoint"),
    (["evaluate", "{in}/run", "--out", "ev", "--decoder", "{in}/truncated.npz"],
     "--decoder"),
    (["study", "--ae", "{in}/truncated.pt", "--vae", "{in}/truncated.pt", "--out", "st"],
     "--ae"),
    (["study", "--ae", "{in}/truncated.pt", "--vae", "{in}/truncated.pt", "--out", "st",
      "--n-samples", "0"], "argument --n-samples: 0"),
]


@pytest.mark.parametrize(("argv", "message"), LATENT)
def test_latent_faces_refuses(tmp_path: Path, inputs: Path, argv: list[str],
                              message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.replace("{in}", str(inputs)) for a in argv]
    if argv[0] in ("export", "evaluate", "study", "train") and message.startswith(
            ("not a readable", "--decoder", "--ae")):
        pytest.importorskip("torch")
    check_refused(run("latent_faces", argv, out), message, out)


def test_latent_faces_train_with_a_bad_init_leaves_no_folder(tmp_path: Path,
                                                             inputs: Path) -> None:
    """``--out runs/run`` makes ``runs/`` as ``mkdir -p`` would (a fresh clone has none,
    and the docs train into it), and a failed start removes both again."""
    pytest.importorskip("torch")
    out = tmp_path / "out"
    out.mkdir()
    r = run("latent_faces", ["train", "--out", "runs/run", "--init", str(inputs / "truncated.pt"),
                             "--epochs", "1", "--n-train", "32", "--n-test", "8", "--quiet"],
            out)
    check_refused(r, "truncated.pt: not a readable training checkpoint", out)


def test_latent_faces_train_small_folder_says_the_test_split_is_empty(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from PIL import Image

    from latent_faces.training.data import _is_test

    data = tmp_path / "faces"
    data.mkdir()
    k = 0
    while len(list(data.iterdir())) < 3:  # three pictures, all in the train split
        name = f"face{k}.png"
        k += 1
        if not _is_test(Path(name), 0.05):
            Image.new("RGB", (120, 120), (200, 150, 120)).save(data / name)
    out = tmp_path / "out"
    out.mkdir()
    r = run("latent_faces", ["train", "--out", "run", "--data", str(data), "--epochs", "1",
                             "--quiet"], out)
    check_refused(r, "3 images in the train split, none readable in the test split", out)


def test_latent_faces_without_torch_says_what_to_install(tmp_path: Path) -> None:
    # An environment where torch cannot be imported, as in Blender's Python or a venv
    # without it: sitecustomize blocks the module before the CLI starts.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    out = tmp_path / "out"
    out.mkdir()
    for argv in (["train", "--out", "run"], ["export", str(SHIPPED), "--out", "d.npz"],
                 ["study", "--ae", str(SHIPPED), "--vae", str(SHIPPED), "--out", "st"]):
        r = run("latent_faces", argv, out, env=_env(site))
        check_refused(r, "pip install torch==2.13.0", out)
    # The numpy side still works there.
    r = run("latent_faces", ["decode", "--out", "s.png", "--count", "2"], out, env=_env(site))
    assert r.returncode == 0, r.stderr


# -- the shared pieces, directly ---------------------------------------------------------


def test_atomic_outputs_all_or_none(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.png"
    b.write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_outputs(a, b) as (ta, tb):
        Path(ta).write_text("new a")
        Path(tb).write_text("new b")
        raise RuntimeError("the second writer failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png"]
    assert b.read_text() == "old" and atomic.pending_files() == []
    with atomic.atomic_outputs(a, b) as (ta, tb):
        Path(ta).write_text("new a")
        Path(tb).write_text("new b")
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.png"]


def test_atomic_error_names_the_output_not_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"

    def fail(tmp: str) -> None:
        raise PermissionError(13, "Permission denied", tmp)

    with pytest.raises(PermissionError) as info:
        atomic.write_atomically(target, fail)
    assert info.value.filename == str(target) and ".x.json." not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_check_output_refuses_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="it is a folder"):
        atomic.check_output(tmp_path, None)
    with pytest.raises(UsageError, match="'/dev/null' is a file, not a folder"):
        atomic.check_output("/dev/null/x.png", (".png",))
    # A missing folder is made later, with its parents (mkdir -p), not now.
    assert atomic.check_output(tmp_path / "no" / "x.png", (".png",)) == tmp_path / "no" / "x.png"
    assert list(tmp_path.iterdir()) == []


def test_check_output_folder_is_the_one_folder_check(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match=r"^--out: cannot write '.*file': it is a file, not"):
        atomic.check_output_folder(tmp_path / "file")
    with pytest.raises(UsageError, match=r"^--out: cannot write .*: '.*file' is a file, not"):
        atomic.check_output_folder(tmp_path / "file" / "run")
    assert atomic.check_output_folder(tmp_path / "no" / "run") == tmp_path / "no" / "run"
    with pytest.raises(UsageError, match=r"^cannot write '/proc/run': "):
        atomic.check_output_folder("/proc/run", flag=None)
    assert atomic.check_output_folder(tmp_path / "new") == tmp_path / "new"  # made later
    assert atomic.check_output_folder(tmp_path) == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # the probe is gone


def test_atomic_folder_is_a_whole_set_or_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "set"
    with pytest.raises(RuntimeError), atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("new a")
        raise RuntimeError("the second writer failed")
    assert list(tmp_path.iterdir()) == [] and atomic.pending_files() == []
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (out / "a.txt").read_text() == "first"
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # as mkdir makes it, not mkdtemp
    with pytest.raises(RuntimeError), atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("second")
        raise RuntimeError
    assert (out / "a.txt").read_text() == "first"
    with atomic.atomic_folder(out) as tmp:
        (tmp / "b.txt").write_text("second")
    assert [p.name for p in out.iterdir()] == ["b.txt"]  # replaced whole, not merged
    assert [p.name for p in tmp_path.iterdir()] == ["set"] and atomic.pending_files() == []


def test_deferred_signal_takes_effect_after_the_block() -> None:
    from scurve_geom.cli_common import signals

    old = signals.install()
    steps = []
    try:
        with pytest.raises(signals.Interrupted) as info:
            with signals.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                steps.append("the block ran to its end")
            steps.append("after the block")  # not reached: the signal is raised first
    finally:
        signals.restore(old)
    assert steps == ["the block ran to its end"] and info.value.signum == signal.SIGTERM


# -- signals and pipes ---------------------------------------------------------------------


def _interrupt(argv: list[str], cwd: Path, signum: int, after: float) -> tuple[int, str, float]:
    proc = subprocess.Popen([sys.executable, *argv], cwd=cwd, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    assert proc.poll() is None, "finished before the signal: make the work larger"
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, err, time.monotonic() - sent


SIGNAL_CASES = [
    # A 1.2M-vertex OBJ takes seconds to write: the signal lands mid-export.
    (["-m", "scurve_geom", "--preset", "smooth", "--subdivision-levels", "2", "--out",
      "big.obj", "--preview", "big.png"], 3.0),
    (["-m", "scurve_geom.optics", "--preset", "kapoor", "--sun-elevation", "40",
      "--sun-azimuth", "200", "--rays", "200000000", "--json", "r.json", "--out", "m.png"],
     3.0),
    (["-m", "scurve_geom.optics", "--preset", "kapoor", "--sun-elevation", "40",
      "--sun-azimuth", "200", "--rays", "200000000", "--json", "r.json"], 3.0),
    (["-m", "latent_faces", "decode", "--out", "s.png", "--count", "4096"], 2.0),
]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(("argv", "after"), SIGNAL_CASES,
                         ids=["geom", "optics", "optics-json", "decode"])
def test_signal_ends_cleanly(tmp_path: Path, argv: list[str], after: float,
                             signum: int) -> None:
    if any(a.endswith(".png") for a in argv[3:]) and "decode" not in argv:
        pytest.importorskip("matplotlib")  # --preview and the optics map draw with it
    status, err, took = _interrupt(argv, tmp_path, signum, after)
    assert status == 128 + signum, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].endswith(": interrupted")
    assert len(err.strip().splitlines()) == 1, err
    assert took < 10, f"took {took:.1f} s to stop"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "partial or hidden files left"


@pytest.mark.parametrize("argv", [
    ["-m", "latent_faces", "decode", "--out", "s.png", "--count", "4"],
    ["-m", "latent_faces", "faces", "--out", "s.png", "--count", "4"],
    ["-m", "scurve_geom", "--list-presets"],
])
def test_closed_pipe_is_quiet(tmp_path: Path, argv: list[str]) -> None:
    proc = subprocess.Popen([sys.executable, *argv], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode in (0, 141)


# -- the render scripts: everything below is refused before Blender is needed ---------------

SCURVE = str(REPO / "render_scenes" / "scurve.py")
FACES = str(REPO / "render_scenes" / "face_planes.py")
FARM = str(REPO / "render_scenes" / "farm.py")
RENDER = [
    ([SCURVE, "--turntable", "100000", "--out", "tt"],
     "--turntable 100000 is out of range: allowed 2 to 3600 frames"),
    ([SCURVE, "--animate", "s_amplitude=0:0.9", "--frames", "1000000", "--out", "an"],
     "--frames 1000000 is out of range: allowed 2 to 3600 frames"),
    ([SCURVE, "--samples", "1000000000", "--out", "x.png"], "allowed 1 to 65536"),
    ([SCURVE, "--seed", "-1", "--out", "x.png"], "--seed -1 is out of range: allowed 0"),
    ([SCURVE, "--face-seed", "-1", "--out", "x.png"], "--face-seed -1 is out of range"),
    ([SCURVE, "--sun-strength", "inf", "--out", "x.png"], "--sun-strength inf must be a finite"),
    ([SCURVE, "--sun-strength", "1e9", "--out", "x.png"], "allowed 0 to 1000"),
    ([SCURVE, "--sun-azimuth", "1e12", "--out", "x.png"], "allowed -360 to 720 degrees"),
    ([SCURVE, "--fps", "100000", "--turntable", "4", "--out", "tt"], "allowed 1 to 240"),
    ([SCURVE, "--face-boundary", "nan", "--face-planes", "2", "--out", "x.png"],
     "--face-boundary nan is out of range"),
    ([SCURVE, "--face-planes", "2", "--decoder", "{in}/truncated.npz", "--out", "x.png"],
     "--decoder: "),
    ([SCURVE, "--face-planes", "2", "--decoder", "{in}/notes.txt", "--out", "x.png"],
     "not a readable .npz decoder"),
    ([SCURVE, "--out", "/proc/x.png"], "cannot write"),
    ([SCURVE, "--out", "x.png", "--save-blend", "/proc/s.blend"], "cannot write"),
    ([FACES, "--blend", "{in}/model.blend", "--save", "o.blend"], "is not a .blend file"),
    ([FACES, "--blend", "{in}/notes.txt", "--save", "o.blend"], "is not a .blend file"),
    ([FACES, "--blend", "{in}/missing.blend", "--save", "o.blend"], "no such file"),
    ([FACES, "--decoder", "{in}/foreign.npz", "--save", "o.blend"], "not a readable .npz"),
    ([FACES, "--face-emission", "-1", "--save", "o.blend"], "--face-emission -1 is out of"),
    ([FACES, "--face-seed", "99999999999", "--save", "o.blend"], "--face-seed"),
    ([FACES, "--save", "/proc/o.blend"], "cannot write"),
    ([FACES, "--render", "o.jpg"], "must end in .png"),
    ([SCURVE, "--samples", "nan", "--out", "x.png"],
     "argument --samples: 'nan' is not a whole number (allowed >= 1)"),
    ([SCURVE, "--resolution", "64", "1e3", "--out", "x.png"], "'1e3' is not a whole number"),
    ([SCURVE, "--turntable", "4", "--out", "{in}/notes.txt"],
     "--out: cannot write '{in}/notes.txt': it is a file, not a folder"),
    ([FARM, "--sweep", "s_amplitude=0:0.9:100000", "--out", "f"],
     "COUNT 100000 is out of range: allowed 1 to 3600 frames"),
    ([FARM, "--sweep", "s_amplitude=0:0.9:100", "--sweep", "radius=1:2:100", "--out", "f"],
     "--sweep: the grid has 10000 frames (100 x 100): allowed at most 3600"),
    ([FARM, "--turntable", "4", "--workers", "100000"], "--workers 100000 is out of range"),
    ([FARM, "--turntable", "4", "--cycles-threads", "100000"],
     "--cycles-threads 100000 is out of range: allowed 0 (automatic) to 1024"),
    ([FARM, "--turntable", "4", "--connect-timeout", "nan"],
     "--connect-timeout nan is out of range"),
    ([FARM, "--turntable", "4", "--seed", "-2"], "--seed -2 is out of range"),
    ([FARM, "--turntable", "4", "--out", "/proc/f"], "--out: cannot write '/proc/f'"),
    ([FARM, "--turntable", "4", "--out", "{in}/notes.txt"], "it is a file, not a folder"),
]


@pytest.mark.parametrize(("argv", "message"), RENDER)
def test_render_scripts_refuse(tmp_path: Path, inputs: Path, argv: list[str],
                               message: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.replace("{in}", str(inputs)) for a in argv]
    r = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=out,
                       timeout=300, env=_env())
    check_refused(r, message.replace("{in}", str(inputs)), out)


def test_a_missing_output_folder_is_made_with_its_parents(tmp_path: Path) -> None:
    """One rule for every CLI (mkdir -p): `out/` and `runs/` are absent in a fresh clone."""
    r = run("scurve_geom", ["--out", "a/b/m.obj"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a" / "b" / "m.obj").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["m.obj"]
