"""The farm's jobs: what each frame renders, how it is named, and whether it is done.

Pure Python (no Blender, no Dask), so the job list, the resume rule and the manifest are
tested anywhere. A job is the ``render_scenes/scurve.py`` argument list that renders its
frame (plus a camera orbit step for turntables, the frame for animations): the worker
parses it with scurve.py's own parser and builds the scene with scurve.py's own code, so a
farm frame is reproduced locally by ``scurve.py ARGS`` with the same arguments (``argv``
in the manifest; an animation's frame k by ``scurve.py ARGS --frame-range k k``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

from render_scenes.animate import frame_params
from render_scenes.common import UsageError
from render_scenes.limits import LIMITS
from scurve_geom.cli_common.atomic import write_atomically

__all__ = ["Job", "Sweep", "animate_jobs", "frames_done", "grid_jobs", "load_manifest",
           "parse_sweep", "png_bytes_ok", "png_ok", "turntable_jobs", "write_manifest"]

#: Bumped when a job's meaning changes, so older frames are not taken as done.
#: 2: animation frames come from the procedural mirror's keyframes.
JOB_FORMAT = 2
#: Flags that name outputs or choose the frames; they cannot be swept.
NOT_SWEPT = {"--out", "--turntable", "--video", "--save-blend", "--fps", "--help", "--animate",
             "--frames", "--frame-range"}
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Sweep:
    """One swept flag: ``name`` (the parameter, underscores), its values as command-line
    strings, and the argument lists that set each value."""

    name: str
    values: tuple[str, ...]
    argvs: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Job:
    """One frame: written to ``DIR/NNNN.png`` with ``NNNN = index``.

    ``argv`` are scurve.py scene arguments (without ``--out``), ``values`` the
    ``(parameter, value)`` pairs that label it, ``orbit`` ``(k, n)`` for the k-th of n
    turntable steps (camera turned by 2πk/n radians about the mirror), else None.
    ``frame``: for animations the 1-based frame of ``argv``'s ``--animate ... --frames N``
    that this job renders.
    """

    index: int
    kind: str
    argv: tuple[str, ...]
    values: tuple[tuple[str, str], ...] = ()
    orbit: tuple[int, int] | None = None
    frame: int = 1

    @property
    def file(self) -> str:
        return f"{self.index:04d}.png"

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values) or f"frame {self.index}"

    def key(self) -> str:
        """Digest of everything that decides the picture: same key, same pixels."""
        blob = json.dumps([JOB_FORMAT, self.argv, self.orbit, self.frame])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: what a worker receives and the manifest stores."""
        return {"index": self.index, "file": self.file, "kind": self.kind,
                "params": dict(self.values), "argv": list(self.argv),
                "orbit": list(self.orbit) if self.orbit else None, "frame": self.frame,
                "key": self.key()}


# -- job lists ---------------------------------------------------------------------------


def _option(parser: argparse.ArgumentParser, name: str) -> tuple[str, argparse.Action]:
    flag = "--" + name.strip().replace("_", "-")
    for action in parser._actions:
        if flag in action.option_strings and flag not in NOT_SWEPT:
            return flag, action
    raise UsageError(f"{name!r} is not a scene flag that can be swept (see --help)")


def _is_integer_flag(action: argparse.Action) -> bool:
    try:
        action.type("0.5")  # type: ignore[misc]
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        return True
    return False


#: The most frames one farm run renders: a turntable's or an animation's limit, for a sweep's
#: grid too (render_scenes.limits).
MAX_FRAMES = int(LIMITS["--turntable"][2])


def _numeric_values(spec: str, text: str) -> list[float]:
    parts = text.split(":")
    if len(parts) != 3:
        raise UsageError(f"{spec!r}: expected NAME=START:STOP:COUNT")
    try:
        a, b = float(parts[0]), float(parts[1])
        n = int(parts[2])
    except ValueError:
        raise UsageError(f"{spec!r}: START and STOP must be numbers, COUNT an integer") \
            from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise UsageError(f"{spec!r}: START and STOP must be finite")
    if n < 1 or (n == 1 and a != b):
        raise UsageError(f"{spec!r}: COUNT must be at least 2 (1 only when START = STOP)")
    if n > MAX_FRAMES:
        raise UsageError(f"{spec!r}: COUNT {n} is out of range: allowed 1 to {MAX_FRAMES} "
                         "frames")
    return [a + (b - a) * i / (n - 1) if n > 1 else a for i in range(n)]


