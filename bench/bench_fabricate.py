"""Fabrication of the kapoor wall at the default plate: seconds to the full report.

    python bench/bench_fabricate.py [--repeat 3] [--json bench/results/fabricate.json]

Measures, in one run on the same machine:

* the whole command ``python -m scurve_geom.fabricate --preset kapoor --out DIR``
  (interpreter start, imports, 12 panels flattened, 12 DXF, nesting SVG + PNG, strain map,
  JSON), wall seconds, best of ``--repeat``;
* the named baseline: ``python -m scurve_geom --preset kapoor --out mirror.glb``, the
  same wall exported as the render mesh (interpreter, imports, build, glTF write);
* in-process: :func:`fabricate` (cuts + libigl LSCM + ARAP) and the file writing;
* libigl LSCM alone on the same 12 panel meshes, against LSCM + ARAP: what the ARAP
  refinement costs and what it buys (largest flattening strain).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best_of, write_result  # noqa: E402

from scurve_geom import preset  # noqa: E402
from scurve_geom.fabricate import fabricate  # noqa: E402
from scurve_geom.fabricate.flatten import principal_stretches  # noqa: E402
from scurve_geom.fabricate.outputs import write_outputs  # noqa: E402


def _command(args: list[str], repeat: int) -> float:
    def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, *args], cwd=tmp, check=True,
                           capture_output=True, env={"PYTHONPATH": str(ROOT),
                                                     "PATH": "/usr/bin:/bin"})
    return best_of(run, repeat)


def _lscm_only(fab) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    import igl

    start = time.perf_counter()
    worst = 0.0
    for p in fab.panels:
        nu, nv = p.grid
        i1 = (nu - 1) * nv
        chord = float(np.linalg.norm(p.vertices[i1] - p.vertices[0]))
        uv, _ = igl.lscm(p.vertices, p.triangles, np.array([0, i1], dtype=np.int64),
                         np.array([[0.0, 0.0], [chord, 0.0]]))
        stretch, _, _ = principal_stretches(p.vertices, p.triangles, uv)
        worst = max(worst, float(np.abs(stretch - 1.0).max()))
    return time.perf_counter() - start, worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="default: bench/results/fabricate.json")
    args = ap.parse_args()

    full = _command(["-m", "scurve_geom.fabricate", "--preset", "kapoor", "--out", "fab"],
                    args.repeat)
    baseline = _command(["-m", "scurve_geom", "--preset", "kapoor", "--out", "mirror.glb"],
                        args.repeat)
    params = preset("kapoor")
    fab = fabricate(params)
    t_fab = best_of(lambda: fabricate(params), args.repeat)

    def write() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            write_outputs(fab, Path(tmp) / "fab")

    t_write = best_of(write, args.repeat)
    t_lscm, lscm_strain = min(_lscm_only(fab) for _ in range(args.repeat))
    arap_strain = max(p.flat.strain_max for p in fab.panels)
    result = {
        "preset": "kapoor", "plate_m": [2.0, 1.5], "panels": len(fab.panels),
        "triangles": int(sum(len(p.triangles) for p in fab.panels)),
        "full_report_s": full, "baseline_export_glb_s": baseline,
        "ratio_full_to_baseline": full / baseline,
        "fabricate_s": t_fab, "write_files_s": t_write,
        "lscm_only_s": t_lscm, "lscm_only_strain_max": lscm_strain,
        "lscm_arap_strain_max": arap_strain,
    }
    print(f"kapoor, plate 2 x 1.5 m: {len(fab.panels)} panels, {result['triangles']} triangles")
    print(f"  full report (command, best of {args.repeat}) {full:6.2f} s")
    print(f"  baseline: export the mirror as .glb   {baseline:6.2f} s   "
          f"ratio {full / baseline:.1f}x")
    print(f"  in process: fabricate {t_fab:.2f} s, write files {t_write:.2f} s")
    print(f"  libigl LSCM alone {t_lscm:.2f} s, largest strain {100 * lscm_strain:.2f} %; "
          f"LSCM + ARAP {100 * arap_strain:.2f} %")
    write_result("fabricate", result, args.json)


if __name__ == "__main__":
    main()
