"""Export a trained torch decoder to the ``.npz`` format read by :mod:`numpy_decoder`.

Eval-mode BatchNorm is an affine map per channel, so it is folded into the transposed conv that
precedes it: ``w' = w · γ/√(σ²+ε)`` (per output channel), ``b' = (b − μ) · γ/√(σ²+ε) + β``.
Dropout is the identity in eval mode and disappears.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .numpy_decoder import FORMAT_VERSION

__all__ = ["decoder_arrays", "export_decoder"]


def decoder_arrays(decoder) -> dict[str, np.ndarray]:
    """Folded float32 arrays of a :class:`latent_faces.models.Decoder` (torch, any mode).

    Returns
    -------
    dict
        ``fc_w`` (z_dim, C·b·b), ``fc_b`` (C·b·b,), and per transposed conv ``i``:
        ``conv{i}_w`` (C_in, k·k·C_out) in (c_in, ky, kx, c_out) order and ``conv{i}_b`` (C_out,).
    """
    import torch

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
    """Write ``decoder`` (a torch ``Decoder``) to ``path`` as a version-stamped ``.npz``.

    The header records the format version, z_dim, image size, the base feature map, the
    LeakyReLU slope and every array's shape, so a loader can reject a mismatched file.
    """
    cfg = decoder.cfg
    arrs = decoder_arrays(decoder)
    n_conv = sum(1 for k in arrs if k.startswith("conv") and k.endswith("_w"))
    header = {
        "format_version": FORMAT_VERSION,
        "z_dim": cfg.z_dim,
        "image_size": cfg.image_size,
        "base": cfg.base,
        "base_channels": cfg.enc_filters[-1],
        "channels": list(cfg.dec_filters),
        "kernel": 3,
        "stride": 2,
        "padding": 1,
        "output_padding": 1,
        "leaky_slope": cfg.leaky_slope,
        "n_conv": n_conv,
        "shapes": {k: list(v.shape) for k, v in arrs.items()},
        "meta": meta or {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, header=np.array(json.dumps(header)), **arrs)
    return path
