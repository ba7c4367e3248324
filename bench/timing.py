"""What the bench scripts share: the shortest wall time of repeated calls, and the result file.

Every bench whose numbers the README or docs quote writes them with :func:`write_result`
into ``bench/results/<name>.json``, next to how they were made (the command, the date, the
machine's load average, the Python, numpy and Blender versions). ``bench/figures.py`` and
``tests/test_bench_figures.py`` check the quoted numbers against these files.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Shortest wall time of ``repeats`` calls, seconds."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def blender_tag() -> str:
    """``"_bpy45"`` for Blender 4.5 (module or binary), ``""`` outside Blender.

    Appended to a result's name, so one bench run in several Blenders (or in Blender's Python
    and the development one) keeps one file per environment.
    """
    bpy = sys.modules.get("bpy")
    if bpy is None:
        return ""
    major, minor = bpy.app.version[:2]
    return f"_bpy{major}{minor}"


def run_info(argv: list[str] | None = None) -> dict[str, Any]:
    """How this run was made: command, UTC date, machine, load average, versions."""
    args = sys.argv if argv is None else argv
    script = args[0] if args else ""
    root = RESULTS.parent.parent
    if script and Path(script).resolve().is_relative_to(root):
        script = os.path.relpath(Path(script).resolve(), root)
    info: dict[str, Any] = {
        "command": shlex.join([script, *args[1:]]),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        # 1, 5 and 15 minutes: other processes share the cores, so absolute times move
        # with this; ratios measured in the same run much less.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
    }
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        info["numpy"] = numpy.__version__
    bpy = sys.modules.get("bpy")
    if bpy is not None:
        info["blender"] = bpy.app.version_string
    return info


def write_result(name: str, numbers: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write ``numbers`` with :func:`run_info` as ``run`` to ``bench/results/<name>.json``.

    ``path`` overrides the file (a bench's ``--json``). Written whole or not at all (a temp
    file renamed over the old one). Returns the path written.
    """
    out = Path(path) if path is not None else RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"run": run_info(), **numbers}
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}", file=sys.stderr)
    return out