def parse_sweep(parser: argparse.ArgumentParser, spec: str) -> Sweep:
    """``NAME=START:STOP:COUNT`` (evenly spaced, both ends included) or ``NAME=V1,V2,...``.

    ``NAME`` is any single-valued scene flag of scurve.py without its dashes (``s_amplitude``,
    ``sun_elevation``, ``camera``, ``match_heights``...), values in the flag's own units
    (degrees for angles).
    Values are not range-checked here: a worker rejects a bad one by name for its frame only.

    Raises
    ------
    UsageError
        For a malformed spec or a name that is not a scene flag.
    """
    name, eq, text = spec.partition("=")
    if not eq or not name or not text:
        raise UsageError(f"{spec!r}: expected NAME=START:STOP:COUNT or NAME=V1,V2,...")
    flag, action = _option(parser, name)
    name = flag[2:].replace("-", "_")
    boolean = isinstance(action, argparse.BooleanOptionalAction)
    if action.nargs not in (None, 0) and not boolean:
        raise UsageError(f"{spec!r}: {flag} takes {action.nargs} values and cannot be swept")
    if ":" in text:
        if boolean or action.choices is not None or action.type is None:
            raise UsageError(f"{spec!r}: {flag} is not numeric; list the values: "
                             f"{name}=A,B,...")
        numbers = _numeric_values(spec, text)
        if _is_integer_flag(action):
            if any(abs(v - round(v)) > 1e-9 for v in numbers):
                raise UsageError(f"{spec!r}: {flag} takes whole numbers and the steps are not")
            values = [str(round(v)) for v in numbers]
        else:
            values = [f"{v:.12g}" for v in numbers]
    else:
        values = [v.strip() for v in text.split(",")]
        if "" in values:
            raise UsageError(f"{spec!r}: an empty value in the list")
    if boolean:
        bad = [v for v in values if v.lower() not in TRUE | FALSE]
        if bad:
            raise UsageError(f"{spec!r}: {flag} is on or off, not {bad[0]!r}")
        off = "--no-" + flag[2:]
        argvs = [(flag,) if v.lower() in TRUE else (off,) for v in values]
    else:
        argvs = [(flag, v) for v in values]
    return Sweep(name, tuple(values), tuple(argvs))


def grid_jobs(base: Sequence[str], sweeps: Sequence[Sweep]) -> list[Job]:
    """Every combination of the sweeps' values (the last sweep varies fastest)."""
    names = [s.name for s in sweeps]
    if len(set(names)) != len(names):
        raise UsageError(f"--sweep names a parameter twice: {', '.join(names)}")
    total = math.prod(len(s.values) for s in sweeps)
    if total > MAX_FRAMES:
        raise UsageError(f"--sweep: the grid has {total} frames "
                         f"({' x '.join(str(len(s.values)) for s in sweeps)}): allowed at "
                         f"most {MAX_FRAMES}")
    jobs = []
    for i, combo in enumerate(product(*(range(len(s.values)) for s in sweeps)), start=1):
        argv = [*base]
        values = []
        for s, k in zip(sweeps, combo, strict=True):
            argv += s.argvs[k]
            values.append((s.name, s.values[k]))
        jobs.append(Job(i, "sweep", tuple(argv), tuple(values)))
    return jobs


def turntable_jobs(base: Sequence[str], n: int) -> list[Job]:
    """``n`` frames of a full camera orbit, as ``scurve.py --turntable n`` renders them."""
    return [Job(k + 1, "turntable", tuple(base), (("orbit", f"{360 * k / n:g}deg"),),
                orbit=(k, n), frame=k + 1) for k in range(n)]


