"""Generate the extension's node-group asset library (issue 21) from the add-on's code.

Run with a Python that has the ``bpy`` wheel (``tools/build_extension.py`` does, into its
staging folder)::

    .venv-bpy45/bin/python tools/build_assets.py OUT_DIR

writes ``OUT_DIR/scurve_mirror_nodes.blend`` (the "S-Curve Mirror" Geometry Nodes group
built by ``blender_addon.mirror_nodes.ensure_node_group``, flagged as a modifier, marked
as an asset in the *Generate* catalog) and ``OUT_DIR/blender_assets.cats.txt``, and prints
the files written, one per line. No binary is kept in the repository: every build makes
the ``.blend`` from the same code that builds the group inside Blender.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(out_dir: Path, python: str = sys.executable) -> list[Path]:
    """Write the library into ``out_dir`` in a child bpy process; return the files.

    A child process, because importing bpy starts a whole Blender, which the calling
    build script does not otherwise need.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([python, str(Path(__file__).resolve()), str(out_dir)],
                          capture_output=True, text=True, timeout=300, env=env)
    files = [Path(line.removeprefix("WROTE ")) for line in proc.stdout.splitlines()
             if line.startswith("WROTE ")]
    if proc.returncode or not files:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"tools/build_assets.py failed with status {proc.returncode}")
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: build_assets.py OUT_DIR", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    import bpy  # noqa: F401  (starts Blender; the add-on's modules need it)

    from blender_addon import assets

    out = Path(argv[0]).resolve()
    blend = assets.write_library(out)
    for path in (blend, out / assets.CATALOGS_FILE):
        print(f"WROTE {path}", flush=True)
    # Leave without Blender's atexit teardown (4.2 segfaults, 4.5 may hang there).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
