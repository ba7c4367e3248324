"""latent_faces: convolutional AE/VAE for 96×96 faces and a torch-free decoder for Blender.

This package is what runs in Blender (numpy only: the decoder, latent sampling, contact
sheets, the shipped weights); it never imports torch, Pillow or :mod:`latent_faces.training`,
the training side (data, models, training, export, evaluation, the study), which the
extension does not ship.  ``python -m latent_faces`` (:mod:`latent_faces.cli`) drives both.

Public API (stable for the Blender side)::

    path = latent_faces.shipped_decoder_path()
    dec = latent_faces.NumpyDecoder.load(path)          # ValueError on bad files
    z = latent_faces.sample_latents("normal", 16, seed=0, z_dim=dec.z_dim)
    imgs = dec.decode(z)                                # (16, 96, 96, 3) float32 in [0, 1]
    sheet = latent_faces.contact_sheet(imgs, cols=8)    # uint8 grid
"""

from __future__ import annotations

from pathlib import Path

from .numpy_decoder import FORMAT_VERSION, NumpyDecoder
from .sampling import sample_latents
from .sheet import contact_sheet

__all__ = [
    "FORMAT_VERSION",
    "NumpyDecoder",
    "contact_sheet",
    "load_shipped_decoder",
    "sample_latents",
    "shipped_decoder_path",
]

_SHIPPED = "vae_synthetic.npz"


def shipped_decoder_path() -> Path:
    """Path of the decoder shipped with the package (a VAE trained on the synthetic faces)."""
    return Path(__file__).resolve().parent / "weights" / _SHIPPED


def load_shipped_decoder() -> NumpyDecoder:
    """:class:`NumpyDecoder` for :func:`shipped_decoder_path`."""
    return NumpyDecoder.load(shipped_decoder_path())
