"""The post's latent-space experiment, as numbers and pictures.

For an (almost) AE and a VAE trained on the synthetic faces:

1. encode held-out faces and summarise the distribution of the z components;
2. decode points with components uniform in (0, b) for the post's boundaries b, and N(0, I)
   points; save a contact sheet per setting;
3. score every setting with the face-plausibility classifier, k-NN precision/recall and
   diversity (:mod:`latent_faces.training.score`), next to the same numbers for real faces
   and for the models' reconstructions of real faces;
4. walk straight lines between two encoded faces and score the path.

Outputs go to one folder: ``study.csv``, ``study.md``, ``scorer_validation.json``,
``z_stats.json`` and PNGs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from scurve_geom.cli_common.atomic import write_atomically, write_text_atomically

from ..sampling import sample_latents
from ..sheet import contact_sheet, save_png
from .checkpoints import load_model
from .face_scorer import FaceScorer
from .models import to_images, to_tensor
from .score import PixelPCA, diversity, precision_recall
from .synth import generate_faces

__all__ = ["BOUNDARIES", "run_study"]

BOUNDARIES = (0.5, 2.5, 5, 8, 10, 15, 20, 30, 50)
# Face index ranges disjoint from the autoencoders' train (0..) and test (10M..) faces.
_SCORER_TRAIN_START = 20_000_000
_REFERENCE_START = 30_000_000


def _decode(model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return to_images(model.decoder(torch.from_numpy(z)))


def _encode(model, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([model.encode(to_tensor(x[i:i + 100]))[0].numpy()
                               for i in range(0, len(x), 100)])


def _label_sheet(rows: list[tuple[str, np.ndarray]], path: Path, cols: int = 10,
                 palette: bool = True) -> None:
    """One labelled row of ``cols`` images per setting."""
    label_w = 110
    sheets = [contact_sheet(imgs[:cols], cols) for _, imgs in rows]
    h = sum(s.shape[0] for s in sheets)
    canvas = Image.new("RGB", (label_w + max(s.shape[1] for s in sheets), h), "white")
    draw = ImageDraw.Draw(canvas)
    y = 0
    for (label, _), s in zip(rows, sheets, strict=True):
        canvas.paste(Image.fromarray(s), (label_w, y))
        draw.text((4, y + s.shape[0] // 2 - 6), label, fill=(0, 0, 0))
        y += s.shape[0]
    if palette:  # 256 colours: a third of the size, the pictures are committed to docs
        canvas = canvas.quantize(256, dither=Image.Dither.NONE)
    write_atomically(path, lambda tmp: canvas.save(tmp, format="PNG", optimize=palette))


def _z_stats(z: np.ndarray) -> dict:
    q = np.percentile(z, [1, 5, 25, 50, 75, 95, 99])
    return {"mean": float(z.mean()), "std": float(z.std()),
            "component_std_mean": float(z.std(0).mean()),
            "percentiles_1_5_25_50_75_95_99": [round(float(v), 4) for v in q],
            "fraction_in_0_20": float(((z > 0) & (z < 20)).mean()),
            "fraction_negative": float((z < 0).mean()),
            "norm_mean": float(np.linalg.norm(z, axis=1).mean())}


def _plot_z(zs: dict[str, np.ndarray], path: Path) -> None:
    fig = Figure(figsize=(4 * len(zs), 3))
    ax = fig.subplots(1, len(zs))
    for a, (name, z) in zip(np.atleast_1d(ax), zs.items(), strict=True):
        a.hist(z.ravel(), bins=120, density=True, alpha=0.8, label="encoded test faces")
        t = np.linspace(-4, 4, 200)
        a.plot(t, np.exp(-t**2 / 2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1)")
        a.set(title=f"{name}: z components", xlabel="z_i", ylabel="density")
        a.legend(fontsize=7)
    fig.tight_layout()
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))


def _plot_table(rows: list[dict], path: Path) -> None:
    metrics = [("p_face_mean", "mean P(face)"), ("precision", "precision (k=3)"),
               ("recall", "recall (k=3)"), ("diversity_ratio", "diversity / real"),
               ("frac_plausible", "P(face)>0.5 and on manifold")]
    fig = Figure(figsize=(18, 3.3))
    axes = fig.subplots(1, 5)
    colours = {"AE": "tab:red", "VAE": "tab:blue"}
    for ax, (key, title) in zip(axes, metrics, strict=True):
        for model in ("AE", "VAE"):
            pts = [r for r in rows if r["model"] == model and r["setting"].startswith("uniform")]
            ax.plot([r["boundary"] for r in pts], [r[key] for r in pts], "o-",
                    color=colours[model], label=f"{model} uniform(0, b)")
            nrm = [r for r in rows if r["model"] == model and r["setting"] == "normal"]
            rec = [r for r in rows if r["model"] == model and r["setting"] == "reconstruction"]
            ax.axhline(nrm[0][key], color=colours[model], ls="--", label=f"{model} N(0, I)")
            ax.axhline(rec[0][key], color=colours[model], ls=":", label=f"{model} recon. of real")
        real = next(r for r in rows if r["setting"] == "real faces")
        ax.axhline(real[key], color="k", lw=0.8, label="real faces")
        ax.set(xscale="log", xlabel="boundary b", title=title, ylim=(-0.03, None))
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))


def run_study(ae_ckpt: str, vae_ckpt: str, out: str, n_samples: int = 100, seed: int = 0,
              threads: int = 2, n_real: int = 500, scorer_steps: int = 600,
              boundaries=BOUNDARIES, img_dir: str | None = None) -> list[dict]:
    """Run the whole study; returns the table rows (also written to ``out``).

    Parameters
    ----------
    ae_ckpt, vae_ckpt : str
        ``checkpoint.pt`` files of the (almost) AE and the VAE.
    out : str
        Output folder.
    n_samples : int
        Latent points per setting (the post used 100).
    seed : int
        Seed of latent sampling and the scorer.
    threads : int
        torch CPU threads.
    n_real : int
        Real held-out faces used for encoding, reconstructions and the k-NN manifold.
    scorer_steps : int
        Training steps of the plausibility classifier.
    boundaries : sequence of float
        The uniform-cube boundaries.
    img_dir : str, optional
        Folder for the small per-setting contact sheets (default ``out/sheets``).
    """
    torch.set_num_threads(threads)
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    imgp = Path(img_dir) if img_dir else outp / "sheets"
    imgp.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    models = {"AE": load_model(ae_ckpt), "VAE": load_model(vae_ckpt)}
    real = generate_faces(n_real, seed=0, start=_REFERENCE_START).astype(np.float32) / 255

    # 1. The plausibility classifier, trained on faces disjoint from everything else here.
    scorer = FaceScorer(seed=seed, threads=threads)
    cache = outp / f"scorer_s{seed}_n{scorer_steps}.pt"
    if cache.exists():  # the scorer does not depend on the autoencoders: reuse it
        scorer_losses = scorer.load(cache)
    else:
        scorer_faces = generate_faces(3000, seed=0, start=_SCORER_TRAIN_START)
        scorer_losses = scorer.fit(scorer_faces.astype(np.float32) / 255, steps=scorer_steps)
        scorer.save(cache, scorer_losses)
    validation = scorer.validate(real)
    validation["train_loss_every_100_steps"] = scorer_losses
    write_text_atomically(outp / "scorer_validation.json", json.dumps(validation, indent=1))
    print(f"scorer trained ({time.perf_counter() - t0:.0f} s): "
          + ", ".join(f"{k} acc {v['acc']:.2f}" for k, v in validation.items()
                      if isinstance(v, dict)), flush=True)

    pca = PixelPCA(64).fit(real[: n_real // 2])
    f_real = pca.transform(real[n_real // 2:])
    div_real = diversity(f_real)

    def score(name: str, setting: str, boundary, imgs: np.ndarray) -> dict:
        p = scorer.predict(imgs)
        f = pca.transform(imgs)
        prec, rec, inside = precision_recall(f_real, f, per_sample=True)
        # "Plausible face": the classifier says face AND the image lies inside the k-NN
        # manifold of real faces.  The classifier alone was seen (in the sheets) to accept
        # saturated, far-off-manifold head silhouettes; precision alone accepts one mean face.
        return {"model": name, "setting": setting, "boundary": boundary,
                "p_face_mean": float(p.mean()), "frac_face": float((p > 0.5).mean()),
                "precision": prec, "recall": rec, "diversity_ratio": diversity(f) / div_real,
                "frac_plausible": float(((p > 0.5) & inside).mean()), "n": len(imgs)}

    rows = [score("-", "real faces", None, real[n_real // 2:][:n_samples])]
    zs, z_stats, sheets = {}, {}, {}
    for name, (model, cfg) in models.items():
        z = _encode(model, real)
        zs[name] = z
        z_stats[name] = _z_stats(z)
        z_dim = cfg.model.z_dim
        recon = _decode(model, z)
        rows.append(score(name, "reconstruction", None, recon[n_real // 2:][:n_samples]))
        sheet_rows = [("real", real[n_real // 2:]), ("reconstruction", recon[n_real // 2:])]
        for b in boundaries:
            imgs = _decode(model, sample_latents("uniform", n_samples, seed, boundary=b,
                                                 z_dim=z_dim))
            rows.append(score(name, f"uniform b={b}", float(b), imgs))
            sheet_rows.append((f"U(0, {b})", imgs))
            save_png(imgp / f"{name.lower()}_uniform_b{b:g}.png", imgs[:10], 10, palette=True)
        imgs = _decode(model, sample_latents("normal", n_samples, seed, z_dim=z_dim))
        rows.append(score(name, "normal", None, imgs))
        sheet_rows.append(("N(0, I)", imgs))
        save_png(imgp / f"{name.lower()}_normal.png", imgs[:10], 10, palette=True)
        sheets[name] = sheet_rows
        _label_sheet(sheet_rows, outp / f"overview_{name.lower()}.png")
        print(f"{name} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    write_text_atomically(outp / "z_stats.json", json.dumps(z_stats, indent=1))
    _plot_z(zs, outp / "z_hist.png")
    _plot_table(rows, outp / "plausibility.png")

    # 4. Straight lines between pairs of encoded held-out faces, and the pixel cross-fade
    # baseline.  The sheet shows the first pair; the numbers cover ``n_pairs`` pairs.
    steps, n_pairs = 11, 20
    t = np.linspace(0, 1, steps, dtype=np.float32)
    held = real[n_real // 2:]
    pairs = [(held[2 * i], held[2 * i + 1]) for i in range(n_pairs)]
    interp: dict[str, dict[str, list[float]]] = {}
    first: dict[str, np.ndarray] = {}
    for kind in ["pixel cross-fade", *(f"{n} latent line" for n in models)]:
        p_all, inside_all = [], []
        for j, (a_img, b_img) in enumerate(pairs):
            if kind == "pixel cross-fade":
                tt = t[:, None, None, None]
                imgs = (1 - tt) * a_img + tt * b_img
            else:
                model, cfg = models[kind.split()[0]]
                za, zb = _encode(model, np.stack([a_img, b_img]))
                imgs = _decode(model, sample_latents("interpolate", steps, start=za, end=zb,
                                                     z_dim=cfg.model.z_dim))
            if j == 0:
                first[kind] = imgs
            p_all.append(scorer.predict(imgs))
            inside_all.append(precision_recall(f_real, pca.transform(imgs), per_sample=True)[2])
        p_all, inside_all = np.array(p_all), np.array(inside_all)
        interp[kind] = {"t": t.tolist(), "p_face_mean": p_all.mean(0).tolist(),
                        "p_face_min": p_all.min(0).tolist(),
                        "frac_plausible": ((p_all > 0.5) & inside_all).mean(0).tolist(),
                        "first_pair_p_face": p_all[0].tolist()}
    write_text_atomically(outp / "interpolation.json", json.dumps(interp, indent=1))
    _label_sheet(list(first.items()), outp / "interpolation.png", cols=steps)
    _plot_interp(interp, outp / "interpolation_score.png")

    keys = ["model", "setting", "boundary", "p_face_mean", "frac_face", "precision", "recall",
            "diversity_ratio", "frac_plausible", "n"]
    write_text_atomically(outp / "study.csv", "".join(
        ",".join(line) + "\n" for line in [keys, *(["" if r[k] is None else str(r[k])
                                                   for k in keys] for r in rows)]))
    md = ["| model | setting | mean P(face) | P(face)>0.5 | precision | recall | diversity/real "
          "| plausible (P>0.5 and on manifold) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['model']} | {r['setting']} | {r['p_face_mean']:.2f} | "
                  f"{r['frac_face']:.2f} | {r['precision']:.2f} | {r['recall']:.2f} | "
                  f"{r['diversity_ratio']:.2f} | {r['frac_plausible']:.2f} |")
    write_text_atomically(outp / "study.md", "\n".join(md) + "\n")
    print("\n".join(md))
    print(f"study done in {time.perf_counter() - t0:.0f} s")
    return rows


def _plot_interp(interp: dict[str, dict[str, list[float]]], path: Path) -> None:
    fig = Figure(figsize=(9, 3))
    ax = fig.subplots(1, 2)
    for k, v in interp.items():
        line = ax[0].plot(v["t"], v["p_face_mean"], "o-", label=f"{k} (mean)")[0]
        ax[0].plot(v["t"], v["p_face_min"], ":", color=line.get_color(), label=f"{k} (min)")
        ax[1].plot(v["t"], v["frac_plausible"], "o-", label=k)
    ax[0].set(xlabel="position t along the path", ylabel="P(face)", ylim=(-0.03, 1.03),
              title="P(face) over 20 pairs of faces")
    ax[1].set(xlabel="position t along the path", ylabel="fraction", ylim=(-0.03, 1.03),
              title="P(face)>0.5 and on manifold")
    ax[0].legend(fontsize=6)
    ax[1].legend(fontsize=6)
    fig.tight_layout()
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))
