"""Add face planes to an existing .blend, headless; and the face-plane flags both scripts share.

    blender -b scene.blend -P render_scenes/face_planes.py -- --face-planes 6 --save out.blend
    python render_scenes/face_planes.py --blend scene.blend --face-planes 6 --save out.blend \
        [--faces DIR | --decoder NPZ] [--face-mode normal|uniform|interpolate] [--render out.png]
        [--face-layout camera|arc|row|ring] [--face-visibility reflected|visible]

The file must hold an S-curve mirror (made by the add-on or ``render_scenes/scurve.py``).
Faces are decoded with the numpy decoder (the shipped one unless ``--decoder``), or taken
from a folder of pictures (``--faces``); the planes are placed by the add-on's own code
("Add Face Planes"), and their images are packed into the saved file.

Bad arguments exit with status 2 and one line on stderr, before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# First: importing the package makes this checkout's packages the ones imported, not an
# installed extension's copies (render_scenes.checkout).
import render_scenes  # noqa: E402, F401
from latent_faces.sampling import MODES  # noqa: E402
from render_scenes.common import (  # noqa: E402
    Parser,
    UsageError,
    render_png,
    save_blend,
    script_main,
    writable_folder,
)
from render_scenes.limits import FACE_FLAGS, check_limits  # noqa: E402
from scurve_geom.cli_common.atomic import atomic_outputs  # noqa: E402
from scurve_geom.placement.layout import FACE_LAYOUTS, MAX_PLANES, VISIBILITIES  # noqa: E402

PROG = "face_planes.py"
# One home each: the latent modes in latent_faces, the layouts, visibilities and the
# plane limit in scurve_geom.placement.layout (the add-on's panel reads them there too).
FACE_MODES = MODES
FACE_VISIBILITIES = VISIBILITIES
MAX_FACE_PLANES = MAX_PLANES


def add_face_arguments(parser: argparse.ArgumentParser, default_count: int) -> None:
    """The face-plane flags, the same in ``scurve.py`` and this script."""
    g = parser.add_argument_group("face planes (autoencoder faces the mirror reflects)")
    g.add_argument("--face-planes", type=int, default=default_count, metavar="N",
                   help=f"number of face planes, 0 to {MAX_FACE_PLANES} "
                   f"(default {default_count})")
    src = g.add_mutually_exclusive_group()
    src.add_argument("--faces", type=Path, metavar="DIR",
                     help="take the pictures from this folder of PNG/JPEG files")
    src.add_argument("--decoder", type=Path, metavar="NPZ",
                     help="decode with this exported decoder (default: the shipped one)")
    g.add_argument("--face-mode", choices=FACE_MODES, default="normal",
                   help="latent points: VAE normal samples, the post's uniform cube, or an "
                   "interpolation path (default normal)")
    g.add_argument("--face-boundary", type=float, default=2.5, metavar="B",
                   help="upper bound b of the uniform cube (default 2.5)")
    g.add_argument("--face-seed", type=int, default=0, metavar="S",
                   help="fixes the latent points or the folder's choice (default 0)")
    g.add_argument("--face-layout", choices=FACE_LAYOUTS, default="camera",
                   help="camera: where the scene camera sees them in the mirror; or an arc "
                   "before the concave half, a row, a ring (default camera)")
    g.add_argument("--face-visibility", choices=FACE_VISIBILITIES, default="reflected",
                   help="reflected: seen only in the mirror, invisible to the camera "
                   "(Cycles); visible: ordinary planes (default reflected)")
    g.add_argument("--face-emission", type=float, default=1.0, metavar="E",
                   help="glow of the pictures, 0 for diffuse prints (default 1)")


def check_face_arguments(args: argparse.Namespace) -> None:
    """Validate the face-plane flags without Blender; raises :class:`UsageError`."""
    if not 0 <= args.face_planes <= MAX_FACE_PLANES:
        raise UsageError(f"--face-planes {args.face_planes} is out of range: "
                         f"0 to {MAX_FACE_PLANES}")
    if args.faces is not None and not args.faces.is_dir():
        raise UsageError(f"face folder {str(args.faces)!r} does not exist")
    if args.decoder is not None and not args.decoder.is_file():
        raise UsageError(f"decoder file {str(args.decoder)!r} does not exist")
    if args.decoder is not None:
        # Read it now (numpy only, a fraction of a second): a truncated or foreign file is
        # one line before Blender starts, not a traceback after the scene is built.
        from latent_faces import NumpyDecoder

        try:
            NumpyDecoder.load(args.decoder)
        except ValueError as exc:
            raise UsageError(f"--decoder: {exc}") from None
    check_limits(args, FACE_FLAGS)
    if args.face_mode == "interpolate" and 0 < args.face_planes < 2:
        raise UsageError("--face-mode interpolate needs --face-planes 2 or more")


def place_faces(context: Any, mirror: Any, args: argparse.Namespace) -> list[Any]:
    """Add ``args.face_planes`` face planes around ``mirror`` (the add-on must be registered).

    Raises
    ------
    ValueError
        From the add-on, naming the file at fault (a corrupt picture, a decoder of the
        wrong shape or version).
    """
    from blender_addon import face_planes

    if args.face_planes == 0:
        return []
    if args.faces is not None:
        faces = face_planes.folder_faces(args.faces, args.face_planes, args.face_seed)
    else:
        faces = list(face_planes.decode_faces(
            args.face_planes, decoder=args.decoder, mode=args.face_mode,
            boundary=args.face_boundary, seed=args.face_seed))
    planes = face_planes.add_face_planes(context, mirror, faces, layout=args.face_layout,
                                         emission=args.face_emission,
                                         visibility=args.face_visibility)
    if args.face_visibility == "reflected" and "EEVEE" in context.scene.render.engine:
        # EEVEE's screen-space reflections only show what the camera sees.
        print("note: EEVEE's reflections show only what the camera sees, so face planes "
              "hidden from it do not appear in the mirror: render with Cycles",
              file=sys.stderr)
    return planes


#: How a .blend begins: plain, or compressed with gzip (up to 2.x) or Zstandard (3.0+).
BLEND_MAGICS = (b"BLENDER", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")


def check_blend_file(path: Path) -> None:
    """Refuse (:class:`UsageError`) a ``--blend`` that is missing or not a .blend file."""
    if not path.is_file():
        raise UsageError(f"--blend: cannot open {str(path)!r}: no such file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(7)
    except OSError as exc:
        raise UsageError(f"--blend: cannot open {str(path)!r}: {exc.strerror}") from None
    if not head.startswith(BLEND_MAGICS):
        raise UsageError(f"--blend: {str(path)!r} is not a .blend file")


def make_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Add autoencoder face planes to an S-curve mirror "
                ".blend, headless.",
                epilog="Under Blender, open the file with `blender -b FILE -P ...` and put "
                "the arguments after '--'.")
    p.add_argument("--blend", type=Path, help="the .blend to open (not needed when Blender "
                   "was started with the file)")
    p.add_argument("--save", type=Path, help="write the result to this .blend (images packed)")
    p.add_argument("--render", type=Path, metavar="PNG", help="also render the scene camera's "
                   "view to this PNG with the file's render settings")
    add_face_arguments(p, default_count=6)
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse and validate without Blender; raises :class:`UsageError`."""
    args = make_parser().parse_args(list(argv))
    check_face_arguments(args)
    if args.face_planes == 0:
        raise UsageError("--face-planes 0 adds nothing: give 1 or more")
    if args.save is None and args.render is None:
        raise UsageError("nothing to write: give --save OUT.blend and/or --render OUT.png")
    if args.blend is not None:
        check_blend_file(args.blend)
    for path, suffix, flag in ((args.save, ".blend", "--save"), (args.render, ".png", "--render")):
        if path is not None:
            if path.suffix.lower() != suffix:
                raise UsageError(f"cannot write {str(path)!r}: {flag} must end in {suffix}")
            writable_folder(path.parent, repr(str(path)))
    return args


