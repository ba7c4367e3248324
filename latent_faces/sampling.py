"""Latent points to decode: the post's uniform cube, the VAE prior, and straight paths."""

from __future__ import annotations

import numpy as np

__all__ = ["MODES", "sample_latents"]

MODES = ("normal", "uniform", "interpolate")


def sample_latents(mode: str, count: int, seed: int = 0, *, boundary: float = 1.0,
                   z_dim: int = 200, start=None, end=None) -> np.ndarray:
    """Draw latent vectors.

    Parameters
    ----------
    mode : {"normal", "uniform", "interpolate"}
        ``normal``: N(0, I), the VAE prior.  ``uniform``: every component uniform in
        ``(0, boundary)``, the post's experiment.  ``interpolate``: ``count`` evenly spaced points
        on the straight line from ``start`` to ``end`` (both ends included); missing ends are
        drawn from N(0, I) with ``seed``.
    count : int
        Number of vectors (≥ 1; ≥ 2 for ``interpolate``).
    seed : int
        Seed of the numpy generator.
    boundary : float
        Upper bound of the uniform cube (> 0).
    z_dim : int
        Latent dimension.
    start, end : array_like of shape (z_dim,), optional
        Path ends for ``interpolate``.

    Returns
    -------
    ndarray, (count, z_dim) float32
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if z_dim < 1:
        raise ValueError(f"z_dim must be >= 1, got {z_dim}")
    rng = np.random.default_rng(seed)
    if mode == "normal":
        z = rng.standard_normal((count, z_dim))
    elif mode == "uniform":
        if not boundary > 0:
            raise ValueError(f"boundary must be > 0, got {boundary}")
        z = rng.uniform(0.0, boundary, (count, z_dim))
    elif mode == "interpolate":
        if count < 2:
            raise ValueError("interpolate needs count >= 2")
        a = rng.standard_normal(z_dim) if start is None else np.asarray(start, np.float64)
        b = rng.standard_normal(z_dim) if end is None else np.asarray(end, np.float64)
        if a.shape != (z_dim,) or b.shape != (z_dim,):
            raise ValueError(f"start and end must have shape ({z_dim},)")
        t = np.linspace(0.0, 1.0, count)[:, None]
        z = (1 - t) * a + t * b
    else:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    return z.astype(np.float32)
