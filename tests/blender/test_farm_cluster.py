"""The README's farm commands, run as written, on machines kept apart as far as one host allows.

The commands come from the README's block after ``<!-- farm-commands: ... -->`` (one source:
edit the README and this test runs the new text). Substituted only: ``REPO`` (this
checkout, cloned from), ``~/scurve-mirror`` (each machine's clone), ``HOST`` and the port
(127.0.0.1 and a free port), the client's ``~/sweep`` (a folder outside every clone), and
tiny frames appended to the client (later flags win).

* The scheduler runs in an empty folder with no ``PYTHONPATH``: it cannot import this
  project, as on a machine that only runs Dask.
* Two workers, each in its own fresh ``git clone`` of this checkout's commit at its own
  path, each with its own virtual environment ``.venv-bpy45`` in its clone. That
  environment is built cheaply instead of by ``make`` (which would unpack Blender's
  400 MB wheel twice more): a venv of the same base Python whose packages (bpy, Dask...)
  are this test's bpy environment's, read through a ``.pth`` file; ``bin/dask`` is its own.
  The README's ``make -C ... .venv-bpy45/.ready`` then runs and finds it ready. The
  project's code on a worker comes only from its clone (checked: ``worker_info``'s
  ``code``).
* The client runs in a third clone (same environment recipe); its ``--out`` is outside
  every clone. Only TCP joins the four.

Then: one worker's process group is killed mid-render (every frame exactly once and
whole, the lost worker named with its frame); a frame that kills every worker that takes it
fails alone after Dask's allowed failures; and all of it again with ``--no-nanny`` workers
and ``--scheduler-file``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("bpy")
pytest.importorskip("distributed")

from render_scenes import farm_worker
from render_scenes.farm_jobs import png_ok

pytestmark = [pytest.mark.blender, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
TINY = "--resolution 64 36 --samples 1"
N = 7  # the README's sweep: s_amplitude=0:0.9:7


def readme_commands() -> dict[str, str]:
    """The README's farm block, one command per role."""
    text = README.read_text()
    block = text.split("<!-- farm-commands:", 1)[1].split("```\n", 1)[1].split("```", 1)[0]
    lines = [ln.split("   #", 1)[0].strip() for ln in block.splitlines() if ln.strip()]
    roles = {"setup": "git clone", "scheduler": "dask scheduler", "worker": "dask worker",
             "client": "farm.py"}
    found = {role: [ln for ln in lines if marker in ln] for role, marker in roles.items()}
    assert all(len(v) == 1 for v in found.values()) and len(lines) == 4, lines
    return {role: v[0] for role, v in found.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DASK_"))
           and k != "VIRTUAL_ENV"}
    return {**env, **extra}


