"""The default look, measured: the seed's grid with 0–3 subdivision levels against the
exact surface, in the seed's low view where an area light's reflection crosses the wall.

Each variant is rendered by ``render_scenes/scurve.py`` (same stage, camera and seed);
the reference is the same shape sampled finely (256 circle vertices, no subdivision:
the grid rows are exact, and one strip per half is exact along the wall because Grid
Fill's blend is linear there). The score is the RMS difference to the reference over
the 8-bit image (0–255), with the noise floor (the reference rendered with another
seed) alongside; the side-by-side crop of levels 0 and 3 goes to ``--png``.

    timeout 1800 .venv-bpy45/bin/python bench/bench_default_look.py \\
        --json bench/results/default_look.json --png docs/img/default_look.png
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from render_scenes import scurve  # noqa: E402


def _render(out: Path, extra: list[str], size: tuple[int, int], samples: int,
            camera: list[list[float]] | None) -> tuple[np.ndarray, list[list[float]]]:
    """Render one variant; ``camera`` (a world matrix) pins the view to the reference's,
    which the stage would otherwise refit to each variant's slightly different extent."""
    import bpy
    from mathutils import Matrix

    from render_scenes.common import render_png

    args = scurve.parse_args(["--preset", "blog-part2", "--camera", "low", "--out", str(out),
                              "--resolution", str(size[0]), str(size[1]),
                              "--samples", str(samples), *extra])
    with scurve.staged_scene(args) as (scene, _mirror):
        if camera is not None:
            scene.camera.matrix_world = Matrix(camera)
        matrix = [list(row) for row in scene.camera.matrix_world]
        render_png(bpy, scene, out)
    img = bpy.data.images.load(str(out))
    try:
        px = np.empty(img.size[0] * img.size[1] * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    # Display-referred 8-bit values, top row first.
    return np.round(px.reshape(img.size[1], img.size[0], 4)[::-1, :, :3] * 255.0), matrix


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resolution", type=int, nargs=2, default=(480, 270))
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--png", type=Path, default=None)
    a = p.parse_args()
    size = tuple(a.resolution)
    exact = ["--circle-vertices", "256", "--subdivision-levels", "0"]
    variants = {"exact": exact, "exact, seed 1": [*exact, "--seed", "1"]}
    variants.update({f"levels {k}": ["--subdivision-levels", str(k)] for k in range(4)})
    images: dict[str, np.ndarray] = {}
    camera = None
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, extra) in enumerate(variants.items()):
            images[name], matrix = _render(Path(tmp) / f"{i}.png", extra, size, a.samples,
                                           camera)
            camera = camera or matrix
        if a.png is not None:
            w = size[0]
            crop = np.s_[:, w // 4: 3 * w // 4]
            side = np.concatenate([images["levels 0"][crop], np.full((size[1], 4, 3), 255.0),
                                   images["levels 3"][crop]], axis=1).astype(np.uint8)
            from PIL import Image

            Image.fromarray(side).save(a.png)
    ref = images["exact"]
    rms = {name: float(np.sqrt(np.mean((img - ref) ** 2))) for name, img in images.items()
           if name != "exact"}
    for name, value in rms.items():
        print(f"{name:>14}: RMS {value:5.2f} / 255 against the exact surface")
    if a.json is not None:
        a.json.write_text(json.dumps({"resolution": size, "samples": a.samples,
                                      "rms_vs_exact": rms}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
