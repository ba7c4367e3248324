"""The post's training tasks as input corruptions: the target is always the clean image.

All functions take and return float32 arrays in [0, 1] of shape ``(B, H, W, 3)`` and draw
randomness only from the ``numpy.random.Generator`` passed in, so a seeded run is reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TASKS", "add_gaussian_noise", "corrupt", "drop_pixels", "to_grey"]

TASKS = ("reconstruct", "denoise", "dropout", "recolour")


def add_gaussian_noise(x: np.ndarray, rng: np.random.Generator, sigma: float = 0.3) -> np.ndarray:
    """Additive N(0, sigma²) pixel noise, clipped to [0, 1]."""
    return np.clip(x + rng.normal(0.0, sigma, x.shape).astype(np.float32), 0.0, 1.0)


def drop_pixels(x: np.ndarray, rng: np.random.Generator, fraction: float = 0.8) -> np.ndarray:
    """Set a random ``fraction`` of pixels (all three channels together) to black.

    The post's "~80 % obscured" case: 20 % of 9216 pixels still leaves ~1800 clean ones.
    """
    keep = rng.random(x.shape[:-1], dtype=np.float32) >= fraction
    return x * keep[..., None]


def to_grey(x: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma replicated to three channels (grey in, colour out)."""
    y = x @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(y[..., None], 3, axis=-1)


def corrupt(x: np.ndarray, task: str, rng: np.random.Generator, noise_sigma: float = 0.3,
            drop_fraction: float = 0.8) -> np.ndarray:
    """Network input for ``task`` from clean images ``x``.

    ``denoise`` adds Gaussian noise *and* drops 20 % of the pixels (the post combines
    "statistical noise and/or statistically dropped pixels"); ``dropout`` drops
    ``drop_fraction`` (80 %) of the pixels.
    """
    if task == "reconstruct":
        return x
    if task == "denoise":
        return drop_pixels(add_gaussian_noise(x, rng, noise_sigma), rng, 0.2)
    if task == "dropout":
        return drop_pixels(x, rng, drop_fraction)
    if task == "recolour":
        return to_grey(x)
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
