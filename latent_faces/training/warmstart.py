"""Warm start: a torch decoder from an exported ``.npz`` (``train --init-decoder``).

An exported ``resup`` file holds the decoder with BatchNorm folded into its convs and,
usually, the fitted latent Gaussian folded into its first Linear layer (``prior.py``): it
maps ``n ~ N(0, I)`` to a face. Loaded into a :class:`~.models.ResUpDecoder` built with
``dec_norm="none"`` (no BatchNorm layers), the torch module computes exactly what the numpy
decoder does, and can be trained on: a new encoder is fitted against it (its KL term to
N(0, I) is then the right one, since the prior is already folded in), and the decoder can be
fine-tuned (e.g. with the adversarial term) without repeating the hours of its base run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..numpy_decoder import NumpyDecoder
from .models import ModelConfig, ResUpDecoder

__all__ = ["decoder_model_config", "grow_refine", "load_decoder_file", "shuffle_to_upconv"]


def decoder_model_config(path: str | Path, base: ModelConfig | None = None,
                         final: str | None = None, upsample: str | None = None,
                         refine: int | None = None) -> ModelConfig:
    """The model configuration whose decoder the file at ``path`` holds.

    The decoder's shape (z_dim, image size, channels, residual blocks, LeakyReLU slope) comes
    from the file's header, ``dec_norm`` is ``"none"``; the encoder's options (filters,
    dropout, variational) are taken from ``base`` (defaults: :class:`ModelConfig`'s); the last
    stage is the file's unless ``final`` says otherwise (``"upconv"`` from a ``"shuffle"``
    file: see :func:`shuffle_to_upconv`).

    Raises
    ------
    ValueError
        If the file is not a readable decoder file or not of kind ``"resup"``.
    """
    dec = NumpyDecoder.load(path)
    if dec.kind != "resup":
        raise ValueError(f"{path}: a {dec.kind!r} decoder; only 'resup' decoders can be "
                         f"loaded for training")
    h = dec.header
    base = base or ModelConfig()
    n_stages = len(h["stages"])
    enc = tuple(base.enc_filters)
    if len(enc) != n_stages + 1:
        raise ValueError(f"{path}: {n_stages} decoder stages need {n_stages + 1} encoder "
                         f"filters, not {enc}")
    return ModelConfig(z_dim=int(h["z_dim"]), variational=base.variational, enc_filters=enc,
                       dec_filters=tuple(int(s["channels"]) for s in h["stages"]),
                       leaky_slope=float(h["leaky_slope"]), dropout=base.dropout,
                       image_size=int(h["image_size"]), decoder="resup",
                       res_blocks=tuple(int(s["res_blocks"]) for s in h["stages"]),
                       fc_channels=int(h["base_channels"]), dec_norm="none",
                       final=final or str(h.get("final", "shuffle")),
                       upsample=upsample or str(h.get("upsample", "nearest")),
                       refine=int(h.get("refine", 0)) if refine is None else refine)


@torch.no_grad()
def load_decoder_file(decoder: ResUpDecoder, path: str | Path) -> dict:
    """Copy the arrays of the exported file at ``path`` into ``decoder`` (built with
    :func:`decoder_model_config`); returns the file's header.

    Raises
    ------
    ValueError
        If the decoder has BatchNorm layers (their statistics are folded into the file's
        convs) or its shapes differ from the file's.
    """
    if decoder.cfg.dec_norm != "none":
        raise ValueError(f"{path}: an exported decoder has its BatchNorm folded in; load it "
                         f"into a decoder built with dec_norm='none'")
    dec = NumpyDecoder.load(path)
    want = decoder_model_config(path, decoder.cfg, decoder.cfg.final, decoder.cfg.upsample,
                                decoder.cfg.refine)
    if want != decoder.cfg:
        raise ValueError(f"{path}: the file's decoder does not fit this model configuration")
    file_refine = int(dec.header.get("refine", 0))
    if file_refine and file_refine != decoder.cfg.refine:
        raise ValueError(f"{path}: the file's refinement has {file_refine} channels, this "
                         f"model's {decoder.cfg.refine}")
    a = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in dec.a.items()}

    def load(conv: torch.nn.Conv2d, name_w: str, name_b: str) -> None:
        # The file stores a 3 × 3 conv as (c_in, 9·c_out) in (c_in, ky, kx, c_out) order.
        conv.weight.copy_(a[name_w].reshape(conv.in_channels, 3, 3, -1).permute(3, 0, 1, 2))
        conv.bias.copy_(a[name_b])

    decoder.fc.weight.copy_(a["fc_w"].T)
    decoder.fc.bias.copy_(a["fc_b"])
    for i, st in enumerate(decoder.stages):
        load(st["conv"], f"s{i}_conv_w", f"s{i}_conv_b")
        for j, rb in enumerate(st["res"]):
            load(rb.conv1, f"s{i}_r{j}_w1", f"s{i}_r{j}_b1")
            load(rb.conv2, f"s{i}_r{j}_w2", f"s{i}_r{j}_b2")
    if file_refine:
        load(decoder.refine1, "refine_w1", "refine_b1")
        load(decoder.refine2, "refine_w2", "refine_b2")
    file_final = str(dec.header.get("final", "shuffle"))
    if file_final == decoder.cfg.final or {file_final, decoder.cfg.final} == {"upconv", "bilinear"}:
        # upconv and bilinear differ only in the upsampling before the same 3 × 3 conv.
        if file_refine == decoder.cfg.refine:
            load(decoder.out, "out_w", "out_b")
        else:  # a file without the refinement grows one (its RGB rows; the block adds 0)
            c_in = decoder.out.in_channels
            decoder.out.weight[:3].copy_(a["out_w"].reshape(c_in, 3, 3, -1).permute(3, 0, 1, 2))
            decoder.out.bias[:3].copy_(a["out_b"])
    elif file_final == "shuffle":
        c_in = decoder.out.in_channels
        w12 = a["out_w"].reshape(c_in, 3, 3, -1).permute(3, 0, 1, 2)
        w3, b3 = shuffle_to_upconv(w12.double(), a["out_b"].double())
        decoder.out.weight[:3].copy_(w3)
        decoder.out.bias[:3].copy_(b3)
    else:
        raise ValueError(f"{path}: a {file_final!r} last stage cannot start a "
                         f"{decoder.cfg.final!r} one")
    return dec.header


def grow_refine(state: dict, target: dict) -> dict:
    """A checkpoint's ``state`` without a full-resolution refinement, fitted to a model's
    ``target`` state dict with one: the old last conv becomes the new one's RGB rows, the
    rest (feature rows, the refinement, whose last conv is zero) keeps ``target``'s values,
    so the grown model decodes as the old one did.

    Raises
    ------
    ValueError
        If ``state`` already has refinement weights or its last conv is not 3-channel.
    """
    if any(k.startswith("decoder.refine") for k in state):
        raise ValueError("the checkpoint already has a refinement of another width")
    out = dict(state)
    for k in ("decoder.out.weight", "decoder.out.bias"):
        if k not in state or state[k].shape[0] != 3:
            raise ValueError(f"{k}: expected a 3-channel last conv to grow")
        grown = target[k].clone()
        grown[:3] = state[k]
        out[k] = grown
    out.update({k: v for k, v in target.items() if k.startswith("decoder.refine")})
    return out


# Nearest 2× then a 3 × 3 conv: output row 2y + i reads low-resolution row y + d with
# d = _ROW_OFFSET[i][ky] (index 0, 1, 2 for d = −1, 0, +1); columns alike.
_ROW_OFFSET = ((0, 1, 1), (1, 1, 2))


def shuffle_to_upconv(w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The "upconv" last stage closest to a "shuffle" one (least squares over the taps).

    A pixel-shuffle stage gives each output parity (i, j) of colour c its own 3 × 3 kernel
    at the low resolution, ``w[4c + 2i + j]``; nearest 2× + a 3 × 3 conv ``u[c]`` gives
    parity (i, j) the kernel whose tap (dy, dx) sums the ``u`` taps that land on it. The
    ``u`` minimising the squared difference over all four parities' kernels, and the mean of
    the four biases, start a decoder that cannot paint a 2-px grid where the shuffle did.

    Parameters
    ----------
    w : tensor, (12, C_in, 3, 3)
    b : tensor, (12,)

    Returns
    -------
    (tensor (3, C_in, 3, 3), tensor (3,)), float32
    """
    a = torch.zeros(4, 3, 3, 3, 3, dtype=torch.float64)  # parity, dy, dx ← ky, kx
    for i in (0, 1):
        for j in (0, 1):
            for ky in range(3):
                for kx in range(3):
                    a[2 * i + j, _ROW_OFFSET[i][ky], _ROW_OFFSET[j][kx], ky, kx] = 1.0
    a = a.reshape(36, 9)
    c_in = w.shape[1]
    # target rows (parity, dy, dx), columns (colour, c_in)
    t = w.double().reshape(3, 4, c_in, 9).permute(1, 3, 0, 2).reshape(36, 3 * c_in)
    u = torch.linalg.lstsq(a, t).solution  # (9, 3·C_in)
    u = u.reshape(3, 3, 3, c_in).permute(2, 3, 0, 1)
    return u.float().contiguous(), b.double().reshape(3, 4).mean(1).float()
