"""Evaluate a generator against the issue's targets, and plot a run's learning curves.

The sample metrics use the study's protocol (:mod:`latent_faces.training.study`):
``n_samples`` N(0, I) latents decoded, compared with real held-out faces in the 64-component
pixel-PCA space (PCA fitted on 250 reference faces, k-NN manifold of 250 others, k = 3), plus
the sharpness ratio (:func:`latent_faces.training.score.sharpness` of the samples ÷ that of
real faces, the lower of the full-resolution and the 2×-downsampled ratio).  Test
reconstruction MSE is per pixel in [0, 1] units on the synthetic test faces the training runs
evaluate on (index 10 000 000 on).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from scurve_geom.cli_common.atomic import write_atomically, write_text_atomically

from ..numpy_decoder import NumpyDecoder
from ..sampling import sample_latents
from ..sheet import save_png
from .checkpoints import load_model
from .export import export_checkpoint
from .models import to_images, to_tensor
from .score import (
    GRID_TOLERANCE,
    PixelPCA,
    diversity,
    grid_peaks,
    mean_power_spectrum,
    precision_recall,
    sharpness,
)
from .synth import generate_faces

__all__ = ["TARGETS", "combine_draws", "evaluate_decoder",
           "grid_metrics", "plot_curves", "recon_mse"]

# name → (threshold, "min" if the value must be >= threshold else "max"); issue 20's targets
# (issue 10's were recall 0.4, diversity 0.85, MSE 0.005)
TARGETS = {
    "precision": (0.8, "min"),
    "recall": (0.5, "min"),
    "diversity_ratio": (0.9, "min"),
    "sharpness_ratio": (0.7, "min"),
    "test_recon_mse": (0.004, "max"),
    "grid_peak_ratio": (GRID_TOLERANCE, "max"),
}
_REFERENCE_START = 30_000_000  # the study's reference faces
_TEST_START = 10_000_000  # the training runs' test faces


def sample_metrics(imgs: np.ndarray, n_real: int = 500) -> dict:
    """Precision, recall, diversity ratio and sharpness ratio of generated ``imgs``.

    Parameters
    ----------
    imgs : ndarray, (N, 96, 96, 3) float in [0, 1]
    n_real : int
        Reference faces: half fit the PCA, half form the real manifold.
    """
    real = generate_faces(n_real, seed=0, start=_REFERENCE_START).astype(np.float32) / 255
    pca = PixelPCA(64).fit(real[: n_real // 2])
    f_real = pca.transform(real[n_real // 2:])
    f = pca.transform(imgs)
    prec, rec = precision_recall(f_real, f)
    ref = real[n_real // 2:]
    s1 = sharpness(imgs) / sharpness(ref)
    s2 = sharpness(imgs, 2) / sharpness(ref, 2)
    # The target uses the lower of the two: full resolution sees fine blur but is inflated by
    # 2-px grid artefacts, 2× downsampled is blind to those (see score.sharpness).
    return {"precision": prec, "recall": rec,
            "diversity_ratio": diversity(f) / diversity(f_real),
            "sharpness_ratio": min(s1, s2), "sharpness_full_ratio": s1,
            "sharpness_2x_ratio": s2, "n_samples": len(imgs)}


def grid_metrics(decode, z_dim: int = 200, fundamental: int = 6, n: int = 256,
                 seed: int = 0) -> dict:
    """Grid artefacts of ``decode``'s N(0, I) samples, as ``tests/test_latent_spectrum.py``
    measures them (``n`` samples of ``seed`` against ``n`` reference faces).

    Returns
    -------
    dict
        ``grid_peak_ratio``: the largest sample peak over max(real peak, 1) at any grid
        frequency (:func:`~.score.grid_peaks`; the target is at most ``GRID_TOLERANCE``),
        ``grid_peak_at`` its (v, u), ``grid_excess_peaks`` {"v,u": [sample, real]} for every
        frequency over the tolerance.
    """
    real = grid_peaks(mean_power_spectrum(generate_faces(n, seed=0, start=_REFERENCE_START)),
                      fundamental)
    z = sample_latents("normal", n, seed, z_dim=z_dim)
    peaks = grid_peaks(mean_power_spectrum(np.asarray(decode(z))), fundamental)
    ratio = {f: p / max(real[f], 1.0) for f, p in peaks.items()}
    worst = max(ratio, key=lambda f: ratio[f])
    return {"grid_peak_ratio": ratio[worst], "grid_peak_at": list(worst),
            "grid_excess_peaks": {f"{v},{u}": [round(peaks[(v, u)], 3), round(real[(v, u)], 3)]
                                  for (v, u), r in ratio.items() if r > GRID_TOLERANCE}}


def recon_mse(model, n_test: int = 500, seed: int = 0) -> float:
    """Mean per-pixel squared error of ``model`` (eval mode, z = μ) on the test faces."""
    test = generate_faces(n_test, seed=seed, start=_TEST_START)
    model.eval()
    err = 0.0
    with torch.no_grad():
        for i in range(0, n_test, 100):
            x = to_tensor(test[i:i + 100])
            err += float(((model(x)[0] - x) ** 2).mean()) * len(x)
    return err / n_test


def evaluate_decoder(decode, n_samples: int = 100, seed: int = 0, z_dim: int = 200,
                     test_mse: float | None = None) -> dict:
    """Metrics of ``decode`` (latents (N, z_dim) → images (N, 96, 96, 3) in [0, 1]) on
    N(0, I) samples, with each target's pass/fail.

    Returns
    -------
    dict
        The metric values, ``"images"`` (the decoded samples) and ``"targets"``:
        ``{name: {"value", "target", "kind", "met"}}``.
    """
    imgs = np.asarray(decode(sample_latents("normal", n_samples, seed, z_dim=z_dim)))
    res = sample_metrics(imgs)
    if test_mse is not None:
        res["test_recon_mse"] = test_mse
    res["targets"] = _judge(res)
    res["images"] = imgs
    return res


def _judge(res: dict) -> dict:
    """``{name: {"value", "target", "kind", "met"}}`` for every target metric in ``res``."""
    return {k: {"value": res[k], "target": t, "kind": kind,
                "met": bool(res[k] >= t if kind == "min" else res[k] <= t)}
            for k, (t, kind) in TARGETS.items() if k in res}


def combine_draws(draws: list[dict]) -> dict:
    """One result from evaluations of the same decoder on several latent draws.

    Every float metric is the mean over the draws, the targets are judged on the means, and
    ``"draws"`` keeps each draw's floats (``"seed"`` included) to show the spread: near a
    target one draw of 100 samples can fall either side (sharpness moves by ~0.04 between
    draws).  Non-float entries (the grid peak's place, the excess peaks, the images) are the
    first draw's.

    Parameters
    ----------
    draws : list of dict
        Results of :func:`evaluate_decoder` (with :func:`grid_metrics` merged in), each with
        its ``"seed"``.
    """
    if not draws:
        raise ValueError("combine_draws needs at least one draw")
    res = dict(draws[0])
    floats = [k for k, v in res.items() if isinstance(v, float)]
    for k in floats:
        res[k] = float(np.mean([d[k] for d in draws]))
    res["targets"] = _judge(res)
    res["draws"] = [{"seed": d["seed"], **{k: d[k] for k in floats}} for d in draws]
    return res


def targets_markdown(res: dict) -> str:
    """A markdown table of the targets: metric, value, target, met."""
    draws = res.get("draws", [])
    spread = len(draws) > 1
    lines = ["| metric | value | target | met |", "|---|---|---|---|"]
    if spread:
        lines = [f"Means over {len(draws)} latent draws (seeds "
                 f"{', '.join(str(d['seed']) for d in draws)}), with the lowest and highest.",
                 "", "| metric | value | range | target | met |", "|---|---|---|---|---|"]
    for k, t in res["targets"].items():
        op = ">=" if t["kind"] == "min" else "<="
        span = ""
        if spread:
            vals = [d[k] for d in draws]
            span = f" {min(vals):.4g} – {max(vals):.4g} |"
        lines.append(f"| {k} | {t['value']:.4g} |{span} {op} {t['target']:g} | "
                     f"{'yes' if t['met'] else 'no'} |")
    return "\n".join(lines)


def read_history(run: str | Path) -> list[dict]:
    """Rows of a run's ``loss.csv``."""
    with open(Path(run) / "loss.csv") as f:
        return list(csv.DictReader(f))


def plot_curves(rows: list[dict], path: str | Path, title: str = "",
                evals: list[dict] | None = None) -> None:
    """Learning curves against images seen: test recon MSE (log scale, with the 0.005
    target), train/test loss, learning rate; ``evals`` (dicts with ``images_seen`` and sample
    metrics) adds the sample metrics of evaluated checkpoints with their targets."""
    seen = np.cumsum([int(r["images"]) for r in rows]) / 1000
    n_ax = 4 if evals else 3
    fig = Figure(figsize=(4 * n_ax, 3.2))
    ax = fig.subplots(1, n_ax)
    ax[0].plot(seen, [float(r["test_recon"]) for r in rows], "s-", ms=3, label="test")
    ax[0].plot(seen, [float(r["train_recon"]) for r in rows], "o-", ms=3, label="train")
    ax[0].axhline(TARGETS["test_recon_mse"][0], color="k", ls="--", lw=0.8, label="target")
    ax[0].set(yscale="log", xlabel="images seen (thousands)", ylabel="per-pixel MSE",
              title="reconstruction")
    ax[0].legend(fontsize=7)
    ax[1].plot(seen, [float(r["test_loss"]) for r in rows], "s-", ms=3, label="test")
    ax[1].plot(seen, [float(r["train_loss"]) for r in rows], "o-", ms=3, label="train")
    ax[1].set(yscale="log", xlabel="images seen (thousands)", ylabel="total loss", title="loss")
    ax[1].legend(fontsize=7)
    lr = [float(r["lr"]) if r.get("lr") else np.nan for r in rows]
    ax[2].plot(seen, lr, "-")
    ax[2].set(xlabel="images seen (thousands)", ylabel="learning rate", title="schedule")
    if evals:
        ev_seen = [e["images_seen"] / 1000 for e in evals]
        for k in ("precision", "recall", "diversity_ratio", "sharpness_ratio"):
            line = ax[3].plot(ev_seen, [e[k] for e in evals], "o-", ms=3, label=k)[0]
            ax[3].axhline(TARGETS[k][0], color=line.get_color(), ls=":", lw=0.8)
        ax[3].set(xlabel="images seen (thousands)", title="N(0, I) samples (dotted: target)",
                  ylim=(0, 1.3))
        ax[3].legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))


