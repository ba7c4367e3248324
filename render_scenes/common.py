"""What the render scripts share: one-line usage errors, output checks, atomic PNGs, and
how a script ends (status 2 for bad input, 130/143 after Ctrl-C/SIGTERM, 1 on failure).

Importable without Blender, so argument handling is tested anywhere. The pieces every CLI
shares live in :mod:`scurve_geom.cli_common`; this module adapts them to Blender scripts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scurve_geom.cli_common import atomic, signals
from scurve_geom.cli_common.atomic import temp_beside
from scurve_geom.cli_common.usage import OneLineParser as Parser
from scurve_geom.cli_common.usage import UsageError

__all__ = ["Parser", "UsageError", "render_png", "save_blend", "script_argv", "script_main",
           "temp_beside", "writable_folder"]


def writable_folder(folder: Path, what: str) -> None:
    """Raise :class:`UsageError` unless a file can be created in ``folder``, or ``folder``
    is missing and can be made (with its missing parents, as ``mkdir -p`` does: the
    default ``out/...`` outputs in a fresh clone, where ``out/`` is not there yet)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {what}: {str(folder)!r} is not a folder")
    try:
        # os.access says yes to root on a read-only file system; creating a file is
        # the only honest test.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".scurve-probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write {what}: {exc.strerror or exc}") from None


def script_argv(argv: Sequence[str] | None = None) -> list[str]:
    """The script's own arguments: after ``--`` under Blender, else ``sys.argv[1:]``."""
    if argv is not None:
        return list(argv)
    if "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1:]
    if any(a in ("-P", "--python") for a in sys.argv[1:]):
        return []  # `blender -b -P scurve.py` without arguments
    return sys.argv[1:]


def render_png(bpy: Any, scene: Any, path: Path) -> None:
    """Render the current frame to ``path``, appearing there only when complete."""
    with atomic.atomic_outputs(path) as (tmp,):
        scene.render.filepath = tmp
        scene.render.use_file_extension = False
        bpy.ops.render.render(write_still=True)
        if not os.path.getsize(tmp):
            # A render cancelled inside Blender returns without writing the image.
            raise RuntimeError(f"the render of {path} was cancelled or wrote nothing")


def save_blend(bpy: Any, path: Path) -> None:
    """Save a copy of the open file to ``path`` (a .blend), appearing there only when complete.

    Blender writes ``FILE@`` and renames it itself; the copy goes to a hidden temporary name
    first (removed again before Blender writes, so no ``.blend1`` backup of it is made), and
    both names are tracked so a signal leaves neither behind.
    """
    with atomic.atomic_outputs(path) as (tmp,):
        os.unlink(tmp)
        atomic.track(tmp + "@")
        try:
            bpy.ops.wm.save_as_mainfile(filepath=str(Path(tmp).resolve()), copy=True)
        finally:
            atomic.discard(tmp + "@")
        if not os.path.exists(tmp):
            raise RuntimeError(f"Blender did not write {path}")


def script_main(
    prog: str,
    parse: Callable[[Sequence[str]], argparse.Namespace],
    run: Callable[[argparse.Namespace], int],
    usage: str,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse (exit 2 with one line on a :class:`UsageError`), check for bpy, then run.

    ``usage`` is how to start the script under Blender, for the message shown when the
    Python running it has no ``bpy`` module.
    """
    old = signals.install()
    try:
        return _script_main(prog, parse, run, usage, argv)
    finally:
        signals.restore(old)


def _script_main(
    prog: str,
    parse: Callable[[Sequence[str]], argparse.Namespace],
    run: Callable[[argparse.Namespace], int],
    usage: str,
    argv: Sequence[str] | None,
) -> int:
    try:
        args = parse(script_argv(argv))
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"{prog}: interrupted", file=sys.stderr)
        return signals.exit_status(exc)
    try:
        import bpy  # noqa: F401
    except ImportError:
        print(f"{prog}: error: needs Blender: run `{usage}` or a Python with the bpy module "
              "(.venv-bpy45)", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"{prog}: interrupted", file=sys.stderr)
        return signals.exit_status(exc)
    try:
        # Blender's render loop swallows the KeyboardInterrupt a Ctrl-C raises in Cycles'
        # Python and renders on: end the process from a watcher thread instead, leaving
        # only whole files (scurve_geom.cli_common.signals.hard_stop).
        with signals.hard_stop(prog):
            return run(args)
    except Exception:
        # `blender -b -P script.py` exits 0 after an uncaught exception; a caller (a shell
        # script, CI, a farm) must see the failure, so the script says it with its status.
        traceback.print_exc()
        print(f"{prog}: error: failed (traceback above)", file=sys.stderr)
        return 1