def own_environment(clone: Path) -> None:
    """``clone/.venv-bpy45``: its own venv, this test's packages through a .pth file."""
    venv = clone / ".venv-bpy45"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)],  # type: ignore[attr-defined]
                   check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    shared = sysconfig.get_path("purelib")  # this test's bpy environment
    (site / "shared_bpy_packages.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    dask = Path(sys.executable).with_name("dask").read_text().splitlines()[1:]
    (venv / "bin" / "dask").write_text("\n".join([f"#!{venv / 'bin' / 'python'}", *dask]) + "\n")
    (venv / "bin" / "dask").chmod(0o755)
    (venv / ".ready").touch()


class Machines:
    """A scheduler and workers started from the README's lines, each in its own session."""

    def __init__(self, root: Path, cmd: dict[str, str], nanny: bool, scheduler_file: bool,
                 scheduler_env: dict[str, str] | None = None) -> None:
        self.root, self.cmd, self.nanny = root, cmd, nanny
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.clones: dict[str, Path] = {}
        self.file = root / "scheduler.json" if scheduler_file else None
        for name in ("a", "b", "client"):
            clone = root / f"machine-{name}" / "work" / "scurve-mirror"
            clone.parent.mkdir(parents=True)
            clone_cmd, make_cmd = self.line("setup", clone).split(" && ")
            self.run(clone_cmd, clone.parent)
            own_environment(clone)
            out = self.run(make_cmd, clone.parent)
            assert "up to date" in out, out  # the README's make found the environment
            self.clones[name] = clone
        empty = root / "scheduler"
        empty.mkdir()
        sched = self.line("scheduler", self.clones["a"])
        if self.file is not None:
            sched += f" --scheduler-file {self.file}"
        self.start("scheduler", sched, empty, scheduler_env or {})
        for name in ("a", "b"):
            self.start_worker(name, self.clones["a" if name == "a" else "b"])

    def start_worker(self, name: str, clone: Path) -> None:
        self.start(f"worker-{name}", self.line("worker", clone)
                   + ("" if self.nanny else " --no-nanny"), clone, {})

    def line(self, role: str, clone: Path) -> str:
        text = self.cmd[role].replace("~/scurve-mirror", str(clone)).replace("8786",
                                                                             str(self.port))
        return text.replace("HOST", "127.0.0.1").replace("REPO", str(REPO))

    def run(self, line: str, cwd: Path) -> str:
        r = subprocess.run(["bash", "-c", line], cwd=cwd, env=clean_env(), capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, (line, r.stdout[-2000:], r.stderr[-2000:])
        return r.stdout + r.stderr

    def start(self, name: str, line: str, cwd: Path, extra: dict[str, str]) -> None:
        log = open(self.root / f"{name}.log", "wb")  # Popen keeps its own copy
        self.procs[name] = subprocess.Popen(["bash", "-c", line], cwd=cwd,
                                            env=clean_env(**extra), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def client(self) -> object:
        from distributed import Client

        return Client(self.address, timeout=60)

    def wait_for_workers(self, n: int) -> dict[str, dict]:
        with self.client() as c:  # type: ignore[attr-defined]
            c.wait_for_workers(n, timeout=180)
            return c.run(farm_worker.worker_info)

    def stop(self) -> None:
        for p in reversed(self.procs.values()):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=20)
                except ProcessLookupError:
                    pass

    def logs(self) -> str:
        return "\n".join(f"== {f.name}\n{f.read_text(errors='replace')[-1500:]}"
                         for f in sorted(self.root.glob("*.log")))


@pytest.fixture(params=["nanny", "no-nanny + scheduler-file"])
def machines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Machines]:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    nanny = request.param == "nanny"
    # Dask's own setting, given to the scheduler: a frame fails after 2 deaths, not 4.
    m = Machines(tmp_path, readme_commands(), nanny=nanny, scheduler_file=not nanny,
                 scheduler_env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    try:
        yield m
    finally:
        m.stop()


def client_line(m: Machines, out: Path, extra: str = "") -> str:
    line = m.line("client", m.clones["client"]).replace("~/sweep", str(out))
    if m.file is not None:
        line = line.replace(f"--scheduler {m.address}", f"--scheduler-file {m.file}")
        assert "--scheduler-file" in line
    if "--sweep" in extra:  # another sweep in place of the README's
        line = re.sub(r" --sweep \S+", "", line)
    return f"{line} {TINY} {extra}".strip()


def manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text())["jobs"]


def test_readme_farm_on_separate_machines(machines: Machines, tmp_path: Path) -> None:
    m = machines
    info = m.wait_for_workers(2)
    # Each worker runs its own clone's code, none the client's.
    assert sorted(i["code"] for i in info.values()) == sorted(str(m.clones[k]) for k in "ab")
    out = tmp_path / "client" / "sweep"
    out.parent.mkdir()
    # The first worker to start its second frame loses its whole process group (bash,
    # nanny, worker: a machine gone) at that moment.
    starts: Counter[str] = Counter()

    def second_frame(key: str, worker: str) -> bool:
        starts[worker] += 1
        return starts[worker] == 2

    killer = Killer(m, second_frame, group=True, limit=1)
    proc = subprocess.Popen(["bash", "-c", client_line(m, out)], cwd=tmp_path, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=400)
    finally:
        killer.stop()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-3000:] + m.logs()
    assert len(killer.kills) == 1, "no worker started a second frame"
    victim, key = killer.kills[0]["worker"], killer.kills[0]["key"]
    frame = re.search(r"-(\d{4}\.png)-", key).group(1)  # type: ignore[union-attr]
    assert sorted(p.name for p in out.iterdir()) == [f"{k:04d}.png" for k in range(1, N + 1)] \
        + ["contact_sheet.png", "manifest.json"]
    assert all(png_ok(out / f"{k:04d}.png", (64, 36)) for k in range(1, N + 1))
    jobs = manifest(out)
    assert sorted(j["index"] for j in jobs) == list(range(1, N + 1))
    assert all(j["status"] == "done" for j in jobs)
    delivered = [ln for ln in stderr.splitlines() if "frames," in ln and " by " in ln]
    assert sorted(ln.split("| ")[1][:8] for ln in delivered) == [f"{k:04d}.png"
                                                                for k in range(1, N + 1)]
    # Its first frame at most (lost with it if not fetched yet, then rendered again).
    assert sum(j["worker"] == victim for j in jobs) <= 1
    lost = [ln for ln in stderr.splitlines() if "was lost" in ln]
    assert len(lost) == 1 and lost[0].startswith(
        f"farm.py: worker {victim} was lost while rendering {frame} (s_amplitude="), stderr
    assert "waiting for one" not in stderr
    # Nothing was written into a worker's tree.
    for clone in (m.clones["a"], m.clones["b"]):
        status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone,
                                capture_output=True, text=True, check=True).stdout
        assert all(ln == "!! .venv-bpy45/" or ln.endswith("__pycache__/")
                   for ln in status.splitlines()), status

    # The survivor alone. A frame naming a file only the client has fails alone, with the
    # worker's message (a relative path: the client's clone has it, the workers' do not).
    # With nanny workers, a frame that kills each worker taking it fails alone after Dask's
    # allowed failures; without a nanny, the killed survivor leaves no worker: the farm
    # says so (not "waiting for one") and finishes when a new worker joins.
    shutil.copy(REPO / "latent_faces" / "weights" / "vae_synthetic.npz",
                m.clones["client"] / "client-only.npz")
    out2 = tmp_path / "client" / "faults"
    log = tmp_path / "client" / "faults.log"
    killer = Killer(m, lambda key, worker: "-0002.png-" in key, group=False,
                    limit=2 if m.nanny else 1)
    try:
        with open(log, "w") as err:
            proc = subprocess.Popen(["bash", "-c", client_line(
                m, out2, "--sweep decoder=latent_faces/weights/vae_synthetic.npz,"
                "client-only.npz --sweep s_amplitude=0,0.3")], cwd=tmp_path, env=clean_env(),
                stdout=subprocess.DEVNULL, stderr=err, text=True)
        if not m.nanny:
            deadline = time.monotonic() + 240
            while "every worker is gone" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.3)
            m.start_worker("c", m.clones["b"])
        proc.wait(timeout=400)
    finally:
        killer.stop()
        if proc.poll() is None:
            proc.kill()
    stderr = log.read_text()
    assert proc.returncode == 1, stderr[-3000:] + m.logs()
    assert "waiting for one" not in stderr, stderr
    errors = stderr.split("frames failed:", 1)[1].strip().splitlines()
    missing = "decoder file 'client-only.npz' does not exist"
    expected = {"0003.png (decoder=client-only.npz, s_amplitude=0)": missing,
                "0004.png (decoder=client-only.npz, s_amplitude=0.3)": missing}
    if m.nanny:
        expected["0002.png (decoder=latent_faces/weights/vae_synthetic.npz, s_amplitude=0.3)"] \
            = ("KilledWorker: 2 workers died in turn while rendering this frame (Dask's "
               "distributed.scheduler.allowed-failures = 1); the last was ")
    assert len(errors) == len(expected), stderr
    for line in errors:
        head, _, cause = line.removeprefix("farm.py:   ").partition(": ")
        assert cause.startswith(expected[head]), line
    assert len(killer.kills) == (2 if m.nanny else 1)
    done = sorted(j["file"] for j in manifest(out2) if j["status"] == "done")
    assert done == (["0001.png"] if m.nanny else ["0001.png", "0002.png"])
    assert all(png_ok(out2 / f, (64, 36)) for f in done)
    assert "was lost while rendering 0002.png" in stderr, stderr
    if not m.nanny:
        assert "every worker is gone, the last" in stderr, stderr


class Killer:
    """Kills a worker the moment it says it starts a frame (Dask's event log, as the farm
    hears it) when ``pick(key, worker address)`` says so, ``limit`` times: its whole
    process group (``group``: a machine gone), else the worker process alone (a nanny
    starts a new one)."""

    def __init__(self, m: Machines, pick: Callable[[str, str], bool], group: bool,
                 limit: int) -> None:
        self.client = m.client()
        self.pick, self.group, self.limit = pick, group, limit
        self.kills: list[dict] = []
        self.client.subscribe_topic(farm_worker.STARTED_TOPIC, self.on_start)  # type: ignore[attr-defined]

    def on_start(self, event: tuple[float, dict]) -> None:
        msg = event[1]
        if len(self.kills) < self.limit and self.pick(msg["key"], msg["worker"]):
            self.kills.append(msg)
            if self.group:
                os.killpg(os.getpgid(msg["pid"]), signal.SIGKILL)
            else:
                os.kill(msg["pid"], signal.SIGKILL)

    def stop(self) -> None:
        self.client.close()  # type: ignore[attr-defined]
