"""Benchmark of latent_faces: training throughput and numpy-vs-torch decoding.

Run: ``.venv/bin/python bench/bench_train.py [--threads 2] [--batches 6] [--json FILE]``.

Prints the synthetic-face generation rate and, for the reference VAE (``foster``) and the
shipped generator's architecture (``resup``): training images/s (forward + backward + Adam
step, batch 32, 96 × 96, z 200), and the time to decode 16 faces with the torch decoder and
with the numpy decoder (same weights, BatchNorm folded), and their ratio. Writes the numbers
to ``bench/results/train.json`` (or ``--json``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import write_result


def _best(fn, repeat: int) -> float:
    fn()  # warm-up: first calls allocate and pick kernels
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--arch", nargs="+", choices=["foster", "resup"],
                    default=["foster", "resup"])
    ap.add_argument("--json", type=Path, help="default: bench/results/train.json")
    a = ap.parse_args()

    from latent_faces import NumpyDecoder, sample_latents, shipped_decoder_path
    from latent_faces.training.synth import generate_faces

    t = time.perf_counter()
    faces = generate_faces(256, seed=0)
    dt = time.perf_counter() - t
    print(f"synthetic faces: {256 / dt:.0f} faces/s ({1000 * dt / 256:.1f} ms/face)")
    result: dict = {"threads": a.threads, "batches": a.batches, "batch_size": a.batch_size,
                    "synthetic_faces_per_s": round(256 / dt, 1),
                    "synthetic_ms_per_face": round(1000 * dt / 256, 2)}

    import torch

    from latent_faces.training.export import export_decoder
    from latent_faces.training.models import ConvAutoencoder, ModelConfig, loss_terms, to_tensor
    from latent_faces.training.warmstart import decoder_model_config

    torch.set_num_threads(a.threads)
    # The reference network, and the shipped generator's architecture as its file's header
    # gives it (as train --init-decoder builds it: BatchNorm folded, the last stage and
    # refinement the file's).
    archs = {"foster": ModelConfig(),
             "resup": decoder_model_config(shipped_decoder_path(), ModelConfig(dropout=0.0))}
    for name in a.arch:
        torch.manual_seed(0)
        model = ConvAutoencoder(archs[name])
        opt = torch.optim.Adam(model.parameters(), lr=5e-4)
        x = to_tensor(faces[: a.batch_size])

        def step(model=model, opt=opt, x=x):
            recon, mu, logvar = model(x)
            loss = loss_terms(recon, x, mu, logvar)[0]
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        t = time.perf_counter()
        for _ in range(a.batches):
            step()
        dt = time.perf_counter() - t
        images_per_s = a.batches * a.batch_size / dt
        n_dec = sum(p.numel() for p in model.decoder.parameters())
        print(f"{name}: training (threads={a.threads}, batch {a.batch_size}): "
              f"{images_per_s:.1f} images/s; decoder {n_dec / 1e6:.2f} M "
              f"parameters")

        model.eval()
        with tempfile.TemporaryDirectory() as d:
            path = export_decoder(model.decoder, Path(d) / "dec.npz")
            size = path.stat().st_size
            dec = NumpyDecoder.load(path)
        z = sample_latents("normal", 16, seed=0, z_dim=dec.z_dim)
        zt = torch.from_numpy(z)

        def torch_decode(model=model, zt=zt):
            with torch.no_grad():
                return model.decoder(zt)

        t_torch = _best(torch_decode, 10)
        t_np = _best(lambda dec=dec, z=z: dec.decode(z), 10)
        with torch.no_grad():
            err = np.abs(dec.decode(z) - model.decoder(zt).numpy().transpose(0, 2, 3, 1)).max()
        print(f"{name}: decode 16 faces: torch {1000 * t_torch:.1f} ms, numpy "
              f"{1000 * t_np:.1f} ms, numpy/torch = {t_np / t_torch:.2f}, max abs diff "
              f"{err:.1e}; .npz {size / 1e6:.1f} MB")
        result[name] = {"train_images_per_s": round(images_per_s, 1),
                        "decoder_parameters_m": round(n_dec / 1e6, 3),
                        "npz_mb": round(size / 1e6, 2),
                        "torch_decode_16_ms": round(1000 * t_torch, 1),
                        "numpy_decode_16_ms": round(1000 * t_np, 1),
                        "numpy_over_torch": round(t_np / t_torch, 2),
                        "max_abs_diff": float(err)}
    if set(archs) <= set(a.arch):
        result["resup_over_foster_training"] = round(
            result["resup"]["train_images_per_s"] / result["foster"]["train_images_per_s"], 2)
    write_result("train", result, a.json)


if __name__ == "__main__":
    main()
