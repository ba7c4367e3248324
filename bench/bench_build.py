"""Building the ``smooth`` mirror at about a million vertices: time, memory, and the floor.

    python bench/bench_build.py [--vertices 1000000] [--repeat 15] [--json FILE]

Baseline measured in the same run: a plain copy of arrays as large as the output (its
vertices, faces and UVs), i.e. the memory bandwidth a builder that writes each output
byte once cannot beat. Peak memory is traced with ``tracemalloc`` (numpy reports its
buffers to it) and compared with the output's own size. Writes bench/results/build.json.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import write_result

from scurve_geom import build_grid, preset


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vertices", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", type=Path, help="default: bench/results/build.json")
    args = ap.parse_args()

    # rows x columns ~ vertices with the smooth preset's 1:2 aspect (rows = cv/2 + 1).
    segments = round(math.sqrt(args.vertices / 2.0) / 2.0) * 2
    params = preset("smooth", circle_vertices=2 * segments, length_segments=segments)
    mesh = build_grid(params)
    out_bytes = mesh.vertices.nbytes + mesh.faces.nbytes + mesh.uv.nbytes

    build_best, build_median = best_of(lambda: build_grid(params), args.repeat)
    src = np.ones(out_bytes // 8)
    copy_best, copy_median = best_of(lambda: src.copy(), args.repeat)

    tracemalloc.start()
    build_grid(params)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n = mesh.n_vertices
    print(f"smooth preset at {n:,} vertices ({params.rows} rows x {params.columns} columns), "
          f"numpy {np.__version__}, best of {args.repeat}\n")
    print("| what | best | median | ratio to copy floor |")
    print("|---|---|---|---|")
    print(f"| build_grid (vertices, faces, UVs) | {build_best * 1e3:.1f} ms | "
          f"{build_median * 1e3:.1f} ms | {build_best / copy_best:.1f}x |")
    print(f"| copy of {out_bytes / 1e6:.0f} MB (memory-bandwidth floor) | "
          f"{copy_best * 1e3:.1f} ms | {copy_median * 1e3:.1f} ms | 1.0x |")
    print(f"\nthroughput: {n / build_best / 1e6:.1f} M vertices/s")
    print(f"peak traced memory: {peak / 1e6:.0f} MB = {peak / out_bytes:.2f}x the output arrays "
          f"({out_bytes / 1e6:.0f} MB)")
    write_result("build", {
        "preset": "smooth", "vertices": n, "repeat": args.repeat,
        "build_best_ms": build_best * 1e3, "build_median_ms": build_median * 1e3,
        "copy_mb": out_bytes / 1e6, "copy_best_ms": copy_best * 1e3,
        "copy_median_ms": copy_median * 1e3, "build_over_copy": build_best / copy_best,
        "vertices_per_s_m": n / build_best / 1e6, "peak_over_output": peak / out_bytes,
    }, args.json)


if __name__ == "__main__":
    main()
