"""The numpy decoder's speed: 16 faces from the shipped weights, against the decoder it replaced.

Run it in Blender's numpy (the issue's budget is 16 faces in <= 250 ms on numpy 1.26)::

    .venv-bpy45/bin/python bench/bench_decoder.py --json bench/results/decoder.json

Baseline (named ``per-tap``, measured in the same run, same weights and latents): the
decoder as shipped before issue 20 -- nearest 2x upsampling materialised, then every 3 x 3
conv as 9 matmuls, one per kernel tap, added at their shifts, and LeakyReLU by ``np.where``.
Its code is frozen below.  ``current`` is :meth:`latent_faces.NumpyDecoder.decode`. Both are
timed alternately, best of ``--repeats``, so load from other processes hits both alike; the
run is reported with the numpy version, the BLAS thread setting and the load average.

Also timed (issue 20): the ``"bilinear"`` last stage on its own, 16 maps of 48 × 48 × 32 to
96 × 96 RGB, as :func:`~latent_faces.numpy_decoder.upsample2_bilinear_conv3x3` computes it
against its two-step definition (bilinear upsampling materialised, then the 3 × 3 conv).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import best_of, write_result

from latent_faces import load_shipped_decoder, sample_latents
from latent_faces.numpy_decoder import (
    NumpyDecoder,
    conv3x3,
    pixel_shuffle2,
    upsample2,
    upsample2_bilinear,
    upsample2_bilinear_conv3x3,
)

# ---------------------------------------------------------------- the per-tap baseline (frozen)

def _leaky_where(x: np.ndarray, slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * np.float32(slope))


def _conv3x3_per_tap(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    bsz, h, wd, c_in = x.shape
    c_out = w.shape[1] // 9
    taps = w.reshape(c_in, 9, c_out).transpose(1, 0, 2).copy()
    flat = x.reshape(-1, c_in)
    full = np.zeros((bsz, h + 2, wd + 2, c_out), np.float32)
    for ky in range(3):
        for kx in range(3):
            full[:, 2 - ky:2 - ky + h, 2 - kx:2 - kx + wd] += (flat @ taps[3 * ky + kx]).reshape(
                bsz, h, wd, c_out)
    out = full[:, 1:h + 1, 1:wd + 1]
    out += b
    return out


def decode_per_tap(dec: NumpyDecoder, z: np.ndarray) -> np.ndarray:
    """The ``resup`` decode of issue 10 (the baseline), same arrays as ``dec``: upsampling
    materialised, every 3 × 3 conv per tap.  Issue 10's files ended in a pixel shuffle; for
    the later last stages and the refinement (format versions 3 and 4) the baseline applies
    the same method to their definitions."""
    a, s = dec.a, dec.slope
    up = {"nearest": upsample2, "bilinear": upsample2_bilinear}
    h = _leaky_where(z @ dec.fc_w + dec.fc_b, s)
    h = np.ascontiguousarray(
        h.reshape(len(z), dec.base_channels, dec.base, dec.base).transpose(0, 2, 3, 1))
    for i, st in enumerate(dec.stages):
        h = _leaky_where(_conv3x3_per_tap(up[dec.upsample](h), a[f"s{i}_conv_w"],
                                          a[f"s{i}_conv_b"]), s)
        for j in range(int(st["res_blocks"])):
            r = f"s{i}_r{j}_"
            t = _leaky_where(_conv3x3_per_tap(h, a[r + "w1"], a[r + "b1"]), s)
            h = _leaky_where(h + _conv3x3_per_tap(t, a[r + "w2"], a[r + "b2"]), s)
    if dec.final == "shuffle":
        h = pixel_shuffle2(_conv3x3_per_tap(h, a["out_w"], a["out_b"]))
    else:
        h = _conv3x3_per_tap(np.ascontiguousarray(
            up["nearest" if dec.final == "upconv" else "bilinear"](h)), a["out_w"], a["out_b"])
    if dec.refine:
        t = _leaky_where(_conv3x3_per_tap(np.ascontiguousarray(_leaky_where(h, s)),
                                          a["refine_w1"], a["refine_b1"]), s)
        h = h[..., :3] + _conv3x3_per_tap(np.ascontiguousarray(t), a["refine_w2"],
                                          a["refine_b2"])
    e = np.exp(-np.abs(h))
    return np.where(h >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.float32, copy=False)


# ---------------------------------------------------------------- the run

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=16, help="faces per decode (default 16)")
    ap.add_argument("--repeats", type=int, default=15, help="timed calls of each (best kept)")
    ap.add_argument("--json", type=Path,
                    help="write the result here (default: bench/results/decoder.json)")
    a = ap.parse_args(argv)

    dec = load_shipped_decoder()
    if dec.kind != "resup":
        raise SystemExit(f"the shipped decoder is {dec.kind!r}, this bench times 'resup'")
    z = sample_latents("normal", a.count, seed=0, z_dim=dec.z_dim)
    base_img, cur_img = decode_per_tap(dec, z), dec.decode(z)  # warm-up, and the outputs
    times: dict[str, float] = {"per-tap": float("inf"), "current": float("inf")}
    for _ in range(a.repeats):  # alternate, so both see the same machine load
        times["per-tap"] = min(times["per-tap"], best_of(lambda: decode_per_tap(dec, z), 1))
        times["current"] = min(times["current"], best_of(lambda: dec.decode(z), 1))
    rng = np.random.default_rng(0)
    h = rng.normal(size=(a.count, 48, 48, 32)).astype(np.float32)
    w = rng.normal(0, 0.1, (32, 27)).astype(np.float32)
    b = np.zeros(3, np.float32)
    stage = {"two-step": float("inf"), "low-res": float("inf")}
    for _ in range(a.repeats):
        stage["two-step"] = min(stage["two-step"],
                                best_of(lambda: conv3x3(upsample2_bilinear(h), w, b), 1))
        stage["low-res"] = min(stage["low-res"],
                               best_of(lambda: upsample2_bilinear_conv3x3(h, w, b), 1))
    result = {
        "what": f"decode {a.count} faces, shipped weights, best of {a.repeats}",
        "decoder": {"final": dec.final, "upsample": dec.upsample, "refine": dec.refine},
        "numpy": np.__version__, "python": platform.python_version(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "per_tap_ms": round(1000 * times["per-tap"], 1),
        "current_ms": round(1000 * times["current"], 1),
        "speedup": round(times["per-tap"] / times["current"], 2),
        "max_abs_diff": float(np.abs(cur_img - base_img).max()),
        "bilinear_stage_two_step_ms": round(1000 * stage["two-step"], 1),
        "bilinear_stage_ms": round(1000 * stage["low-res"], 1),
        "bilinear_stage_speedup": round(stage["two-step"] / stage["low-res"], 2),
    }
    print(f"numpy {result['numpy']}, OPENBLAS_NUM_THREADS={result['OPENBLAS_NUM_THREADS']}, "
          f"load {result['load_average_1min']}: decode {a.count} faces: per-tap (baseline) "
          f"{result['per_tap_ms']} ms, current {result['current_ms']} ms, "
          f"{result['speedup']}x; max abs difference {result['max_abs_diff']:.1e}; "
          f"bilinear last stage: two-step {result['bilinear_stage_two_step_ms']} ms, "
          f"low-res {result['bilinear_stage_ms']} ms, {result['bilinear_stage_speedup']}x")
    write_result("decoder", result, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
