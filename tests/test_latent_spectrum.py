"""Grid artefacts of the shipped decoder, from the mean power spectrum (numpy only).

The decoder upsamples a 6 × 6 map by 2 four times (nearest neighbour three times, then
bilinear: issue 20; the pixel shuffle it replaced painted a 2-px grid), so a grid it paints
has power at multiples of 6 cycles per image. Its N(0, I)
samples must have no peak there beyond what real (synthetic) faces have (issue 20).

A peak is measured as the power at a grid frequency over the mean power 2 bins around it
(:func:`grid_peaks`; about 1 where the spectrum is smooth). A sample peak counts when it
exceeds ``TOLERANCE`` × the real faces' value (at least 1) at the same frequency. The
tolerance is set by the estimator's own spread: two disjoint sets of 256 real faces differ
by up to 1.3× at these frequencies; both directions are checked below, on real faces and on
faint grids added to them.
"""

from __future__ import annotations

import numpy as np
import pytest

import latent_faces
from latent_faces.training.score import grid_peaks, mean_power_spectrum
from latent_faces.training.synth import generate_faces

N = 256
TOLERANCE = 1.5
_REFERENCE_START = 30_000_000  # the study's reference faces: no model trained on them


@pytest.fixture(scope="module")
def real_peaks() -> dict[tuple[int, int], float]:
    return grid_peaks(mean_power_spectrum(generate_faces(N, seed=0, start=_REFERENCE_START)), 6)


def excess_peaks(peaks: dict, real: dict) -> dict[tuple[int, int], tuple[float, float]]:
    """Grid frequencies where ``peaks`` stands out more than real faces allow: (sample, real)."""
    return {f: (round(p, 2), round(real[f], 2)) for f, p in peaks.items()
            if p > TOLERANCE * max(real[f], 1.0)}


def test_other_real_faces_have_no_excess_peak(real_peaks):
    other = generate_faces(N, seed=1, start=_REFERENCE_START)
    assert excess_peaks(grid_peaks(mean_power_spectrum(other), 6), real_peaks) == {}


@pytest.mark.parametrize("kind, period", [("checker", 2), ("stripes", 4), ("checker", 8)])
def test_a_grid_of_one_grey_level_is_found(real_peaks, kind, period):
    # One 8-bit level (1/255) of a 2-px checkerboard (a pixel shuffle's pattern), 4-px
    # stripes or an 8-px checkerboard (nearest upsampling earlier in the decoder).
    faces = generate_faces(N, seed=1, start=_REFERENCE_START).astype(np.float64) / 255
    yy, xx = np.mgrid[:96, :96] // (period // 2)
    sign = (yy + xx) % 2 if kind == "checker" else xx % 2
    grid = (2 * sign - 1) / 255
    peaks = grid_peaks(mean_power_spectrum(np.clip(faces + grid[..., None], 0, 1)), 6)
    assert excess_peaks(peaks, real_peaks)


def test_shipped_decoder_samples_have_no_grid_peaks(real_peaks):
    dec = latent_faces.load_shipped_decoder()
    z = latent_faces.sample_latents("normal", N, seed=0, z_dim=dec.z_dim)
    samples = np.concatenate([dec.decode(z[i:i + 64]) for i in range(0, N, 64)])
    assert dec.base == 6  # the grid frequencies above are multiples of the first map's size
    assert excess_peaks(grid_peaks(mean_power_spectrum(samples), dec.base), real_peaks) == {}
