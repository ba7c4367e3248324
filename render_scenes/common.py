"""What the render scripts share: one-line usage errors, output checks, atomic PNGs.

Importable without Blender, so argument handling is tested anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["Parser", "UsageError", "render_png", "script_argv", "script_main",
           "temp_beside", "writable_folder"]


class UsageError(Exception):
    """A bad argument: one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints its whole usage block; scripts and tests want one line.
        raise UsageError(message)


def writable_folder(folder: Path, what: str) -> None:
    """Raise :class:`UsageError` unless a file can be created in ``folder``."""
    if not folder.is_dir():
        raise UsageError(f"cannot write {what}: folder {str(folder)!r} does not exist")
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


def temp_beside(path: Path, suffix: str) -> str:
    """A new empty file next to ``path`` with the permissions a plain ``open`` would give."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    # mkstemp makes 0600 files; the renamed result should look like any other output.
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def render_png(bpy: Any, scene: Any, path: Path) -> None:
    """Render the current frame to ``path``, appearing there only when complete."""
    tmp = temp_beside(path, ".png")
    try:
        scene.render.filepath = tmp
        scene.render.use_file_extension = False
        bpy.ops.render.render(write_still=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
    try:
        args = parse(script_argv(argv))
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        import bpy  # noqa: F401
    except ImportError:
        print(f"{prog}: error: needs Blender: run `{usage}` or a Python with the bpy module "
              "(.venv-bpy45)", file=sys.stderr)
        return 2
    try:
        return run(args)
    except Exception:
        # `blender -b -P script.py` exits 0 after an uncaught exception; a caller (a shell
        # script, CI, a farm) must see the failure, so the script says it with its status.
        traceback.print_exc()
        print(f"{prog}: error: failed (traceback above)", file=sys.stderr)
        return 1
