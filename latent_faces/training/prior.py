"""Ex-post latent density: fit a Gaussian to the encoded training faces, fold it into the decoder.

A VAE trained with a small KL weight (sharp reconstructions) has an aggregate posterior that is
far from N(0, I): N(0, I) samples then land off the data and decode to mush.  Fitting a
full-covariance Gaussian N(m, C) to the encodings and sampling from it instead (Ghosh et al.
2020, "From variational to deterministic autoencoders", ex-post density estimation) restores
sample quality.  Because the decoder starts with a Linear layer, the map
``z = m + L·n`` (``C = L·Lᵀ``) is folded into it: the exported decoder then takes
``n ~ N(0, I)`` like any other, and the Blender side needs no change.

The moment-matched aggregate posterior of a VAE is ``N(mean(μ), Cov(μ) + mean(diag σ²))``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .models import to_tensor

__all__ = ["fit_latent_gaussian", "fold_latent_gaussian"]


def fit_latent_gaussian(model, images: np.ndarray, batch: int = 250) -> dict:
    """Mean and covariance of the aggregate posterior of ``images`` under ``model``.

    Parameters
    ----------
    model : latent_faces.training.models.ConvAutoencoder
        Used in eval mode.
    images : ndarray, (N, 96, 96, 3) uint8

    Returns
    -------
    dict
        ``mean`` (z,) float64, ``cov`` (z, z) float64, ``n_images`` int.
    """
    model.eval()
    mus, variances = [], []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            mu, logvar = model.encode(to_tensor(images[i:i + batch]))
            mus.append(mu.double().numpy())
            variances.append(np.zeros_like(mus[-1]) if logvar is None
                             else logvar.double().exp().numpy())
    mu = np.concatenate(mus)
    cov = np.cov(mu, rowvar=False) + np.diag(np.concatenate(variances).mean(0))
    return {"mean": mu.mean(0), "cov": cov, "n_images": len(mu)}


def fold_latent_gaussian(decoder, mean: np.ndarray, cov: np.ndarray):
    """Copy of ``decoder`` whose input ``n ~ N(0, I)`` is mapped to ``z = mean + L·n`` first.

    ``L`` is the Cholesky factor of ``cov`` (a tiny ridge is added if ``cov`` is singular).
    The fc layer ``W·z + b`` becomes ``(W·L)·n + (W·mean + b)``.

    Parameters
    ----------
    decoder : torch module with an ``fc`` Linear layer taking z
    mean : ndarray, (z_dim,)
    cov : ndarray, (z_dim, z_dim), symmetric positive semi-definite
    """
    cov = np.asarray(cov, np.float64)
    ridge = 0.0
    for _ in range(8):
        try:
            chol = np.linalg.cholesky(cov + ridge * np.eye(len(cov)))
            break
        except np.linalg.LinAlgError:
            ridge = max(ridge * 10, 1e-8 * float(np.trace(cov)) / len(cov))
    else:
        raise ValueError("latent covariance is not positive semi-definite")
    out = copy.deepcopy(decoder)
    with torch.no_grad():
        w = out.fc.weight.double()
        out.fc.bias.copy_(out.fc.bias.double() + w @ torch.from_numpy(np.asarray(mean,
                                                                               np.float64)))
        out.fc.weight.copy_(w @ torch.from_numpy(chol))
    return out
