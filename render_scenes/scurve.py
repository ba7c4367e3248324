"""Render the S-curve mirror on its stage, headless.

    blender -b -P render_scenes/scurve.py -- --out out/scurve.png --camera concave
    python render_scenes/scurve.py --out out/scurve.png --camera concave   # bpy module

Both run the add-on's own code: the mirror comes from its "Add S-Curve Mirror"
operator, the scene from ``blender_addon.stage.setup_stage`` (what "Set Up Mirror
Stage" runs). Every ``MirrorParams`` field is a flag that overrides the preset.

Bad arguments, an unknown preset or an unwritable output exit with status 2 and one
line on stderr, before anything is written. Progress goes to stderr, one line per
frame with the time left. Files appear whole: each is rendered to a temporary name
in its folder and renamed when complete.

The parser needs no Blender (only ``scurve_geom``), so it can be tested anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    # Blender's own Python and a plain checkout have neither package installed.
    sys.path.insert(0, str(REPO))

from render_scenes import animate  # noqa: E402
from render_scenes.common import (  # noqa: E402
    Parser,
    UsageError,
    check_output_folder,
    render_png,
    save_blend,
    script_main,
    writable_folder,
)
from render_scenes.face_planes import (  # noqa: E402
    add_face_arguments,
    check_face_arguments,
    place_faces,
)
from render_scenes.limits import check_limits  # noqa: E402
from render_scenes.stage_args import (  # noqa: E402
    _positive_int,
    add_stage_arguments,
    stage_from_args,
)
from scurve_geom import PRESETS, MirrorParams  # noqa: E402
from scurve_geom.cli import add_param_arguments, params_from_args  # noqa: E402
from scurve_geom.cli_common.atomic import atomic_outputs  # noqa: E402
from scurve_geom.params import SMOOTH_LEVELS, look_levels  # noqa: E402
from scurve_geom.stage_params import StageParams  # noqa: E402

PROG = "scurve.py"
#: Samples when ``--samples`` is not given: the stage's (``StageParams``).
DEFAULT_SAMPLES = StageParams().samples
DEFAULT_RESOLUTION = (960, 540)
DEFAULT_PRESET = "smooth"
#: Subdivision levels given to a grid too coarse to render smoothly (the seed's one strip
#: per half) when ``--subdivision-levels`` is not passed: the add-on's default look
#: (``scurve_geom.params.look_levels``).
COARSE_LEVELS = SMOOTH_LEVELS


def make_parser() -> argparse.ArgumentParser:
    """The argument parser; geometry flags are generated from ``MirrorParams``."""
    p = Parser(
        prog=PROG,
        description="Render the S-curve mirror on its stage (Cycles or EEVEE), headless.",
        epilog="Lengths in metres, angles in degrees. Under Blender, put the arguments "
        "after '--'.",
    )
    p.add_argument("--out", type=Path, default=None,
                   help="PNG file to write (default out/scurve.png); with --turntable a "
                   "folder for the frames (default out/turntable)")
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help=f"geometry preset (default {DEFAULT_PRESET}; one of {', '.join(PRESETS)})")
    p.add_argument("--resolution", type=_positive_int, nargs=2, metavar=("W", "H"),
                   default=DEFAULT_RESOLUTION, help="image size in pixels (default %(default)s)")
    p.add_argument("--engine", choices=("cycles", "eevee"), default="cycles")
    p.add_argument("--seed", type=int, default=0, help="Cycles noise seed (default 0)")
    p.add_argument("--turntable", type=int, default=None, metavar="N",
                   help="render an N-frame orbit of the camera around the mirror")
    p.add_argument("--fps", type=_positive_int, default=24, help="video frame rate")
    p.add_argument("--video", action="store_true",
                   help="with --turntable or --animate: also encode the frames to an MP4 "
                   "(H.264, Blender's own FFmpeg) in the frames' folder")
    p.add_argument("--save-blend", type=Path, default=None, metavar="PATH",
                   help="also save the scene as a .blend file")
    add_stage_arguments(p)
    animate.add_arguments(p)
    # 0 by default: a plain stage; `make demo` asks for the faces.
    add_face_arguments(p, default_count=0)
    add_param_arguments(p)
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse and validate everything that can be checked without Blender.

    Adds ``params`` (the validated :class:`MirrorParams`) and ``stage`` (the validated
    :class:`StageParams`), and resolves ``out``.

    Raises
    ------
    UsageError
        With a one-line message, for any bad argument.
    """
    args = make_parser().parse_args(list(argv))
    if args.preset not in PRESETS:
        raise UsageError(f"preset {args.preset!r} is unknown: choose one of {', '.join(PRESETS)}")
    try:
        params = params_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.subdivision_levels is None and params.subdivision_levels == 0:
        params = params.replace(subdivision_levels=look_levels(params))
    args.params = params
    check_face_arguments(args)
    w, h = args.resolution
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise UsageError(f"resolution {w}x{h} is out of range: 16 to 16384 pixels per side")
    args.stage = stage_from_args(args)
    if args.turntable is not None and args.turntable < 2:
        raise UsageError(f"--turntable {args.turntable}: an orbit needs at least 2 frames")
    animate.check_arguments(args)
    check_limits(args)
    if args.video and args.turntable is None and args.animate is None:
        raise UsageError("--video needs --turntable N or --animate (the video is made from "
                         "their frames)")
    if args.turntable is None and args.animate is None:
        args.out = args.out or Path("out/scurve.png")
        if args.out.suffix.lower() != ".png":
            raise UsageError(f"cannot write {str(args.out)!r}: --out must end in .png")
        if args.out.is_dir():
            raise UsageError(f"cannot write {str(args.out)!r}: it is a folder")
        writable_folder(args.out.parent, repr(str(args.out)))
    else:
        args.out = args.out or Path("out/turntable" if args.animate is None else "out/animate")
        # The folder itself may be created; its parent must exist and be writable.
        check_output_folder(args.out, "--out")
    if args.save_blend is not None:
        if args.save_blend.suffix.lower() != ".blend":
            raise UsageError(f"cannot write {str(args.save_blend)!r}: "
                             "--save-blend must end in .blend")
        writable_folder(args.save_blend.parent, repr(str(args.save_blend)))
    return args


