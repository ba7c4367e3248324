"""Ctrl-C and SIGTERM at a real ``render_scenes/farm.py`` and the Dask processes it uses.

A terminal's Ctrl-C is SIGINT to its whole foreground process group: the farm client and,
for the default LocalCluster, every worker process it started. So the farm is started in a
session of its own and the signal goes to the group (``os.killpg``), as the terminal sends
it. The farm must end like every CLI here: one line ``farm.py: interrupted``, status 130
(SIGINT) or 143 (SIGTERM), no traceback (from the client or a worker), only whole frames
with their manifest, and no process of its cluster left running. For a cluster of the
README's stock ``dask scheduler`` / ``dask worker`` commands: Ctrl-C in a worker's terminal
leaves no traceback in its log and the farm says it lost the worker; Ctrl-C in the
scheduler's ends the farm with one line and status 2, the frames delivered so far kept.
Frames are tiny but use many samples, so each takes seconds and the signal lands mid-frame.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("bpy")
pytest.importorskip("distributed")

pytestmark = [pytest.mark.blender, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
FARM = REPO / "render_scenes" / "farm.py"
SLOW_FRAMES = ["--resolution", "64", "36", "--samples", "256"]
PNG_END = b"IEND\xaeB`\x82"


def env(code: bool = True) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**clean, "PYTHONPATH": str(REPO)} if code else clean


def start(cmd: list[str], log: Path, cwd: Path, code: bool = True) -> subprocess.Popen[bytes]:
    """``cmd`` in a session of its own (its own process group, as a terminal gives it)."""
    with open(log, "wb") as f:
        return subprocess.Popen(cmd, cwd=cwd, env=env(code), stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_for_frame(out: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300
    while not any(out.glob("0*.png")):
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "no frame within 300 s"
        time.sleep(0.2)
    time.sleep(1.0)  # into the next frame's render


def alive_in_session(sid: int) -> list[str]:
    """Processes of session ``sid`` that still run (zombies, already ended, do not count)."""
    r = subprocess.run(["ps", "-e", "-o", "sid=,stat=,pid=,args="], capture_output=True,
                       text=True, check=True)
    rows = [ln.split(None, 3) for ln in r.stdout.splitlines()]
    return [" ".join(row) for row in rows
            if len(row) >= 3 and row[0] == str(sid) and not row[1].startswith("Z")]


def check_whole(out: Path, n_frames: int) -> list[str]:
    """Only whole PNGs and the manifest, no hidden temporary file; the names."""
    names = sorted(os.listdir(out))
    assert names and all(n.endswith(".png") or n == "manifest.json" for n in names), names
    frames = [n for n in names if n.endswith(".png")]
    assert 1 <= len(frames) < n_frames, names
    for n in frames:
        assert (out / n).read_bytes().endswith(PNG_END), f"{n} is not a whole PNG"
    done = [e["file"] for e in json.loads((out / "manifest.json").read_text())["jobs"]
            if e["status"] == "done"]
    assert sorted(done) == frames
    return names


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text[-3000:]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_to_a_local_cluster_farm(tmp_path: Path, signum: int) -> None:
    out, log = tmp_path / "tt", tmp_path / "farm.log"
    proc = start([sys.executable, str(FARM), "--out", str(out), "--turntable", "5",
                  "--workers", "2", *SLOW_FRAMES], log, tmp_path)
    try:
        wait_for_frame(out, proc, log)
        sent = time.monotonic()
        os.killpg(proc.pid, signum)
        status = proc.wait(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text(errors="replace")
    assert status == 128 + signum, text[-3000:]
    no_traceback(text)
    assert text.strip().splitlines()[-1] == "farm.py: interrupted"
    assert took < 30, f"took {took:.1f} s to stop"
    check_whole(out, 5)
    deadline = time.monotonic() + 15  # the workers are stopped, not orphaned
    while alive_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not alive_in_session(proc.pid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ctrl_c_in_the_readme_clusters_terminals(tmp_path: Path) -> None:
    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{free_port()}"
    logs = {n: tmp_path / f"{n}.log" for n in ("scheduler", "worker", "farm")}
    procs = {"scheduler": start([dask, "scheduler", "--host", "127.0.0.1", "--port",
                                 address.rsplit(":", 1)[1], "--no-dashboard"],
                                logs["scheduler"], tmp_path, code=False)}
    out = tmp_path / "tt"
    try:
        procs["worker"] = start([dask, "worker", address, "--name", "w1", "--nthreads", "1",
                                 "--host", "127.0.0.1", "--no-dashboard", "--local-directory",
                                 str(tmp_path / "w1")], logs["worker"], tmp_path)
        procs["farm"] = start([sys.executable, str(FARM), "--scheduler", address, "--out",
                               str(out), "--turntable", "4", "--connect-timeout", "120",
                               *SLOW_FRAMES], logs["farm"], tmp_path)
        wait_for_frame(out, procs["farm"], logs["farm"])
        os.killpg(procs["worker"].pid, signal.SIGINT)  # Ctrl-C in the worker's terminal
        procs["worker"].wait(timeout=60)
        deadline = time.monotonic() + 60
        while "every worker is gone" not in logs["farm"].read_text(errors="replace"):
            assert time.monotonic() < deadline, logs["farm"].read_text(errors="replace")
            time.sleep(0.5)
        os.killpg(procs["scheduler"].pid, signal.SIGINT)  # ... and in the scheduler's
        procs["scheduler"].wait(timeout=60)
        status = procs["farm"].wait(timeout=60)
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    worker, farm = (logs[n].read_text(errors="replace") for n in ("worker", "farm"))
    no_traceback(worker)
    assert "Received signal SIGINT" in worker
    no_traceback(logs["scheduler"].read_text(errors="replace"))
    no_traceback(farm)
    assert "worker w1 (tcp://127.0.0.1:" in farm and "was lost while rendering" in farm
    last = farm.strip().splitlines()[-1]
    assert last.startswith("farm.py: error: the scheduler cancelled this farm's frames"), farm
    assert status == 2
    check_whole(out, 4)