def run(args: argparse.Namespace) -> int:
    import bpy

    import blender_addon
    from blender_addon import stage
    from render_scenes import checkout

    if args.blend is not None:
        bpy.ops.wm.open_mainfile(filepath=str(args.blend.resolve()))
    elif not bpy.data.filepath:
        print(f"{PROG}: error: no .blend open: give --blend FILE or start Blender with it",
              file=sys.stderr)
        return 2
    # This checkout's add-on, not an installed copy (render_scenes.checkout).
    checkout.set_aside_installed()
    print(checkout.describe(PROG), file=sys.stderr, flush=True)
    blender_addon.register()
    try:
        mirror = stage.find_mirror(bpy.context)
        if mirror is None:
            print(f"{PROG}: error: {bpy.data.filepath!r} holds no S-curve mirror",
                  file=sys.stderr)
            return 2
        try:
            planes = place_faces(bpy.context, mirror, args)
        except ValueError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        print(f"{PROG}: placed {len(planes)} face planes around {mirror.name}", file=sys.stderr)
        outputs = [p for p in (args.save, args.render) if p is not None]
        # The .blend and the picture together or neither: a render that fails (a file set
        # up for a denoiser this Blender lacks, a signal) must not leave the .blend behind.
        with atomic_outputs(*outputs) as tmps:
            tmp_for = dict(zip(outputs, map(Path, tmps), strict=True))
            if args.save is not None:
                save_blend(bpy, args.save, into=str(tmp_for[args.save]))
            if args.render is not None:
                _fit_denoiser(bpy.context.scene)
                render_png(bpy, bpy.context.scene, args.render, into=str(tmp_for[args.render]))
        for path in outputs:
            print(f"{PROG}: wrote {path}", file=sys.stderr)
        return 0
    finally:
        # A class left registered makes bpy 4.2 crash and 4.5 hang at interpreter exit.
        blender_addon.unregister()


def _fit_denoiser(scene: Any) -> None:
    """Render without denoising when the file asks for a denoiser this Blender lacks
    (Debian's has no OpenImageDenoise), saying so: the render would fail otherwise. Only
    the render changes; a saved .blend keeps the file's settings."""
    from blender_addon import compat

    if scene.render.engine != "CYCLES" or not scene.cycles.use_denoising:
        return
    if compat.cycles_denoiser(scene.cycles) is None:
        scene.cycles.use_denoising = False
        print(f"{PROG}: note: this Blender has no OpenImageDenoise: rendering without "
              "denoising", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 2 on bad arguments or input (one line on stderr)."""
    return script_main(PROG, parse_args, run, f"blender -b FILE -P {PROG} -- ...", argv)


if __name__ == "__main__":
    sys.exit(main())
