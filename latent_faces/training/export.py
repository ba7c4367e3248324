"""Export a trained torch decoder to the ``.npz`` format read by :mod:`numpy_decoder`.

Eval-mode BatchNorm is an affine map per channel, so it is folded into the transposed conv that
precedes it: ``w' = w · γ/√(σ²+ε)`` (per output channel), ``b' = (b − μ) · γ/√(σ²+ε) + β``.
Dropout is the identity in eval mode and disappears.  The same folding applies to the
``Conv2d`` + ``BatchNorm2d`` pairs of the ``resup`` decoder (weights (C_out, C_in, k, k)).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from scurve_geom.cli_common.atomic import write_atomically

from ..numpy_decoder import FORMAT_VERSION
from .checkpoints import model_from, read_checkpoint, run_summary
from .data import ImageFolderStream
from .prior import fit_latent_gaussian, fold_latent_gaussian
from .synth import generate_faces

__all__ = ["decoder_arrays", "export_decoder", "resup_arrays"]


def _fold(conv, bn=None):
    """Folded (w, b) in float64; ``w`` in the conv's own torch layout."""
    w = conv.weight.detach().double()
    b = conv.bias.detach().double()
    if isinstance(bn, torch.nn.BatchNorm2d):  # an Identity (dec_norm "none") folds to nothing
        scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
        shape = [1] * w.dim()
        shape[0 if isinstance(conv, torch.nn.Conv2d) else 1] = -1
        w = w * scale.view(shape)
        b = (b - bn.running_mean.double()) * scale + bn.bias.double()
    return w, b


def _conv_mat(w) -> np.ndarray:
    """Conv2d weight (C_out, C_in, 3, 3) → (C_in, 9·C_out) in (c_in, ky, kx, c_out) order."""
    c_out, c_in = w.shape[:2]
    return w.permute(1, 2, 3, 0).reshape(c_in, 9 * c_out).numpy().astype(np.float32)


def resup_arrays(decoder) -> dict[str, np.ndarray]:
    """Folded float32 arrays of a :class:`latent_faces.training.models.ResUpDecoder` (names as in
    :func:`latent_faces.numpy_decoder.resup_array_names`)."""
    arrs: dict[str, np.ndarray] = {}
    with torch.no_grad():
        arrs["fc_w"] = decoder.fc.weight.detach().cpu().numpy().T.astype(np.float32)
        arrs["fc_b"] = decoder.fc.bias.detach().cpu().numpy().astype(np.float32)
        for i, st in enumerate(decoder.stages):
            w, b = _fold(st["conv"], st["bn"])
            arrs[f"s{i}_conv_w"], arrs[f"s{i}_conv_b"] = _conv_mat(w), b.numpy().astype(
                np.float32)
            for j, rb in enumerate(st["res"]):
                for t, (conv, bn) in (("1", (rb.conv1, rb.bn1)), ("2", (rb.conv2, rb.bn2))):
                    w, b = _fold(conv, bn)
                    arrs[f"s{i}_r{j}_w{t}"] = _conv_mat(w)
                    arrs[f"s{i}_r{j}_b{t}"] = b.numpy().astype(np.float32)
        w, b = _fold(decoder.out)
        arrs["out_w"], arrs["out_b"] = _conv_mat(w), b.numpy().astype(np.float32)
        if decoder.cfg.refine:
            for t, conv in (("1", decoder.refine1), ("2", decoder.refine2)):
                w, b = _fold(conv)
                arrs[f"refine_w{t}"], arrs[f"refine_b{t}"] = _conv_mat(w), b.numpy().astype(
                    np.float32)
    return arrs


def decoder_arrays(decoder) -> dict[str, np.ndarray]:
    """Folded float32 arrays of a :class:`latent_faces.training.models.Decoder` (torch, any mode).

    Returns
    -------
    dict
        ``fc_w`` (z_dim, C·b·b), ``fc_b`` (C·b·b,), and per transposed conv ``i``:
        ``conv{i}_w`` (C_in, k·k·C_out) in (c_in, ky, kx, c_out) order and ``conv{i}_b`` (C_out,).
    """
    arrs: dict[str, np.ndarray] = {}
    with torch.no_grad():
        arrs["fc_w"] = decoder.fc.weight.detach().cpu().numpy().T.astype(np.float32)
        arrs["fc_b"] = decoder.fc.bias.detach().cpu().numpy().astype(np.float32)
        mods = list(decoder.deconv)
        i_conv = 0
        for j, m in enumerate(mods):
            if not isinstance(m, torch.nn.ConvTranspose2d):
                continue
            w = m.weight.detach().double()  # (C_in, C_out, k, k)
            b = m.bias.detach().double()
            nxt = mods[j + 1] if j + 1 < len(mods) else None
            if isinstance(nxt, torch.nn.BatchNorm2d):
                scale = nxt.weight.double() / torch.sqrt(nxt.running_var.double() + nxt.eps)
                w = w * scale[None, :, None, None]
                b = (b - nxt.running_mean.double()) * scale + nxt.bias.double()
            c_in, c_out, k, _ = w.shape
            arrs[f"conv{i_conv}_w"] = (w.permute(0, 2, 3, 1).reshape(c_in, k * k * c_out)
                                       .numpy().astype(np.float32))
            arrs[f"conv{i_conv}_b"] = b.numpy().astype(np.float32)
            i_conv += 1
    return arrs


