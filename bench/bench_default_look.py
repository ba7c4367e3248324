"""The default look, measured: the seed's grid with 0–3 subdivision levels against the
exact surface, in the seed's low view where an area light's reflection crosses the wall.

Each variant is rendered by ``render_scenes/scurve.py`` (same stage, camera, seed and
camera matrix). Faceting is the RMS difference (8-bit image, 0–255) to the smooth
surface the variant approximates: for the bare grid (0 levels) the exact surface it
samples (256 circle vertices: the rows are exact, and one strip per half is exact along
the wall because Grid Fill's blend is linear there); for 1–3 levels the subdivision
limit, approximated by 5 levels. Subdivision also changes the shape (it rounds the
ends: the seed's look), which is why each variant is compared to its own smooth
counterpart. The noise floor is the exact surface rendered with another seed. The
side-by-side crop of 0 and 3 levels (the default) goes to ``--png``.

    timeout 1800 .venv-bpy45/bin/python bench/bench_default_look.py \\
        --json bench/results/default_look.json --png docs/img/default_look.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from timing import write_result  # noqa: E402

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
        w, h = img.size
        px = np.empty(w * h * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    # Display-referred 8-bit values, top row first.
    return np.round(px.reshape(h, w, 4)[::-1, :, :3] * 255.0), matrix


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
    variants.update({f"levels {k}": ["--subdivision-levels", str(k)] for k in (0, 1, 2, 3, 5)})
    images: dict[str, np.ndarray] = {}
    camera = None
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, extra) in enumerate(variants.items()):
            images[name], matrix = _render(Path(tmp) / f"{i}.png", extra, size, a.samples,
                                           camera)
            camera = camera or matrix
        if a.png is not None:
            w = size[0]
            h = size[1]
            # The upper middle: where the area light's reflection crosses the rows.
            crop = np.s_[h // 5: 3 * h // 4, w // 3: 5 * w // 6]
            rows = 3 * h // 4 - h // 5
            side = np.concatenate([images["levels 0"][crop], np.full((rows, 4, 3), 255.0),
                                   images["levels 3"][crop]], axis=1).astype(np.uint8)
            from PIL import Image

            Image.fromarray(side).save(a.png)
    def rms(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.sqrt(np.mean((x - y) ** 2)))

    facets = {"noise floor (exact, other seed)": rms(images["exact, seed 1"], images["exact"]),
              "levels 0 vs exact": rms(images["levels 0"], images["exact"])}
    for k in (1, 2, 3):
        facets[f"levels {k} vs levels 5"] = rms(images[f"levels {k}"], images["levels 5"])
    facets["levels 3 vs exact (shape change)"] = rms(images["levels 3"], images["exact"])
    for name, value in facets.items():
        print(f"{name:>34}: RMS {value:5.2f} / 255")
    write_result("default_look", {"resolution": size, "samples": a.samples, "rms": facets},
                 a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
