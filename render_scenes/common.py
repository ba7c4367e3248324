"""What the render scripts share: one-line usage errors, output checks, atomic PNGs, and
how a script ends (status 2 for bad input, 130/143 after Ctrl-C/SIGTERM, 1 on failure).

Importable without Blender, so argument handling is tested anywhere. The pieces every CLI
shares live in :mod:`scurve_geom.cli_common`; this module adapts them to Blender scripts.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from scurve_geom.cli_common import atomic, signals
from scurve_geom.cli_common.atomic import check_folder as writable_folder
from scurve_geom.cli_common.atomic import check_output_folder, temp_beside
from scurve_geom.cli_common.usage import OneLineParser as Parser
from scurve_geom.cli_common.usage import UsageError

__all__ = ["Parser", "UsageError", "check_output_folder", "render_png", "save_blend",
           "script_argv", "script_main", "temp_beside", "writable_folder"]


def script_argv(argv: Sequence[str] | None = None) -> list[str]:
    """The script's own arguments: after ``--`` under Blender, else ``sys.argv[1:]``."""
    if argv is not None:
        return list(argv)
    if "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1:]
    if any(a in ("-P", "--python") for a in sys.argv[1:]):
        return []  # `blender -b -P scurve.py` without arguments
    return sys.argv[1:]


def render_png(bpy: Any, scene: Any, path: Path, into: str | None = None) -> None:
    """Render the current frame to ``path``, appearing there only when complete.

    ``into``: a temporary file the caller's ``atomic_outputs`` made for ``path`` (the
    caller renames it); else this function makes and renames its own. The image is saved
    from the Render Result (``save_render``: the scene's format and colour management, the
    same bytes as ``write_still``) rather than by the render itself, whose "Saved:
    '.../.NAME.xxxx.png'" line would show the user a hidden temporary name.
    """
    if into is None:
        with atomic.atomic_outputs(path) as (tmp,):
            render_png(bpy, scene, path, into=tmp)
        return
    result = bpy.ops.render.render(write_still=False)
    image = next((im for im in bpy.data.images if im.type == "RENDER_RESULT"), None)
    if result != {"FINISHED"} or image is None:
        raise RuntimeError(f"the render of {path} was cancelled ({result})")
    image.save_render(filepath=into, scene=scene)
    if not os.path.getsize(into):
        raise RuntimeError(f"Blender wrote nothing for {path}")


def save_blend(bpy: Any, path: Path, into: str | None = None) -> None:
    """Save a copy of the open file to ``path`` (a .blend), appearing there only when complete.

    ``into`` as for :func:`render_png`. Blender writes ``FILE@`` and renames it itself; the
    copy goes to a hidden temporary name first (removed again before Blender writes, so no
    ``.blend1`` backup of it is made), and both names are tracked so a signal leaves
    neither behind. Blender's report of the save names ``path``, not the temporary file.
    """
    if into is None:
        with atomic.atomic_outputs(path) as (tmp,):
            save_blend(bpy, path, into=tmp)
        return
    os.unlink(into)
    atomic.track(into + "@")
    try:
        with _stdout_renamed({Path(into).name: Path(path).name}):
            bpy.ops.wm.save_as_mainfile(filepath=str(Path(into).resolve()), copy=True)
    finally:
        atomic.discard(into + "@")
    if not os.path.exists(into):
        raise RuntimeError(f"Blender did not write {path}")


@contextlib.contextmanager
def _stdout_renamed(names: dict[str, str]) -> Iterator[None]:
    """What Blender prints (from C, on file descriptor 1) within the block, with each key of
    ``names`` replaced by its value: its report of a save (``Info: Saved copy as
    ".NAME.xxxx.blend"``) names the output. Only for short calls: the text is held back
    until the block ends."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    with tempfile.TemporaryFile() as held:
        try:
            os.dup2(held.fileno(), 1)
            yield
        finally:
            sys.stdout.flush()
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            held.seek(0)
            text = held.read().decode(errors="replace")
            for old, new in names.items():
                text = text.replace(old, new)
            with contextlib.suppress(OSError):
                sys.stdout.write(text)
                sys.stdout.flush()


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