def animate_jobs(base: Sequence[str], args: argparse.Namespace) -> list[Job]:
    """One job per frame of an animation: ``base`` are scurve.py arguments with
    ``--animate PARAM=A:B --frames N`` and ``args`` what scurve.py parsed from them.

    Every job has the same arguments and its own ``frame``: the worker stages the scene as
    ``scurve.py --animate`` does (keyframes on the procedural mirror, stage fitted around
    the larger end) and renders frame k, so farm frame k equals scurve.py's frame k.
    """
    jobs = []
    for k in range(1, args.frames + 1):
        params = frame_params(args.params, args.animate, k, args.frames)
        values = tuple((a.field, _shown(a.field, getattr(params, a.field)))
                       for a in args.animate)
        jobs.append(Job(k, "animate", tuple(base), values, frame=k))
    return jobs


def _shown(field: str, value: float) -> str:
    """A parameter's value in its flag's units (degrees for the arch angle)."""
    if isinstance(value, int):
        return str(value)
    return f"{math.degrees(value) if field == 'arch_angle' else value:.6g}"


# -- outputs on disk ---------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_ok(path: Path, size: tuple[int, int] | None = None) -> bool:
    """True if the file ``path`` is a whole PNG (see :func:`png_bytes_ok`)."""
    try:
        return png_bytes_ok(path.read_bytes(), size)
    except OSError:
        return False


def png_bytes_ok(data: bytes, size: tuple[int, int] | None = None) -> bool:
    """True if ``data`` is a whole PNG: signature, every chunk's CRC, an IEND; and, with
    ``size`` ``(width, height)`` in pixels, that size. Decodes no pixels."""
    if not data.startswith(_PNG_SIGNATURE):
        return False
    pos, first = len(_PNG_SIGNATURE), True
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            return False
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return False
        if first:
            if kind != b"IHDR":
                return False
            if size is not None and struct.unpack(">II", body[:8]) != tuple(size):
                return False
            first = False
        if kind == b"IEND":
            return True
        pos += 12 + length
    return False


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``: a temporary name in the same folder, synced to disk, then
    a rename (:func:`~scurve_geom.cli_common.atomic.write_atomically`): a frame a resumed
    farm skips is whole even after a power cut."""
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    write_atomically(path, write)


def load_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The previous run's job entries by file name; empty when there is none or it is
    unreadable (then every frame counts as not done)."""
    try:
        data = json.loads((folder / "manifest.json").read_text())
        return {e["file"]: e for e in data["jobs"] if isinstance(e, dict) and "file" in e}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_manifest(folder: Path, head: dict[str, Any], entries: Iterable[dict[str, Any]]) -> None:
    """``folder/manifest.json``: ``head`` plus ``{"jobs": [...]}``, written atomically."""
    text = json.dumps({**head, "jobs": list(entries)}, indent=1)
    write_atomic(folder / "manifest.json", text.encode())


@dataclass
class Resume:
    """Which jobs to render, and the previous entries of those that are already done."""

    todo: list[Job] = field(default_factory=list)
    done: dict[int, dict[str, Any]] = field(default_factory=dict)


def frames_done(jobs: Sequence[Job], folder: Path, size: tuple[int, int], force: bool,
                blends: Path | None = None) -> Resume:
    """Split ``jobs`` into those to render and those already done: a frame is done when
    its PNG is whole, of ``size``, the previous manifest lists it with the same job key
    and status ``done``, and (with ``blends``) its .blend exists. ``force``: none is."""
    previous = {} if force else load_manifest(folder)
    out = Resume()
    for job in jobs:
        entry = previous.get(job.file)
        if (entry is not None and entry.get("key") == job.key()
                and entry.get("status") == "done"
                and png_ok(folder / job.file, size)
                and (blends is None or (blends / blend_name(job)).is_file())):
            out.done[job.index] = entry
        else:
            out.todo.append(job)
    return out


def blend_name(job: Job) -> str:
    return f"{job.index:04d}.blend"
