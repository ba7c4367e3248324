"""Publish the extension into a static extension repository (issue 21).

Run with a Python that has the ``bpy`` wheel, as ``make extension-repo`` does::

    .venv-bpy45/bin/python tools/build_repository.py [--repo-dir dist/repo] [--blender PATH]

Builds ``scurve_mirror-<version>.zip`` (``tools/build_extension.py``) into the folder,
removes the zips of earlier versions (a repository lists one package per id and
Blender version range, and the new one replaces them), then writes ``index.json`` and
``index.html`` with Blender's own ``server-generate``: the bpy wheel's copy of the
extension tool, the code ``blender --command extension server-generate --repo-dir=DIR
--html`` runs, or that very command when ``--blender`` names a Blender. Upload the
folder to any static host; users add ``<url>/index.json`` as a remote repository.
Exit status 0 on success; the index's path is printed last.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from build_extension import ROOT, bpy_scripts_dir, build

ID = "scurve_mirror"


def server_generate(repo_dir: Path, blender: str | None = None) -> Path:
    """Run Blender's ``server-generate --html`` on ``repo_dir``; return ``index.json``."""
    if blender:
        cmd = [blender, "--factory-startup", "--command", "extension", "server-generate",
               f"--repo-dir={repo_dir}", "--html"]
    else:
        tool = bpy_scripts_dir() / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
        cmd = [sys.executable, str(tool), "server-generate", f"--repo-dir={repo_dir}",
               "--html"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    index = repo_dir / "index.json"
    if proc.returncode or not index.is_file():
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"server-generate failed with status {proc.returncode}")
    return index


def publish(repo_dir: Path, blender: str | None = None) -> Path:
    """Build the zip into ``repo_dir``, drop older ones of this id, regenerate the index."""
    repo_dir.mkdir(parents=True, exist_ok=True)
    new = build(repo_dir)
    for old in repo_dir.glob(f"{ID}-*.zip"):
        if old != new:
            old.unlink()
    index = server_generate(repo_dir, blender)
    listed = [(p["id"], p["version"]) for p in json.loads(index.read_text())["data"]]
    if (ID, new.stem.removeprefix(f"{ID}-")) not in listed:
        raise SystemExit(f"{index} does not list {new.name}: {listed}")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-dir", type=Path, default=ROOT / "dist" / "repo",
                        help="the repository folder (default: dist/repo/)")
    parser.add_argument("--blender", help="run `BLENDER --command extension "
                        "server-generate` instead of the bpy wheel's copy of the tool")
    args = parser.parse_args(argv)
    print(publish(args.repo_dir.resolve(), args.blender))
    return 0


if __name__ == "__main__":
    sys.exit(main())