def export_decoder(decoder, path: str | Path, meta: dict | None = None) -> Path:
    """Write ``decoder`` (a torch ``Decoder`` or ``ResUpDecoder``) to ``path`` as a
    version-stamped ``.npz`` (written to a temporary file, then renamed).

    The header records the format version, the decoder kind, z_dim, image size, the base
    feature map, the LeakyReLU slope, the layer structure and every array's shape, so a loader
    can reject a mismatched file; ``meta`` (training provenance) is stored under ``"meta"``.
    """
    cfg = decoder.cfg
    header: dict = {
        "format_version": FORMAT_VERSION,
        "decoder": cfg.decoder,
        "z_dim": cfg.z_dim,
        "image_size": cfg.image_size,
        "base": cfg.base,
        "leaky_slope": cfg.leaky_slope,
    }
    if cfg.decoder == "resup":
        arrs = resup_arrays(decoder)
        header["base_channels"] = cfg.c0
        header["stages"] = [{"channels": c, "res_blocks": n}
                            for c, n in zip(cfg.dec_filters, cfg.res_blocks, strict=True)]
        header["final"] = cfg.final
        header["upsample"] = cfg.upsample
        header["refine"] = cfg.refine
    else:
        arrs = decoder_arrays(decoder)
        header.update(base_channels=cfg.enc_filters[-1], channels=list(cfg.dec_filters),
                      kernel=3, stride=2, padding=1, output_padding=1,
                      n_conv=sum(1 for k in arrs if k.startswith("conv") and k.endswith("_w")))
    header["shapes"] = {k: list(v.shape) for k, v in arrs.items()}
    header["meta"] = meta or {}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, header=np.array(json.dumps(header)), **arrs)

    write_atomically(path, write)
    return path


def training_images(cfg, n: int) -> np.ndarray:
    """The first ``n`` training images of the run ``cfg`` (a ``TrainConfig``), uint8.

    Synthetic runs reuse the run's cached training array when it exists (same faces:
    indices 0..n-1 of the run's seed); folder runs read the first ``n`` train-split files.
    """
    if cfg.data is not None:
        stream = ImageFolderStream(cfg.data, "train", limit=n)
        return np.stack(list(stream.iter_images()))
    cache = Path(cfg.out) / "cache" / f"synth_train_s{cfg.seed}_n{cfg.n_train}.npy"
    if cache.exists() and cfg.n_train >= n:
        return np.load(cache, mmap_mode="r")[:n]
    return generate_faces(n, seed=cfg.seed, start=0)


def export_checkpoint(checkpoint: str | Path, path: str | Path, fit_prior: int = 0,
                      temperature: float = 1.0) -> dict:
    """Export a training checkpoint's decoder with its run provenance in the header.

    Parameters
    ----------
    checkpoint : path of a ``checkpoint.pt`` written by :func:`latent_faces.training.train.train`
    path : the ``.npz`` to write
    fit_prior : int
        If > 0, fit a Gaussian to the encodings of this many training images and fold it into
        the decoder (:mod:`latent_faces.prior`), so that N(0, I) inputs sample that Gaussian.
    temperature : float
        With ``fit_prior``: sample N(mean, temperature² · cov) instead (< 1: closer to the
        mean, sharper and less diverse).

    Returns
    -------
    dict
        The header's ``meta``: ``train_config``, ``sessions`` (command, epochs, CPU seconds,
        git commit of each training session), ``epochs_trained``, ``images_seen``,
        ``cpu_hours``, ``latent_prior``.
    """
    ck = read_checkpoint(checkpoint)
    model, cfg = model_from(ck)
    decoder = model.decoder
    prior: dict = {"kind": "standard-normal"}
    if fit_prior > 0:
        g = fit_latent_gaussian(model, training_images(cfg, fit_prior))
        decoder = fold_latent_gaussian(decoder, g["mean"], g["cov"] * temperature**2)
        eig = np.linalg.eigvalsh(g["cov"])
        prior = {"kind": "fitted-gaussian", "n_images": g["n_images"],
                 "temperature": temperature,
                 "images": "the run's first training images",
                 "mean_norm": float(np.linalg.norm(g["mean"])),
                 "cov_trace": float(np.trace(g["cov"])),
                 "cov_eig_max": float(eig[-1]), "cov_eig_min": float(eig[0])}
    meta = {"train_config": cfg.to_dict(), "checkpoint": str(checkpoint),
            **run_summary(ck.get("history", []), ck.get("sessions", [])),
            "latent_prior": prior}
    export_decoder(decoder, path, meta=meta)
    return meta