def write_report(res: dict, out: str | Path, extra: dict | None = None) -> None:
    """``metrics.json`` (without images), ``targets.md`` and ``samples.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in res.items() if k != "images"}
    data.update(extra or {})
    write_text_atomically(out / "metrics.json", json.dumps(data, indent=1))
    write_text_atomically(out / "targets.md", targets_markdown(res) + "\n")
    save_png(out / "samples.png", res["images"][:32], 8)


def _recon_sharpness(checkpoint: Path, n: int) -> dict:
    """Sharpness ratios of the model's reconstructions of ``n`` test faces: how much of the
    samples' blur is the decoder's, and how much comes from sampling between faces."""
    model, cfg = load_model(checkpoint)
    test = generate_faces(n, seed=cfg.seed, start=_TEST_START)
    with torch.no_grad():
        rec = to_images(model(to_tensor(test))[0])
    return {"recon_sharpness_full_ratio": sharpness(rec) / sharpness(test),
            "recon_sharpness_2x_ratio": sharpness(rec, 2) / sharpness(test, 2)}


def evaluate_run(run: str | Path, out: str | Path, decoder: str | None = None,
                 fit_prior: int = 5000, n_samples: int = 100, seed: int = 0,
                 threads: int = 1, temperature: float = 1.0, draws: int = 1) -> dict:
    """Evaluate a training run (or an exported decoder of it) against :data:`TARGETS`.

    Without ``decoder``, the run's current ``checkpoint.pt`` is copied to
    ``out/checkpoint.pt`` (a fixed snapshot: the run may still be writing) and exported to
    ``out/decoder.npz`` with the fitted latent Gaussian (``fit_prior`` images); with
    ``decoder``, that file is evaluated.  Samples are always decoded by the numpy decoder,
    i.e. exactly what ships.  The test reconstruction MSE is the run's logged ``test_recon`` of
    the decoder's epoch.  Appends the result to ``run/evals.jsonl`` and plots all evaluations
    of the run with its loss curves into ``out/curves.png``.
    """
    torch.set_num_threads(threads)
    run, out = Path(run), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if decoder is None:
        snap = out / "checkpoint.pt"
        write_atomically(snap, lambda tmp: shutil.copyfile(run / "checkpoint.pt", tmp))
        decoder = str(out / "decoder.npz")
        export_checkpoint(snap, decoder, fit_prior=fit_prior, temperature=temperature)
    dec = NumpyDecoder.load(decoder)
    meta = dec.header.get("meta", {})
    rows = read_history(run)
    epoch = int(meta.get("epochs_trained", len(rows)))
    if not 1 <= epoch <= len(rows):
        raise ValueError(f"{decoder}: trained {epoch} epochs, {run}/loss.csv has {len(rows)}")
    row = rows[epoch - 1]

    def decode(z: np.ndarray) -> np.ndarray:
        return np.concatenate([dec.decode(z[i:i + 50]) for i in range(0, len(z), 50)])

    own_snapshot = (out / "checkpoint.pt").is_file() and str(decoder) == str(out / "decoder.npz")
    test_mse = float(row["test_recon"])
    if meta.get("train_config", {}).get("recon_loss", "mse") != "mse":
        # the run logged its own reconstruction loss (L1, BCE): the target is per-pixel MSE
        if not own_snapshot:
            raise ValueError(f"{run} was trained with a non-MSE reconstruction loss: evaluate "
                             "its checkpoint (without --decoder) to measure the test MSE")
        model, cfg = load_model(out / "checkpoint.pt")
        test_mse = recon_mse(model, cfg.n_test, cfg.seed)
    results = []
    for s in range(seed, seed + draws):
        r = evaluate_decoder(decode, n_samples, s, dec.z_dim, test_mse)
        r.update(grid_metrics(decode, dec.z_dim, dec.base, seed=s), seed=s)
        results.append(r)
    res = combine_draws(results)
    if own_snapshot:
        res.update(_recon_sharpness(out / "checkpoint.pt", n_samples))
    info = {"run": str(run), "decoder": str(decoder), "epoch": epoch,
            "images_seen": int(sum(int(r["images"]) for r in rows[:epoch])),
            "cpu_hours": meta.get("cpu_hours"), "latent_prior": meta.get("latent_prior"),
            "seed": seed, "n_draws": draws}
    write_report(res, out, info)
    record = {**info, **{k: v for k, v in res.items() if k not in ("images", "targets")}}
    with open(run / "evals.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    evals = [json.loads(line) for line in (run / "evals.jsonl").read_text().splitlines()
             if line.strip()]
    evals = sorted({e["epoch"]: e for e in evals if e.get("seed") == seed
                    and e.get("n_draws", 1) == draws
                    and (e.get("latent_prior") or {}).get("temperature", 1.0) == 1.0}.values(),
                   key=lambda e: e["epoch"])
    plot_curves(rows, out / "curves.png", title=str(run), evals=evals)
    return res