# -- rendering (needs bpy) ---------------------------------------------------------------


def _progress(done: int, total: int, started: float, frame_time: float) -> None:
    elapsed = time.perf_counter() - started
    left = elapsed / done * (total - done)
    print(f"{PROG}: frame {done}/{total} rendered in {frame_time:.1f} s, "
          f"{_clock(left)} left", file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _add_mirror(bpy: Any, params: MirrorParams, procedural: bool = False) -> Any:
    values = params.to_dict()
    result = bpy.ops.mesh.scurve_mirror_add(procedural=procedural, **values)
    if result != {"FINISHED"}:
        raise RuntimeError(f"Add S-Curve Mirror returned {result}")
    return bpy.context.active_object


def _encode_video(bpy: Any, compat: Any, frames: list[Path], out: Path, size: tuple[int, int],
                  fps: int) -> None:
    """Encode ``frames`` to ``out`` (MP4) with Blender's FFmpeg through the sequencer."""
    enc = bpy.data.scenes.new("S-Curve Encode")
    try:
        strip = compat.new_image_strip(enc, frames)
        enc.frame_start, enc.frame_end = 1, len(frames)
        enc.render.resolution_x, enc.render.resolution_y = size
        enc.render.resolution_percentage = 100
        enc.render.fps = fps
        compat.configure_mp4(enc.render)
        with atomic_outputs(out) as (tmp,):
            enc.render.filepath = tmp
            enc.render.use_file_extension = False
            bpy.ops.render.render(animation=True, scene=enc.name)
            if os.path.getsize(tmp) == 0:
                raise RuntimeError("FFmpeg wrote an empty video")
        del strip
    finally:
        bpy.data.scenes.remove(enc)


class SceneError(Exception):
    """The scene cannot be built as asked (e.g. ``--device gpu`` without a GPU): exit 2."""


@contextlib.contextmanager
def staged_scene(args: argparse.Namespace) -> Iterator[Any]:
    """A factory-fresh scene with the mirror and its stage as ``args`` describe; yields
    ``(scene, mirror)``. The add-on is registered inside the block only.

    Raises
    ------
    SceneError
        When the stage rejects the settings (the message is one line).
    """
    import bpy

    import blender_addon
    from blender_addon import compat, stage
    from render_scenes import checkout

    # The factory scene, not the factory preferences: those would disable (and Blender then
    # delete the wheel files of) the user's installed extension in the middle of the run.
    checkout.set_aside_installed()
    checkout.fresh_scene(bpy)
    blender_addon.register()
    try:
        scene = bpy.context.scene
        scene.render.resolution_x, scene.render.resolution_y = args.resolution
        scene.render.resolution_percentage = 100
        # An animation is staged around its larger end, so every frame stays in view.
        mirror = _add_mirror(bpy, animate.staging_params(args) if args.animate else args.params,
                             procedural=args.procedural)
        try:
            stage.setup_stage(bpy.context, mirror, args.stage)
        except ValueError as exc:
            raise SceneError(str(exc)) from None
        note = stage.denoise_note(scene)
        if note and args.engine == "cycles":
            print(f"scurve.py: {note}", flush=True)
        scene.cycles.seed = args.seed
        if args.engine == "eevee":
            scene.render.engine = compat.eevee_engine_id()
            scene.eevee.taa_render_samples = args.samples
            # EEVEE Next (4.2+) traces screen-space rays; without them a mirror only
            # shows the world probe, dark where the ground should be.
            compat.set_if_present(scene.eevee, use_raytracing=True, ray_tracing_method="SCREEN",
                                  use_shadows=True)
        compat.configure_png(scene.render)
        try:
            place_faces(bpy.context, mirror, args)
        except ValueError as exc:
            raise SceneError(str(exc)) from None
        if args.animate:
            animate.keyframe(scene, mirror, args)
            animate.apply_frame(scene, mirror, args, 1)
        yield scene, mirror
    finally:
        # A class left registered makes bpy 4.2 crash and 4.5 hang at interpreter exit.
        blender_addon.unregister()


def render(args: argparse.Namespace) -> int:
    """Build mirror and stage with the add-on's code and render; returns an exit status."""
    import bpy
    from mathutils import Matrix

    from blender_addon import compat
    from render_scenes import checkout

    if args.video and not compat.ffmpeg_available():
        print(f"{PROG}: error: this Blender has no FFmpeg; drop --video", file=sys.stderr)
        return 2
    try:
        with staged_scene(args) as (scene, mirror):
            print(checkout.describe(PROG), file=sys.stderr, flush=True)
            _report(scene, mirror, args)
            still = args.turntable is None and args.animate is None
            if args.save_blend is not None and not still:
                save_blend(bpy, args.save_blend)
            if args.animate is not None:
                frames = animate.render_frames(bpy, scene, mirror, args, _progress)
                if args.video:
                    video = args.out / "animate.mp4"
                    _encode_video(bpy, compat, frames, video, tuple(args.resolution), args.fps)
                    print(f"{PROG}: wrote {video}", file=sys.stderr)
                return 0
            if still:
                # The picture and the .blend together or neither.
                outputs = [p for p in (args.out, args.save_blend) if p is not None]
                started = time.perf_counter()
                with atomic_outputs(*outputs) as tmps:
                    if args.save_blend is not None:
                        save_blend(bpy, args.save_blend, into=tmps[1])
                    render_png(bpy, scene, args.out, into=tmps[0])
                _progress(1, 1, started, time.perf_counter() - started)
                print(f"{PROG}: wrote {args.out}", file=sys.stderr)
                return 0
            frames = _turntable(bpy, Matrix, scene, mirror, args)
            if args.video:
                video = args.out / "turntable.mp4"
                _encode_video(bpy, compat, frames, video, tuple(args.resolution), args.fps)
                print(f"{PROG}: wrote {video}", file=sys.stderr)
            return 0
    except SceneError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


def _report(scene: Any, mirror: Any, args: argparse.Namespace) -> None:
    device = f" {scene.cycles.device}" if args.engine == "cycles" else ""
    print(f"{PROG}: {args.preset} mirror ({args.params.base_counts()[0]} vertices, subdivision "
          f"{args.params.subdivision_levels}), {args.engine}{device} "
          f"{args.resolution[0]}x{args.resolution[1]}, {_samples(scene, args)} samples, "
          f"camera {args.camera}, {args.face_planes} face planes", file=sys.stderr, flush=True)


def _samples(scene: Any, args: argparse.Namespace) -> int:
    # The stage raises Cycles' samples where the build has no denoiser.
    return int(scene.cycles.samples) if args.engine == "cycles" else int(args.samples)


def _turntable(bpy: Any, Matrix: Any, scene: Any, mirror: Any,
               args: argparse.Namespace) -> list[Path]:
    """Render ``args.turntable`` frames of a full orbit into ``args.out``; their paths."""
    args.out.mkdir(parents=True, exist_ok=True)
    start = scene.camera.matrix_world.copy()
    n = args.turntable
    frames = []
    started = time.perf_counter()
    for k in range(n):
        orbit_camera(Matrix, scene, mirror, start, k, n)
        path = args.out / f"frame_{k + 1:04d}.png"
        t0 = time.perf_counter()
        render_png(bpy, scene, path)
        frames.append(path)
        _progress(k + 1, n, started, time.perf_counter() - t0)
    print(f"{PROG}: wrote {n} frames to {args.out}", file=sys.stderr)
    return frames


def orbit_camera(Matrix: Any, scene: Any, mirror: Any, start: Any, k: int, n: int) -> None:
    """Turn the scene camera from its ``start`` matrix by 2πk/n radians about the vertical
    through the mirror's centre (keeping the view's aim), and go to frame k + 1: step k of
    an n-frame turntable. The farm renders single steps with it."""
    centre = sum(_bbox(mirror), start.translation * 0) / 8
    pivot = Matrix.Translation((centre.x, centre.y, 0.0))
    angle = 2 * math.pi * k / n
    scene.camera.matrix_world = pivot @ Matrix.Rotation(angle, 4, "Z") @ pivot.inverted() @ start
    scene.frame_set(k + 1)


def _bbox(obj: Any) -> list[Any]:
    from mathutils import Vector

    return [obj.matrix_world @ Vector(c) for c in obj.bound_box]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 2 on bad arguments (one line on stderr), 1 on failure."""
    return script_main(PROG, parse_args, render, f"blender -b -P {PROG} -- ...", argv)


if __name__ == "__main__":
    sys.exit(main())
