"""PNG frames (``frame_0001.png`` ...) to a small looping GIF for the README.

    .venv/bin/python tools/frames_to_gif.py out/animate docs/img/animate_sbend.gif --fps 8
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--fps", type=float, default=8.0)
    a = p.parse_args(argv)
    paths = sorted(a.folder.glob("frame_*.png"))
    if not paths:
        print(f"frames_to_gif.py: error: no frame_*.png in {a.folder}", file=sys.stderr)
        return 2
    frames = [Image.open(f).convert("RGB") for f in paths]
    # One palette for the whole sweep keeps the GIF small and free of palette flicker.
    palette = frames[len(frames) // 2].quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    quantised = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    tmp = a.out.with_name(f".{a.out.name}.tmp")
    # Forward then back, so the loop has no jump.
    sequence = quantised + quantised[-2:0:-1]
    sequence[0].save(tmp, format="GIF", save_all=True, append_images=sequence[1:],
                     duration=round(1000 / a.fps), loop=0, optimize=True)
    tmp.replace(a.out)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1024:.0f} KiB, {len(sequence)} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
