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

__all__ = ["decoder_model_config", "load_decoder_file"]


def decoder_model_config(path: str | Path, base: ModelConfig | None = None) -> ModelConfig:
    """The model configuration whose decoder the file at ``path`` holds.

    The decoder's shape (z_dim, image size, channels, residual blocks, LeakyReLU slope) comes
    from the file's header, ``dec_norm`` is ``"none"``; the encoder's options (filters,
    dropout, variational) are taken from ``base`` (defaults: :class:`ModelConfig`'s).

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
                       fc_channels=int(h["base_channels"]), dec_norm="none")


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
    want = decoder_model_config(path, decoder.cfg)
    if want != decoder.cfg:
        raise ValueError(f"{path}: the file's decoder does not fit this model configuration")
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
    load(decoder.out, "out_w", "out_b")
    return dec.header
