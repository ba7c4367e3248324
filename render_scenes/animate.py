"""``scurve.py --animate PARAM=A:B --frames N``: a parameter animated through the
procedural mirror.

The animated inputs of the mirror's Geometry Nodes modifier get linear keyframes from
A at frame 1 to B at frame N, so a .blend saved with ``--save-blend`` plays (and renders
on a farm, frame by frame, with plain Blender) the same animation. Everything here that
needs no Blender (parsing, per-frame values) is importable without it.

For a farm, ``scurve.py ... --animate s_amplitude=0:0.9 --frames 48 --frame-range 13 24``
renders one worker's share (``frame_0013.png`` .. ``frame_0024.png``); or in Python::

    args = scurve.parse_args([... "--animate", "s_amplitude=0:0.9", "--frames", "48"])
    with scurve.staged_scene(args) as (scene, mirror):   # keyframes included
        for k in my_frames:                                # 1-based frame numbers
            apply_frame(scene, mirror, args, k)            # the mirror at frame k
            render_png(bpy, scene, frame_path(args.out, k))

or ``blender -b saved.blend -f k``, which evaluates the same keyframes.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from render_scenes.common import UsageError, render_png
from scurve_geom import MirrorParams, build_grid

__all__ = [
    "ANIMATABLE",
    "Animation",
    "add_arguments",
    "apply_frame",
    "check_animation",
    "check_arguments",
    "frame_numbers",
    "frame_params",
    "frame_path",
    "keyframe",
    "parse_animation",
    "render_frames",
    "staging_params",
]

#: Numeric MirrorParams fields that can be animated (ints step, as the modifier rounds).
ANIMATABLE = ("radius", "half_length", "circle_vertices", "length_segments", "arch_angle",
              "s_amplitude")


@dataclass(frozen=True)
class Animation:
    """One animated parameter: ``field`` from ``start`` to ``end`` (metres or radians)."""

    field: str
    start: float
    end: float

    def value(self, k: int, frames: int) -> float:
        """The value at 1-based frame ``k`` of ``frames`` (linear in the frame number)."""
        t = (k - 1) / (frames - 1)
        return self.start + (self.end - self.start) * t


def parse_animation(text: str) -> Animation:
    """``PARAM=A:B`` (``s_amplitude=0:0.9``, ``arch-angle=100:180`` in degrees) for argparse.

    Raises ``argparse.ArgumentTypeError`` naming what is wrong.
    """
    name, sep, span = text.partition("=")
    field = name.strip().replace("-", "_")
    a, colon, b = span.partition(":")
    if not sep or not colon:
        raise argparse.ArgumentTypeError(f"{text!r} is not PARAM=A:B (e.g. s_amplitude=0:0.9)")
    if field not in ANIMATABLE:
        raise argparse.ArgumentTypeError(
            f"{name!r} cannot be animated: choose one of {', '.join(ANIMATABLE)}")
    try:
        start, end = float(a), float(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{span!r} is not two numbers A:B") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise argparse.ArgumentTypeError(f"{span!r}: A and B must be finite")
    if field == "arch_angle":
        start, end = math.radians(start), math.radians(end)
    return Animation(field, start, end)


def frame_params(base: MirrorParams, animations: list[Animation], k: int,
                 frames: int) -> MirrorParams:
    """The mirror's parameters at 1-based frame ``k``: ``base`` with the animated values
    (integers rounded, as the modifier's integer inputs round their keyframes)."""
    changes: dict[str, Any] = {}
    for anim in animations:
        value = anim.value(k, frames)
        changes[anim.field] = round(value) if isinstance(getattr(base, anim.field), int) \
            else value
    return base.replace(**changes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--animate``, ``--frames``, ``--frame-range`` and ``--procedural``."""
    parser.add_argument("--animate", type=parse_animation, action="append", default=None,
                        metavar="PARAM=A:B",
                        help="render an animation of a parameter from A to B through the "
                        "procedural mirror (e.g. s_amplitude=0:0.9; angles in degrees); "
                        "repeatable")
    parser.add_argument("--frames", type=int, default=24, metavar="N",
                        help="with --animate: number of frames (default %(default)s)")
    parser.add_argument("--frame-range", type=int, nargs=2, default=None,
                        metavar=("FIRST", "LAST"),
                        help="with --animate: render only frames FIRST..LAST (1-based, "
                        "inclusive; a farm's share of the N frames)")
    parser.add_argument("--procedural", action="store_true",
                        help="make the mirror with the add-on's Geometry Nodes group "
                        "(implied by --animate), e.g. for --save-blend")


def check_arguments(args: argparse.Namespace) -> None:
    """Validate the animation flags against the others (:class:`UsageError`); with
    ``--animate`` the mirror is procedural."""
    if args.animate is not None:
        if args.turntable is not None:
            raise UsageError("--animate and --turntable cannot be combined")
        check_animation(args)
        args.procedural = True
    if args.frame_range is not None and args.animate is None:
        raise UsageError("--frame-range needs --animate")


def check_animation(args: argparse.Namespace) -> None:
    """Validate every frame's parameters up front (a bend limit that depends on an
    animated half length, an odd vertex count on the way); :class:`UsageError` naming
    the first bad frame."""
    fields = [a.field for a in args.animate]
    if len(set(fields)) != len(fields):
        raise UsageError(f"--animate names a parameter twice: {', '.join(fields)}")
    if args.frames < 2:
        raise UsageError(f"--frames {args.frames}: an animation needs at least 2 frames")
    for k in range(1, args.frames + 1):
        try:
            frame_params(args.params, args.animate, k, args.frames)
        except ValueError as exc:
            raise UsageError(f"--animate at frame {k}: {exc}") from None
    if args.frame_range is not None:
        first, last = args.frame_range
        if not 1 <= first <= last <= args.frames:
            raise UsageError(f"--frame-range {first} {last} must lie within 1..{args.frames}, "
                             "first <= last")
        if args.video:
            raise UsageError("--video needs every frame: drop --frame-range")


def frame_numbers(args: argparse.Namespace) -> range:
    """The 1-based frames this run renders: all N, or ``--frame-range FIRST LAST``."""
    first, last = args.frame_range or (1, args.frames)
    return range(first, last + 1)


def staging_params(args: argparse.Namespace) -> MirrorParams:
    """The end frame (first or last) whose mirror is larger: the stage and its cameras
    are fitted around it, so the animation stays in the picture."""
    ends = [frame_params(args.params, args.animate, k, args.frames) for k in (1, args.frames)]

    def extent(p: MirrorParams) -> float:
        v = build_grid(p).vertices
        return float(((v.max(axis=0) - v.min(axis=0)) ** 2).sum())

    return max(ends, key=extent)


def frame_path(folder: Path, k: int) -> Path:
    """Where frame ``k`` (1-based) is written."""
    return folder / f"frame_{k:04d}.png"


# -- needs bpy -------------------------------------------------------------------------


def keyframe(scene: Any, mirror: Any, args: argparse.Namespace) -> None:
    """Linear keyframes on the procedural mirror's animated inputs, frames 1..N."""
    from blender_addon import mirror_nodes, mirror_object

    mod = mirror_object.geometry_modifier(mirror)
    if mod is None:
        raise RuntimeError("--animate needs the procedural mirror")
    scene.frame_start, scene.frame_end = 1, args.frames
    for anim in args.animate:
        path = mirror_nodes.input_path(mod, anim.field)
        ident = path.rsplit('"', 2)[1]
        for k in (1, args.frames):
            value = frame_params(args.params, [anim], k, args.frames)
            mod[ident] = getattr(value, anim.field)
            mirror.keyframe_insert(data_path=path, frame=k)
    _make_linear(mirror)


def _make_linear(obj: Any) -> None:
    # Keyframes default to Bezier ease-in/out; a parameter sweep should be linear.
    from blender_addon import compat

    for fcurve in compat.animation_fcurves(obj):
        for point in fcurve.keyframe_points:
            point.interpolation = "LINEAR"


def apply_frame(scene: Any, mirror: Any, args: argparse.Namespace, k: int) -> MirrorParams:
    """Put the scene at 1-based frame ``k``: the keyframed inputs take their values there.

    Returns the parameters the mirror has at ``k``, read back from its modifier (what
    :func:`frame_params` computes, up to float32 and Blender's rounding of integers).
    """
    from blender_addon import mirror_object

    scene.frame_set(k)
    return mirror_object.object_params(mirror)


def render_frames(bpy: Any, scene: Any, mirror: Any, args: argparse.Namespace,
                  progress: Callable[[int, int, float, float], None]) -> list[Path]:
    """Render frames 1..N (or ``--frame-range``) into ``args.out`` (``frame_0001.png`` ...);
    their paths.

    ``progress(done, total, started, frame_seconds)`` is called after each frame.
    """
    args.out.mkdir(parents=True, exist_ok=True)
    frames = []
    numbers = frame_numbers(args)
    started = time.perf_counter()
    for done, k in enumerate(numbers, 1):
        apply_frame(scene, mirror, args, k)
        path = frame_path(args.out, k)
        t0 = time.perf_counter()
        render_png(bpy, scene, path)
        frames.append(path)
        progress(done, len(numbers), started, time.perf_counter() - t0)
    print(f"scurve.py: wrote {len(numbers)} frames to {args.out}", file=sys.stderr)
    return frames
